// Soak: many scans of a large simulated fleet by one monitor, with its heap and RSS after each
// (after a full garbage collection), and a /metrics scrape per scan. Memory must stay flat: the
// script compares the median of the last quarter of the scans with the median of the second
// quarter (the first scans still fill caches) and fails above --max-growth-pct. The simulator,
// redis-server and the scraper run in their own processes; this process is the monitor alone.
//
//   npm run soak -- [--devices 20000] [--scans 30] [--latency-ms 0] [--concurrency 64]
//                   [--redis-url URL | --memory-store] [--max-growth-pct 10] [--json]
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseConfig } from '../../dist/config/load.js';
import { Monitor } from '../../dist/monitor.js';
import { startHttpServer } from '../../dist/server/http-server.js';
import { systemClock } from '../../dist/util/clock.js';
import { createLogger } from '../../dist/util/log.js';
import { startRedis, startScraper, startSimulator } from '../bench/processes.mjs';

const { values: flags } = parseArgs({
  options: {
    devices: { type: 'string', default: '20000' },
    scans: { type: 'string', default: '30' },
    'latency-ms': { type: 'string', default: '0' },
    concurrency: { type: 'string', default: '64' },
    'redis-url': { type: 'string' },
    'memory-store': { type: 'boolean', default: false },
    'max-growth-pct': { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
  },
  strict: true,
});
const DEVICES = Number(flags.devices);
const SCANS = Number(flags.scans);
const MAX_GROWTH_PCT = Number(flags['max-growth-pct']);
if (!(SCANS >= 8)) throw new Error('--scans must be at least 8: the comparison needs four quarters');
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc (npm run soak does)');

const MB = 1024 * 1024;
const simulator = await startSimulator({ devices: DEVICES, latencyMs: Number(flags['latency-ms']), minCertificates: 0 });
const redis = flags['memory-store'] || flags['redis-url'] !== undefined ? undefined : await startRedis();
const redisUrl = flags['redis-url'] ?? redis?.url;
const scraper = startScraper();

const config = parseConfig(
  JSON.stringify({
    enos: {
      baseUrl: simulator.url,
      appKey: 'demo-app-key',
      appSecret: 'demo-app-secret',
      concurrency: Number(flags.concurrency),
      maxRequestsPerSecond: 0,
    },
    inventory: { discover: [{ orgId: 'demo-org' }] },
    ...(redisUrl === undefined ? {} : { store: { redisUrl, keyPrefix: `soak-${randomBytes(4).toString('hex')}:` } }),
    metrics: { perCertificate: 'all' },
  }),
  'soak-config.json',
  {},
);
const log = createLogger('error', 'stderr');
const monitor = new Monitor(config, { log, clock: systemClock });
const server = await startHttpServer({ host: '127.0.0.1', port: 0, metrics: monitor.metrics, ready: () => true, log });
const metricsUrl = `http://127.0.0.1:${server.port}/metrics`;

function memory() {
  globalThis.gc();
  globalThis.gc();
  const { heapUsed, rss, external, arrayBuffers } = process.memoryUsage();
  return { heapMB: heapUsed / MB, rssMB: rss / MB, externalMB: external / MB, arrayBuffersMB: arrayBuffers / MB };
}

const round = (value) => Math.round(value * 10) / 10;
const rows = [];
const started = performance.now();
try {
  await monitor.alerts.init();
  const before = memory();
  if (!flags.json) {
    console.log(`soak: ${DEVICES} devices, ${SCANS} scans, store ${redisUrl === undefined ? 'memory' : 'redis'}, node ${process.version}, ` +
      `${cpus().length} cores, ${Math.round(totalmem() / 1024 ** 3)} GiB`);
    console.log(`before   heap ${round(before.heapMB)} MB  rss ${round(before.rssMB)} MB`);
    console.log('scan  result   seconds  heap MB  rss MB  external MB  /metrics MB');
  }
  for (let scan = 1; scan <= SCANS; scan++) {
    const scanStarted = performance.now();
    const report = await monitor.scan(new AbortController().signal);
    const seconds = (performance.now() - scanStarted) / 1000;
    const scrape = await scraper.scrape(metricsUrl);
    const row = { scan, result: report.summary.result, seconds: round(seconds), ...memory(), metricsMB: scrape.bytes / MB };
    rows.push(row);
    if (!flags.json) {
      console.log(
        `${String(scan).padStart(4)}  ${row.result.padEnd(7)}  ${row.seconds.toFixed(1).padStart(7)}  ${row.heapMB.toFixed(1).padStart(7)}  ` +
          `${row.rssMB.toFixed(1).padStart(6)}  ${row.externalMB.toFixed(1).padStart(11)}  ${row.metricsMB.toFixed(1).padStart(11)}`,
      );
    }
  }
} finally {
  await server.close();
  await monitor.close();
  await scraper.stop();
  await simulator.stop();
  await redis?.stop();
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const quarter = Math.floor(SCANS / 4);
const growth = (field) => {
  const early = median(rows.slice(quarter, 2 * quarter).map((row) => row[field]));
  const late = median(rows.slice(SCANS - quarter).map((row) => row[field]));
  return { early: round(early), late: round(late), pct: round(((late - early) / early) * 100) };
};
const summary = {
  devices: DEVICES,
  scans: SCANS,
  store: redisUrl === undefined ? 'memory' : 'redis',
  minutes: round((performance.now() - started) / 60_000),
  failedScans: rows.filter((row) => row.result !== 'success').length,
  heap: growth('heapMB'),
  rss: growth('rssMB'),
};
const flat = summary.failedScans === 0 && summary.heap.pct <= MAX_GROWTH_PCT && summary.rss.pct <= MAX_GROWTH_PCT;
if (flags.json) {
  console.log(JSON.stringify({ ...summary, flat, rows }, null, 2));
} else {
  console.log(
    `heap ${summary.heap.early} → ${summary.heap.late} MB (${summary.heap.pct}%), ` +
      `rss ${summary.rss.early} → ${summary.rss.late} MB (${summary.rss.pct}%), ` +
      `median of scans ${quarter + 1}-${2 * quarter} → ${SCANS - quarter + 1}-${SCANS}; ${summary.minutes} min: ` +
      `${flat ? 'flat' : `GROWTH above ${MAX_GROWTH_PCT}% or failed scans`}`,
  );
}
process.exitCode = flat ? 0 : 1;
