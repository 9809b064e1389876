import { z } from 'zod';
import { x509Summary } from '../audit/pem.js';
import type { Certificate, ChangeEvent, DeviceRef, PemContent, Snapshot } from '../domain/types.js';
import { dnPattern, expandDn } from './compact-certificate.js';

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

const entrySchema = z.object({ v: z.number().int().min(1), s: z.record(z.string(), z.unknown()) });

/** Certificates as written before the compact form (still read: stores written by older versions). */
const legacyCertificateSchema = z.object({
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

const legacySnapshotSchema = z.object({
  device: deviceSchema,
  certificates: z.array(legacyCertificateSchema),
  queriedAt: z.number(),
});

const STATUSES = ['valid', 'revoked', 'expired'] as const;
/** In a certificate tuple, the issuer or subject of the certificate before it. */
const SAME_AS_PREVIOUS = 0;
const nameOrSame = z.union([z.string(), z.literal(SAME_AS_PREVIOUS)]);

/**
 * The compact form, about half the bytes: `{"queriedAt":ms,"d":[orgId,assetId,productKey,deviceKey],
 * "c":[[certSN,status,notBefore,notAfter,issuer,subject,issueAuthority,revoker?,revokerReason?,pem?],…]}`.
 * status is 0 valid, 1 revoked, 2 expired; issuer and subject are 0 when they equal the previous
 * certificate's, and the subject is a pattern over the device's own identifiers (as FleetView
 * keeps it); trailing empty fields are left out. `queriedAt` keeps its name: the commit script
 * reads it.
 */
const compactSnapshotSchema = z.object({
  queriedAt: z.number(),
  d: z.tuple([z.string(), z.string().nullable(), z.string().nullable(), z.string().nullable()]),
  c: z.array(
    z.tuple([
      z.string(),
      z.union([z.literal(0), z.literal(1), z.literal(2)]),
      z.number().nullable(),
      z.number(),
      nameOrSame,
      nameOrSame,
      z.string(),
      z.string().optional(),
      z.string().optional(),
      pemSchema,
    ]),
  ),
});

const EVENT_TYPES = ['added', 'removed', 'revoked', 'expired', 'renewed'] as const;

const legacyEventSchema = z.object({
  type: z.enum(EVENT_TYPES),
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

/** `[type,orgId,assetId,productKey,deviceKey,certSN,from,to,at,revoker?,revokerReason?]`; `at` in epoch ms when exact. */
const compactEventSchema = z.tuple([
  z.enum(EVENT_TYPES),
  z.string(),
  z.string(),
  z.string(),
  z.string(),
  z.string(),
  z.string().nullable(),
  z.string().nullable(),
  z.union([z.number(), z.string()]),
  z.string().optional(),
  z.string().optional(),
]);

/**
 * `{"v":version,"s":snapshot}` with the snapshot in the compact form. Only the fields of the
 * domain types are written, so anything else a caller's object carries (such as a raw PEM) never
 * reaches the store.
 */
export function encodeSnapshotEntry(version: number, snapshot: Snapshot): string {
  const { orgId, assetId, productKey, deviceKey } = snapshot.device;
  const certificates: unknown[] = [];
  let previous: Certificate | undefined;
  for (const cert of snapshot.certificates) {
    const issuer = previous !== undefined && cert.issuer === previous.issuer ? SAME_AS_PREVIOUS : cert.issuer;
    const subject = previous !== undefined && cert.subject === previous.subject ? SAME_AS_PREVIOUS : dnPattern(cert.subject, snapshot.device);
    const tuple: unknown[] = [cert.certSN, STATUSES.indexOf(cert.status), cert.notBefore, cert.notAfter, issuer, subject, cert.issueAuthority];
    const optional = [cert.revoker, cert.revokerReason, cert.pem === undefined ? undefined : encodePem(cert.pem)];
    const used = optional.findLastIndex((value) => value !== undefined && value !== '') + 1;
    for (let i = 0; i < used; i++) tuple.push(optional[i] ?? '');
    certificates.push(tuple);
    previous = cert;
  }
  const device = [orgId, assetId ?? null, productKey ?? null, deviceKey ?? null];
  return JSON.stringify({ v: version, s: { queriedAt: snapshot.queriedAt, d: device, c: certificates } });
}

/** Throws CorruptEntryError naming the first problem. Reads the compact and the older form. */
export function decodeSnapshotEntry(raw: string): SnapshotEntry {
  const what = 'snapshot entry';
  const entry = validate(what, entrySchema, parseJson(what, raw));
  if (isRecord(entry.s) && 'c' in entry.s) {
    const compact = validate(what, compactSnapshotSchema, entry.s, ['s']);
    return { version: entry.v, snapshot: expandSnapshot(compact) };
  }
  return { version: entry.v, snapshot: validate(what, legacySnapshotSchema, entry.s, ['s']) };
}

function expandSnapshot({ queriedAt, d, c }: z.infer<typeof compactSnapshotSchema>): Snapshot {
  const [orgId, assetId, productKey, deviceKey] = d;
  const device: DeviceRef = {
    orgId,
    ...(assetId !== null ? { assetId } : {}),
    ...(productKey !== null ? { productKey } : {}),
    ...(deviceKey !== null ? { deviceKey } : {}),
  };
  const certificates: Certificate[] = [];
  let previous: Certificate | undefined;
  for (const [certSN, status, notBefore, notAfter, issuer, subject, issueAuthority, revoker = '', revokerReason = '', pem] of c) {
    const cert: Certificate = {
      certSN,
      status: STATUSES[status],
      notBefore,
      notAfter,
      issuer: issuer === SAME_AS_PREVIOUS ? (previous?.issuer ?? '') : issuer,
      subject: subject === SAME_AS_PREVIOUS ? (previous?.subject ?? '') : expandDn(subject, device),
      issueAuthority,
      revoker,
      revokerReason,
      ...(pem !== undefined ? { pem } : {}),
    };
    certificates.push(cert);
    previous = cert;
  }
  return { device, certificates, queriedAt };
}

export function encodeEvent(event: ChangeEvent): string {
  const { type, orgId, assetId, productKey, deviceKey, certSN, from, to, at, revoker, revokerReason } = event;
  const ms = Date.parse(at);
  const tuple: unknown[] = [type, orgId, assetId, productKey, deviceKey, certSN, from, to, new Date(ms).toISOString() === at ? ms : at];
  if (revoker !== undefined || revokerReason !== undefined) tuple.push(revoker ?? '', revokerReason ?? '');
  return JSON.stringify(tuple);
}

/** Throws CorruptEntryError naming the first problem. Reads the compact and the older form. */
export function decodeEvent(raw: string): ChangeEvent {
  const what = 'change event';
  const value = parseJson(what, raw);
  if (!Array.isArray(value)) return validate(what, legacyEventSchema, value);
  const [type, orgId, assetId, productKey, deviceKey, certSN, from, to, at, revoker, revokerReason] = validate(what, compactEventSchema, value);
  return {
    type,
    orgId,
    assetId,
    productKey,
    deviceKey,
    certSN,
    from,
    to,
    at: typeof at === 'number' ? new Date(at).toISOString() : at,
    ...(revoker !== undefined ? { revoker } : {}),
    ...(revokerReason !== undefined ? { revokerReason } : {}),
  };
}

function encodePem(pem: PemContent): unknown {
  if (pem === 'unparseable') return pem;
  const { keyAlgorithm, keyBits, signatureAlgorithm, fingerprintSha256, notBefore, notAfter } = pem;
  return [keyAlgorithm, keyBits, signatureAlgorithm, fingerprintSha256, notBefore, notAfter];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(what: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new CorruptEntryError(what, 'not valid JSON');
  }
}

function validate<T>(what: string, schema: z.ZodType<T>, value: unknown, at: readonly string[] = []): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = [...at, ...(issue?.path.map(String) ?? [])].join('.') || '(root)';
    throw new CorruptEntryError(what, `${path}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}
