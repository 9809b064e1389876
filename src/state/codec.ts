import { z } from 'zod';
import { x509Summary } from '../audit/pem.js';
import type { Certificate, ChangeEvent, DeviceRef, PemContent, Snapshot } from '../domain/types.js';

/** A stored value that cannot be read back: bad JSON or the wrong shape. */
export class CorruptEntryError extends Error {
  constructor(what: string, problem: string) {
    super(`corrupt ${what}: ${problem}`);
    this.name = 'CorruptEntryError';
  }
}

/** A decoded snapshot entry: `{v, s}` in the store. */
export interface SnapshotEntry {
  readonly version: number;
  readonly snapshot: Snapshot;
}

const deviceSchema = z.object({
  orgId: z.string(),
  assetId: z.string().optional(),
  productKey: z.string().optional(),
  deviceKey: z.string().optional(),
});

/** A PemContent stored as `"unparseable"` or a tuple: no field names repeated per certificate. */
const pemSchema = z
  .union([
    z.literal('unparseable'),
    z
      .tuple([z.string(), z.number().nullable(), z.string(), z.string().regex(/^[0-9a-f]{64}$/), z.number(), z.number()])
      .transform(([keyAlgorithm, keyBits, signatureAlgorithm, fingerprintSha256, notBefore, notAfter]) =>
        x509Summary({ keyAlgorithm, keyBits, signatureAlgorithm, fingerprintSha256, notBefore, notAfter }),
      ),
  ])
  .optional();

const certificateSchema = z.object({
  certSN: z.string(),
  status: z.enum(['valid', 'revoked', 'expired']),
  notBefore: z.number().nullable(),
  notAfter: z.number(),
  issuer: z.string(),
  subject: z.string(),
  issueAuthority: z.string(),
  revoker: z.string(),
  revokerReason: z.string(),
  pem: pemSchema,
});

const snapshotSchema = z.object({
  device: deviceSchema,
  certificates: z.array(certificateSchema),
  queriedAt: z.number(),
});

const entrySchema = z.object({ v: z.number().int().min(1), s: snapshotSchema });

const eventSchema = z.object({
  type: z.enum(['added', 'removed', 'revoked', 'expired', 'renewed']),
  orgId: z.string(),
  assetId: z.string(),
  productKey: z.string(),
  deviceKey: z.string(),
  certSN: z.string(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  at: z.string(),
  revoker: z.string().optional(),
  revokerReason: z.string().optional(),
});

/**
 * `{"v":version,"s":snapshot}`. Only the fields of the domain types are written, so anything
 * else a caller's object carries (such as a raw PEM) never reaches the store.
 */
export function encodeSnapshotEntry(version: number, snapshot: Snapshot): string {
  return JSON.stringify({
    v: version,
    s: {
      device: pickDevice(snapshot.device),
      certificates: snapshot.certificates.map(pickCertificate),
      queriedAt: snapshot.queriedAt,
    },
  });
}

/** Throws CorruptEntryError naming the first problem. */
export function decodeSnapshotEntry(raw: string): SnapshotEntry {
  const entry = parse('snapshot entry', entrySchema, raw);
  return { version: entry.v, snapshot: entry.s };
}

export function encodeEvent(event: ChangeEvent): string {
  const { type, orgId, assetId, productKey, deviceKey, certSN, from, to, at, revoker, revokerReason } = event;
  return JSON.stringify({ type, orgId, assetId, productKey, deviceKey, certSN, from, to, at, revoker, revokerReason });
}

/** Throws CorruptEntryError naming the first problem. */
export function decodeEvent(raw: string): ChangeEvent {
  return parse('change event', eventSchema, raw);
}

function pickDevice({ orgId, assetId, productKey, deviceKey }: DeviceRef): DeviceRef {
  return { orgId, assetId, productKey, deviceKey };
}

function pickCertificate(certificate: Certificate): object {
  const { certSN, status, notBefore, notAfter, issuer, subject, issueAuthority, revoker, revokerReason, pem } = certificate;
  const picked = { certSN, status, notBefore, notAfter, issuer, subject, issueAuthority, revoker, revokerReason };
  return pem === undefined ? picked : { ...picked, pem: encodePem(pem) };
}

function encodePem(pem: PemContent): unknown {
  if (pem === 'unparseable') return pem;
  const { keyAlgorithm, keyBits, signatureAlgorithm, fingerprintSha256, notBefore, notAfter } = pem;
  return [keyAlgorithm, keyBits, signatureAlgorithm, fingerprintSha256, notBefore, notAfter];
}

function parse<T>(what: string, schema: z.ZodType<T>, raw: string): T {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new CorruptEntryError(what, 'not valid JSON');
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.map(String).join('.') || '(root)';
    throw new CorruptEntryError(what, `${path}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}
