import { validateDetailed } from 'node-cron';
import { z } from 'zod';

const positiveInt = z.number().int().min(1);
const nonNegativeInt = z.number().int().min(0);
const nonEmpty = z.string().min(1);

export const deviceSchema = z
  .strictObject({
    orgId: nonEmpty,
    assetId: nonEmpty.optional(),
    productKey: nonEmpty.optional(),
    deviceKey: nonEmpty.optional(),
  })
  .superRefine((device, ctx) => {
    const byKeys = device.productKey !== undefined || device.deviceKey !== undefined;
    if (device.assetId === undefined && !(device.productKey && device.deviceKey)) {
      ctx.addIssue({ code: 'custom', message: 'needs assetId, or productKey and deviceKey' });
    } else if (byKeys && !(device.productKey && device.deviceKey)) {
      ctx.addIssue({ code: 'custom', message: 'productKey and deviceKey go together' });
    }
  });

const httpUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an http(s) URL');

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** Plain http to anything but loopback would send the signature in clear text. */
function isRemoteHttp(value: string): boolean {
  const url = URL.parse(value);
  return url !== null && url.protocol === 'http:' && !isLoopback(url.hostname);
}

const enosSchema = z
  .strictObject({
    baseUrl: httpUrl,
    appKey: nonEmpty.optional(),
    appKeyFile: nonEmpty.optional(),
    appSecret: nonEmpty.optional(),
    appSecretFile: nonEmpty.optional(),
    caFile: nonEmpty.optional(),
    requestTimeoutMs: positiveInt.default(10_000),
    concurrency: positiveInt.max(1024).default(8),
    maxRequestsPerSecond: z.number().min(0).default(20),
    maxAttempts: positiveInt.max(20).default(4),
    retryBaseDelayMs: nonNegativeInt.default(250),
    retryMaxDelayMs: nonNegativeInt.default(10_000),
  })
  .superRefine((enos, ctx) => {
    for (const name of ['appKey', 'appSecret'] as const) {
      const file = `${name}File` as const;
      if (enos[name] === undefined && enos[file] === undefined) {
        ctx.addIssue({ code: 'custom', path: [name], message: `is required (or ${file})` });
      } else if (enos[name] !== undefined && enos[file] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [name], message: `set ${name} or ${file}, not both` });
      }
    }
    if (isRemoteHttp(enos.baseUrl)) {
      ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: 'http is allowed only for loopback hosts; use https' });
    }
    if (enos.retryMaxDelayMs < enos.retryBaseDelayMs) {
      ctx.addIssue({ code: 'custom', path: ['retryMaxDelayMs'], message: 'must not be less than retryBaseDelayMs' });
    }
  });

const inventorySchema = z
  .strictObject({
    devices: z.array(deviceSchema).default([]),
    files: z.array(nonEmpty).default([]),
    discover: z
      .array(z.strictObject({ orgId: nonEmpty, expression: nonEmpty.optional() }))
      .default([]),
  })
  .prefault({})
  .superRefine((inventory, ctx) => {
    if (inventory.devices.length + inventory.files.length + inventory.discover.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'needs at least one of devices, files or discover' });
    }
  });

const cronExpression = nonEmpty.superRefine((expression, ctx) => {
  const { valid, errors } = validateDetailed(expression);
  if (!valid) {
    const detail = errors.map((e) => e.message).join('; ');
    ctx.addIssue({ code: 'custom', message: `not a valid cron expression${detail ? ` (${detail})` : ''}` });
  }
});

const timezone = nonEmpty.refine((zone) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'not a known IANA time zone');

const scheduleSchema = z
  .strictObject({
    cron: cronExpression.default('0 * * * *'),
    timezone: timezone.default('UTC'),
    runOnStart: z.boolean().default(true),
  })
  .prefault({});

const thresholdsSchema = z
  .strictObject({
    warningDays: z.number().min(0).default(30),
    criticalDays: z.number().min(0).default(7),
  })
  .prefault({})
  .superRefine((t, ctx) => {
    if (t.criticalDays >= t.warningDays) {
      ctx.addIssue({ code: 'custom', path: ['criticalDays'], message: 'must be less than warningDays' });
    }
  });

const redisUrl = z
  .string()
  .regex(/^rediss?:\/\/[^\s]+$/, 'must be a redis:// or rediss:// URL');

/** A master and its replicas watched by Redis Sentinel; ioredis asks the Sentinels where the master is. */
const redisSentinelSchema = z.strictObject({
  name: nonEmpty,
  sentinels: z.array(redisUrl).min(1),
  db: nonNegativeInt.default(0),
  password: nonEmpty.optional(),
});

const REDIS_TARGETS = ['redisUrl', 'redisClusterUrls', 'redisSentinel'] as const;

const storeSchema = z
  .strictObject({
    redisUrl: redisUrl.optional(),
    redisClusterUrls: z.array(redisUrl).min(1).optional(),
    redisSentinel: redisSentinelSchema.optional(),
    /** How often a standby replica reads what the leader changed in the store. */
    standbyRefreshSeconds: positiveInt.default(5),
    keyPrefix: z.string().default('enos-cert-monitor:'),
    historyMaxLength: positiveInt.default(100_000),
    commandTimeoutMs: positiveInt.default(2_000),
    leaderLeaseSeconds: positiveInt.default(30),
  })
  .prefault({})
  .superRefine((store, ctx) => {
    const targets = REDIS_TARGETS.filter((key) => store[key] !== undefined);
    for (const key of targets.slice(1)) {
      ctx.addIssue({ code: 'custom', path: [key], message: `set only one of ${REDIS_TARGETS.join(', ')} (${targets[0]} is set too)` });
    }
  });

const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const alertmanagerSchema = z
  .strictObject({
    urls: z.array(httpUrl).default([]),
    resendIntervalSeconds: positiveInt.default(60),
    labels: z
      .record(z.string().regex(labelName, 'must be a valid label name'), z.string())
      .default({}),
    revokedHoldHours: z.number().min(0).default(24),
    timeoutMs: positiveInt.default(10_000),
    maxAttempts: positiveInt.max(20).default(3),
    batchSize: positiveInt.default(500),
    queueCapacity: positiveInt.default(100_000),
  })
  .prefault({});

const serverSchema = z
  .strictObject({
    // The IPv6 unspecified address, which takes IPv4 too; on a host without IPv6 the server falls back to 0.0.0.0.
    host: nonEmpty.default('::'),
    port: nonNegativeInt.max(65_535).default(9464),
    statusPage: z.boolean().default(true),
  })
  .prefault({});

const metricsSchema = z
  .strictObject({
    perCertificate: z.enum(['all', 'expiring', 'none']).default('all'),
  })
  .prefault({});

const auditSchema = z
  .strictObject({
    minRsaBits: positiveInt.default(2048),
    minEcBits: positiveInt.default(256),
    maxAgeDays: z.number().min(0).default(0),
    dateToleranceSeconds: nonNegativeInt.default(86_400),
  })
  .prefault({});

const logSchema = z
  .strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    format: z.enum(['auto', 'json', 'pretty']).default('auto'),
  })
  .prefault({});

export const configSchema = z.strictObject({
  enos: enosSchema,
  inventory: inventorySchema,
  schedule: scheduleSchema,
  thresholds: thresholdsSchema,
  store: storeSchema,
  alertmanager: alertmanagerSchema,
  server: serverSchema,
  metrics: metricsSchema,
  audit: auditSchema,
  log: logSchema,
});

/** The config file as validated, before secrets are resolved. */
export type RawConfig = z.infer<typeof configSchema>;
