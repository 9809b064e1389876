import { z } from 'zod';
import type { Certificate, CertificateStatus, DeviceRef } from '../domain/types.js';
import type { DevicePage } from './api.js';
import { apiFailure } from './failure.js';
import type { Operation } from './outcome.js';
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

const STATUS_BY_CODE: Readonly<Record<0 | 1 | 2, CertificateStatus>> = { 0: 'valid', 1: 'revoked', 2: 'expired' };

const epochMs = z.number().int().positive().max(MAX_EPOCH_MS);
const text = z.string().max(MAX_TEXT_CHARS).nullish().transform((value) => value ?? '');
const optionalId = z
  .string()
  .max(MAX_ID_CHARS)
  .nullish()
  .transform((value) => value || undefined);

const certificateSchema = z
  .object({
    certSN: z.union([
      z.string().min(1).max(MAX_ID_CHARS),
      z.number().int().nonnegative().transform(String),
    ]),
    certStatus: z.union([z.literal(0), z.literal(1), z.literal(2)]),
    expireDate: epochMs,
    effectiveDate: epochMs.nullish(),
    // Older gateway versions spell it so.
    effetiveDate: epochMs.nullish(),
    issuer: text,
    subject: text,
    issueAuthority: text,
    revoker: text,
    revokerReason: text,
  })
  .transform(
    (raw): Certificate => ({
      certSN: raw.certSN,
      status: STATUS_BY_CODE[raw.certStatus],
      notBefore: raw.effectiveDate ?? raw.effetiveDate ?? null,
      notAfter: raw.expireDate,
      issuer: raw.issuer,
      subject: raw.subject,
      issueAuthority: raw.issueAuthority,
      revoker: raw.revoker,
      revokerReason: raw.revokerReason,
    }),
  );

const certificateListSchema = z.array(certificateSchema).superRefine((certificates, ctx) => {
  const seen = new Set<string>();
  certificates.forEach((certificate, index) => {
    if (seen.has(certificate.certSN)) {
      ctx.addIssue({ code: 'custom', path: [index, 'certSN'], message: 'duplicate certSN' });
    }
    seen.add(certificate.certSN);
  });
});

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
  const body = unwrap('list_certificates', response, 'code');
  return validate('list_certificates', certificateListSchema, body.data, 'data');
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
