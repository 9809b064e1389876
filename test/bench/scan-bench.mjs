// One full scan of a simulated fleet with Redis, measured: wall time against the ideal
// N × latency / concurrency, the monitor's CPU per device, peak RSS, Redis round trips, /metrics
// latency and size, event-loop stalls. The simulator, redis-server and the scraper run in their
// own processes; this process is the monitor alone.
//
//   npm run bench -- [--devices 100000] [--latency-ms 50] [--concurrency 64] [--redis-url URL]
//                    [--per-certificate all|expiring|none] [--scrape-interval-ms 15000] [--json]
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseConfig } from '../../dist/config/load.js';
import { Monitor } from '../../dist/monitor.js';
import { startHttpServer } from '../../dist/server/http-server.js';
import { createLogger } from '../../dist/util/log.js';
import { systemClock } from '../../dist/util/clock.js';
import { storeKeys } from '../../dist/state/redis-store.js';
import { deleteRedisKeys, redisMemory, startRedis, startScraper, startSimulator } from './processes.mjs';

const { values: flags } = parseArgs({
  options: {
    devices: { type: 'string', default: '100000' },
    'latency-ms': { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '64' },
    'redis-url': { type: 'string' },
    'per-certificate': { type: 'string', default: 'all' },
    'scrape-interval-ms': { type: 'string', default: '15000' },
    'warm-scrapes': { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
    'heap-snapshot': { type: 'string' },
  },
  strict: true,
});
const DEVICES = Number(flags.devices);
const LATENCY_MS = Number(flags['latency-ms']);
const CONCURRENCY = Number(flags.concurrency);
const SCRAPE_INTERVAL_MS = Number(flags['scrape-interval-ms']);
const WARM_SCRAPES = Number(flags['warm-scrapes']);

/** The targets (they apply at 100k devices, 50 ms, concurrency 64). */
const TARGETS = {
  scanRatio: 1.1,
  cpuMicrosPerDevice: 150,
  peakRssMB: 400,
  roundTripsPerDevice: 0.05,
  scrapeMs: 250,
  stallMs: 100,
};

const simulator = await startSimulator({ devices: DEVICES, latencyMs: LATENCY_MS, minCertificates: 1 });
const redis = flags['redis-url'] === undefined ? await startRedis() : undefined;
const redisUrl = flags['redis-url'] ?? redis.url;
const keyPrefix = `bench-${randomBytes(4).toString('hex')}:`;
const scraper = startScraper();

const config = parseConfig(
  JSON.stringify({
    enos: {
      baseUrl: simulator.url,
      appKey: 'demo-app-key',
      appSecret: 'demo-app-secret',
      concurrency: CONCURRENCY,
      maxRequestsPerSecond: 0,
    },
    inventory: { discover: [{ orgId: 'demo-org' }] },
    // A fresh prefix: a shared Redis given with --redis-url starts from nothing too.
    store: { redisUrl, keyPrefix },
    metrics: { perCertificate: flags['per-certificate'] },
  }),
  'bench-config.json',
  {},
);
const log = createLogger('warn', 'stderr');
const monitor = new Monitor(config, { log, clock: systemClock });
const server = await startHttpServer({ host: '127.0.0.1', port: 0, metrics: monitor.metrics, ready: () => true, log });
const metricsUrl = `http://127.0.0.1:${server.port}/metrics`;
await monitor.store.ping();
await scraper.scrape(metricsUrl); // connections and code paths warm, before anything is measured

const loadBefore = loadAverage();
const rssBefore = process.memoryUsage().rss;
const roundTripsBefore = monitor.store.roundTrips;
const scanStall = monitorEventLoopDelay({ resolution: 10 });
const scanScrapes = [];
const plainScrapes = [];
let scanning = true;

const neighboursBefore = { simulator: simulator.cpuSeconds(), redis: redis?.cpuSeconds() };
const cpuBefore = process.cpuUsage();
const started = performance.now();
scanStall.enable();
const scrapesDuringScan = (async () => {
  // As Prometheus would: a scrape every interval while devices keep changing.
  while (scanning) {
    await sleepUnless(SCRAPE_INTERVAL_MS, () => !scanning);
    if (scanning) scanScrapes.push(await scraper.scrape(metricsUrl));
    if (scanning) plainScrapes.push(await scraper.scrape(metricsUrl, { gzip: false }));
  }
})();
const report = await monitor.scan(new AbortController().signal);
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const simulatorCpuSeconds = simulator.cpuSeconds() - neighboursBefore.simulator;
const redisCpuSeconds = redis === undefined ? Number.NaN : redis.cpuSeconds() - neighboursBefore.redis;
scanning = false;
await scrapesDuringScan;
scanStall.disable();
const roundTrips = monitor.store.roundTrips - roundTripsBefore;
const peakRssDuringScan = process.resourceUsage().maxRSS * 1024;

// Scrapes after the scan: the first one sees every device changed since the last scrape.
const scrapeStall = monitorEventLoopDelay({ resolution: 10 });
scrapeStall.enable();
const scrapeCpuBefore = process.cpuUsage();
const afterScan = await scraper.scrape(metricsUrl);
const warm = [];
for (let i = 0; i < WARM_SCRAPES; i++) warm.push(await scraper.scrape(metricsUrl));
for (let i = 0; i < 3; i++) plainScrapes.push(await scraper.scrape(metricsUrl, { gzip: false }));
const scrapeCpu = process.cpuUsage(scrapeCpuBefore);
scrapeStall.disable();

const peakRss = process.resourceUsage().maxRSS * 1024;
const live = liveMemory();
// After the peak was read: writing a snapshot takes memory of its own.
if (flags['heap-snapshot'] !== undefined) writeHeapSnapshot(flags['heap-snapshot']);
let certificates = 0;
for (const record of monitor.fleet.records()) certificates += record.certificates.length;
const redisBytes = await redisMemory(redisUrl);

await server.close();
await monitor.close();
await scraper.stop();
await simulator.stop();
if (redis === undefined) await deleteRedisKeys(redisUrl, Object.values(storeKeys(keyPrefix)));
else await redis.stop();

const idealMs = (DEVICES * LATENCY_MS) / CONCURRENCY;
const cpuMicros = cpu.user + cpu.system;
const allScrapes = [...scanScrapes, afterScan, ...warm];
const results = {
  machine: machine(),
  load: { before: loadBefore, after: loadAverage() },
  parameters: { devices: DEVICES, latencyMs: LATENCY_MS, concurrency: CONCURRENCY, perCertificate: flags['per-certificate'] },
  scan: { ...report.summary.devices, result: report.summary.result, certificates, changes: report.events.length },
  wallMs,
  idealMs,
  cpuMicrosPerDevice: cpuMicros / DEVICES,
  cpuUserMicrosPerDevice: cpu.user / DEVICES,
  cpuSystemMicrosPerDevice: cpu.system / DEVICES,
  simulatorCpuMicrosPerDevice: (simulatorCpuSeconds * 1e6) / DEVICES,
  redisCpuMicrosPerDevice: (redisCpuSeconds * 1e6) / DEVICES,
  rssBeforeBytes: rssBefore,
  peakRssDuringScanBytes: peakRssDuringScan,
  peakRssBytes: peakRss,
  liveHeapBytes: live.heapUsed,
  liveExternalBytes: live.external,
  roundTrips,
  redisUsedBytes: redisBytes,
  scrapesDuringScanMs: scanScrapes.map((s) => s.ms),
  scrapeAfterScanMs: afterScan.ms,
  warmScrapeMs: warm.map((s) => s.ms),
  scrapeCpuMicros: (scrapeCpu.user + scrapeCpu.system) / (1 + WARM_SCRAPES),
  bodyBytes: afterScan.bytes,
  plainBodyBytes: plainScrapes.at(-1).bytes,
  plainScrapesMs: plainScrapes.map((s) => s.ms),
  maxStallDuringScanMs: scanStall.max / 1e6,
  maxStallDuringScrapesMs: scrapeStall.max / 1e6,
};

if (flags.json) {
  console.log(JSON.stringify(results, null, 2));
} else {
  printTable(results, Math.max(...allScrapes.map((s) => s.ms)));
}
if (report.summary.devices.ok !== DEVICES) {
  console.error(`only ${report.summary.devices.ok} of ${DEVICES} devices answered: the numbers do not describe a full scan`);
  process.exitCode = 1;
}

function printTable(r, worstScrapeMs) {
  const mb = (bytes) => `${(bytes / 1e6).toFixed(0)} MB`;
  const ms = (value) => `${value.toFixed(value < 10 ? 1 : 0)} ms`;
  const seconds = (value) => `${(value / 1000).toFixed(1)} s`;
  const check = (value, target) => (value <= target ? 'yes' : 'NO');
  const scanRatio = r.wallMs / r.idealMs;
  const perDevice = r.roundTrips / DEVICES;
  const rows = [
    ['devices / certificates', `${DEVICES.toLocaleString('en')} / ${r.scan.certificates.toLocaleString('en')}`, '', ''],
    ['scan result', `${r.scan.result} (${r.scan.ok} ok, ${r.scan.failed} failed)`, '', ''],
    ['scan wall time', seconds(r.wallMs), '', ''],
    [`ideal N × ${LATENCY_MS} ms / ${CONCURRENCY}`, seconds(r.idealMs), '', ''],
    ['scan / ideal', scanRatio.toFixed(3), `≤ ${TARGETS.scanRatio}`, check(scanRatio, TARGETS.scanRatio)],
    [
      'CPU per device (user + system)',
      `${r.cpuMicrosPerDevice.toFixed(0)} µs`,
      `≤ ${TARGETS.cpuMicrosPerDevice} µs`,
      check(r.cpuMicrosPerDevice, TARGETS.cpuMicrosPerDevice),
    ],
    ['… of which user / system', `${r.cpuUserMicrosPerDevice.toFixed(0)} / ${r.cpuSystemMicrosPerDevice.toFixed(0)} µs`, '', ''],
    [
      'simulator / redis-server CPU per device',
      `${r.simulatorCpuMicrosPerDevice.toFixed(0)} / ${Number.isNaN(r.redisCpuMicrosPerDevice) ? 'n/a' : r.redisCpuMicrosPerDevice.toFixed(0)} µs`,
      '',
      '',
    ],
    ['RSS before the scan', mb(r.rssBeforeBytes), '', ''],
    ['peak RSS at the end of the scan', mb(r.peakRssDuringScanBytes), '', ''],
    ['peak RSS', mb(r.peakRssBytes), `≤ ${TARGETS.peakRssMB} MB`, check(r.peakRssBytes / 1e6, TARGETS.peakRssMB)],
    ['live after a full GC: heap / buffers', `${mb(r.liveHeapBytes)} / ${mb(r.liveExternalBytes)}`, '', ''],
    ['Redis round trips per device', `${perDevice.toFixed(4)} (${r.roundTrips})`, `≤ ${TARGETS.roundTripsPerDevice}`, check(perDevice, TARGETS.roundTripsPerDevice)],
    ['Redis used memory', mb(r.redisUsedBytes), '', ''],
    ['/metrics size, gzip', `${mb(r.bodyBytes)} (${(r.bodyBytes / r.scan.certificates).toFixed(0)} bytes per certificate)`, '', ''],
    ['/metrics size, plain', `${mb(r.plainBodyBytes)} (${(r.plainBodyBytes / r.scan.certificates).toFixed(0)} bytes per certificate)`, '', ''],
    ['/metrics plain, p50 / max', `${ms(quantile(r.plainScrapesMs, 0.5))} / ${ms(Math.max(...r.plainScrapesMs))}`, '', ''],
    [
      `/metrics during the scan (every ${SCRAPE_INTERVAL_MS / 1000} s), max`,
      r.scrapesDuringScanMs.length > 0 ? `${ms(Math.max(...r.scrapesDuringScanMs))} (${r.scrapesDuringScanMs.length} scrapes)` : 'none',
      '',
      '',
    ],
    ['/metrics first after the scan', ms(r.scrapeAfterScanMs), '', ''],
    [`/metrics unchanged, p50 / max of ${WARM_SCRAPES}`, `${ms(quantile(r.warmScrapeMs, 0.5))} / ${ms(Math.max(...r.warmScrapeMs))}`, '', ''],
    ['/metrics worst of all', ms(worstScrapeMs), `< ${TARGETS.scrapeMs} ms`, worstScrapeMs < TARGETS.scrapeMs ? 'yes' : 'NO'],
    ['/metrics CPU per scrape', ms(r.scrapeCpuMicros / 1000), '', ''],
    [
      'longest event-loop stall, scan (with its scrapes)',
      ms(r.maxStallDuringScanMs),
      `≤ ${TARGETS.stallMs} ms`,
      check(r.maxStallDuringScanMs, TARGETS.stallMs),
    ],
    [
      'longest event-loop stall, scrapes',
      ms(r.maxStallDuringScrapesMs),
      `≤ ${TARGETS.stallMs} ms`,
      check(r.maxStallDuringScrapesMs, TARGETS.stallMs),
    ],
  ];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((row) => row[c].length), ['measure', 'value', 'target', 'met'][c].length));
  const line = (cells) => `| ${cells.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  const m = r.machine;
  console.log(`${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB, Node ${m.node}; load average ${r.load.before} before, ${r.load.after} after`);
  console.log(line(['measure', 'value', 'target', 'met']));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
}

/** What is still referenced at the end (the peak also holds garbage V8 had not collected yet). */
function liveMemory() {
  setFlagsFromString('--expose-gc');
  runInNewContext('gc')();
  const { heapUsed, external } = process.memoryUsage();
  return { heapUsed, external };
}

function machine() {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model.trim(), memoryGB: Math.round(totalmem() / 2 ** 30), node: process.version };
}

function loadAverage() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Waits `ms`, or less once `done()` turns true (checked every 100 ms). */
async function sleepUnless(ms, done) {
  const until = performance.now() + ms;
  while (!done() && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, Math.min(100, until - performance.now())));
}
