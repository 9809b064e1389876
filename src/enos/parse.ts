import { z } from 'zod';
import { pemReader } from '../audit/pem.js';
import type { Certificate, CertificateStatus, DeviceRef } from '../domain/types.js';
import { wellFormed } from '../util/text.js';
import type { DevicePage } from './api.js';
import { apiFailure } from './failure.js';
import type { EnosApiError, Operation } from './outcome.js';
import type { HttpResponse } from './transport.js';

/** What the token service grants. */
export interface TokenGrant {
  readonly accessToken: string;
  /** Lifetime in seconds from the moment it was granted. */
  readonly expireSeconds: number;
}

/** 9999-12-31: any later epoch-ms value is not a date but garbage. */
const MAX_EPOCH_MS = 253_402_300_799_999;
const MAX_TEXT_CHARS = 4096;
const MAX_ID_CHARS = 256;
const MAX_TOKEN_LIFETIME_SECONDS = 366 * 24 * 3600;

const STATUS_BY_CODE: ReadonlyMap<unknown, CertificateStatus> = new Map([
  [0, 'valid'],
  [1, 'revoked'],
  [2, 'expired'],
]);

// Everything read is stored, exported and sent on: it must be well-formed Unicode.
const optionalId = z
  .string()
  .max(MAX_ID_CHARS)
  .transform(wellFormed)
  .nullish()
  .transform((value) => value || undefined);

/** Only the identifying fields are read: anything else (deviceSecret above all) is dropped. */
const deviceSchema = z
  .object({ assetId: optionalId, productKey: optionalId, deviceKey: optionalId })
  .refine((d) => d.assetId !== undefined || (d.productKey !== undefined && d.deviceKey !== undefined), {
    message: 'needs assetId, or productKey and deviceKey',
  });

const count = z.number().int().nonnegative();
const devicePageSchema = z.object({
  data: z.array(deviceSchema),
  pagination: z.object({ pageNo: count, pageSize: count, totalSize: count }),
});

const tokenDataSchema = z.object({
  accessToken: z.string().min(1).max(MAX_TEXT_CHARS),
  expire: z.number().positive().max(MAX_TOKEN_LIFETIME_SECONDS),
});

/** List Certificate answer → certificates, or the EnosApiError it stands for. */
export function parseCertificateList(response: HttpResponse): Certificate[] {
  const { data } = unwrap('list_certificates', response, 'code');
  if (!Array.isArray(data)) throw invalidCertificate('data', 'expected an array');
  const seen = new Set<string>();
  return data.map((raw: unknown, index) => {
    const certificate = readCertificate(raw, `data.${index}`);
    if (seen.has(certificate.certSN)) throw invalidCertificate(`data.${index}.certSN`, 'duplicate certSN');
    seen.add(certificate.certSN);
    return certificate;
  });
}

/**
 * One List Certificate entry, checked by hand rather than by a schema: it runs for every
 * certificate of every scan, where zod costs several times more. Messages name the expectation,
 * never the value.
 */
function readCertificate(raw: unknown, path: string): Certificate {
  if (!isRecord(raw)) throw invalidCertificate(path, 'expected an object');
  const status = STATUS_BY_CODE.get(raw.certStatus);
  if (status === undefined) throw invalidCertificate(`${path}.certStatus`, 'expected 0, 1 or 2');
  const notAfter = epochMs(raw.expireDate, `${path}.expireDate`);
  const effectiveDate = optional(raw.effectiveDate, (value) => epochMs(value, `${path}.effectiveDate`));
  // Older gateway versions spell it so.
  const effetiveDate = optional(raw.effetiveDate, (value) => epochMs(value, `${path}.effetiveDate`));
  const certificate: Certificate = {
    certSN: certSN(raw.certSN, `${path}.certSN`),
    status,
    notBefore: effectiveDate ?? effetiveDate ?? null,
    notAfter,
    issuer: text(raw.issuer, `${path}.issuer`),
    subject: text(raw.subject, `${path}.subject`),
    issueAuthority: text(raw.issueAuthority, `${path}.issueAuthority`),
    revoker: text(raw.revoker, `${path}.revoker`),
    revokerReason: text(raw.revokerReason, `${path}.revokerReason`),
  };
  // Never a reason to fail the device: at worst the audit reports it unparseable. Without a PEM
  // the certificate carries no `pem` field at all.
  const pem = pemReader.read(raw.cert);
  return pem === undefined ? certificate : { ...certificate, pem };
}

function certSN(value: unknown, path: string): string {
  if (typeof value === 'string' && value.length >= 1 && value.length <= MAX_ID_CHARS) return wellFormed(value);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  throw invalidCertificate(path, `expected a string of 1 to ${MAX_ID_CHARS} characters or a non-negative integer`);
}

function epochMs(value: unknown, path: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0 && value <= MAX_EPOCH_MS) return value;
  throw invalidCertificate(path, 'expected epoch milliseconds, a positive integer before year 10000');
}

/** null and absent both mean empty. */
function text(value: unknown, path: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string' && value.length <= MAX_TEXT_CHARS) return wellFormed(value);
  throw invalidCertificate(path, `expected a string of at most ${MAX_TEXT_CHARS} characters`);
}

function optional<T>(value: unknown, read: (value: unknown) => T): T | undefined {
  return value === undefined || value === null ? undefined : read(value);
}

function invalidCertificate(path: string, expected: string): EnosApiError {
  return apiFailure('list_certificates', 'invalid_response', `${path}: ${expected}`);
}

/** Search Device answer → one page of devices of `orgId`. */
export function parseDevicePage(orgId: string, response: HttpResponse): DevicePage {
  const body = unwrap('search_devices', response, 'code');
  const page = validate('search_devices', devicePageSchema, body, '');
  return {
    devices: page.data.map(
      (d): DeviceRef => ({
        orgId,
        ...(d.assetId !== undefined ? { assetId: d.assetId } : {}),
        ...(d.productKey !== undefined ? { productKey: d.productKey } : {}),
        ...(d.deviceKey !== undefined ? { deviceKey: d.deviceKey } : {}),
      }),
    ),
    ...page.pagination,
  };
}

/** Token service answer (`status`, not `code`) → the grant. */
export function parseTokenGrant(response: HttpResponse): TokenGrant {
  const body = unwrap('token', response, 'status');
  const data = validate('token', tokenDataSchema, body.data, 'data');
  return { accessToken: data.accessToken, expireSeconds: data.expire };
}

/**
 * The body of a successful answer. A non-zero API code wins whatever the HTTP status; without
 * one, a non-2xx status is the outcome; a 2xx answer without a code is malformed.
 */
function unwrap(operation: Operation, response: HttpResponse, codeField: 'code' | 'status'): Record<string, unknown> {
  const body = isRecord(response.json) ? response.json : undefined;
  const code = body?.[codeField];
  const hasCode = typeof code === 'number' && Number.isSafeInteger(code);
  if (hasCode && code !== 0) throw apiFailure(operation, `code_${code}`, messageOf(body));
  const httpOk = response.status >= 200 && response.status <= 299;
  if (!httpOk) throw apiFailure(operation, `http_${response.status}`, messageOf(body));
  if (!hasCode || body === undefined) throw apiFailure(operation, 'invalid_response', `${codeField}: missing`);
  return body;
}

function validate<T extends z.ZodType>(operation: Operation, schema: T, value: unknown, root: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = [root, ...(issue?.path ?? [])].filter((part) => part !== '').join('.');
  // zod's messages name the expected type, never the value, so no payload is echoed.
  throw apiFailure(operation, 'invalid_response', `${path || '(body)'}: ${issue?.message ?? 'invalid'}`);
}

function messageOf(body: Record<string, unknown> | undefined): string | undefined {
  const message = body?.msg ?? body?.message;
  return typeof message === 'string' ? message : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
