// Full scans of a simulated fleet with Redis, measured at two fleet sizes (each in a process of its
// own, so that peak RSS is that size's): wall time against the ideal N × latency / concurrency,
// the monitor's CPU per device against a bare signed node:http loop run against the same
// simulator in the same run, peak RSS and its growth per device between the two sizes, Redis
// memory per device, /metrics (gzip as Prometheus asks, and plain) size and latency during and
// after the scan, event-loop stalls. The simulator, redis-server, the scraper and the bare loop
// run in their own processes; the measured process is the monitor alone.
//
// The monitor runs with the memory settings of the pod it is sized for, those of
// deploy/kubernetes/base/deployment.yaml (NODE_OPTIONS and MALLOC_ARENA_MAX) unless --heap-mb
// gives another V8 heap cap: V8 picks how far the heap may grow past what is live before it
// collects from that cap (up to 4 times with no cap on a machine of several GB, much less under a
// cap of a few hundred MB), so peak RSS means something only under the pod's settings.
//
//   npm run bench -- [--devices 20000,100000] [--latency-ms 50] [--concurrency 64] [--redis-url URL]
//                    [--per-certificate all|expiring|none] [--scrape-interval-ms 15000]
//                    [--bare-devices 100000] [--heap-mb 448|none] [--heap-snapshot FILE] [--json]
//   npm run bench -- --million     (1,000,000 devices, 5 ms, perCertificate expiring, heap cap 1792 MB)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parse as parseYaml } from 'yaml';

const { values: flags } = parseArgs({
  options: {
    devices: { type: 'string', default: '20000,100000' },
    'latency-ms': { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '64' },
    'redis-url': { type: 'string' },
    'per-certificate': { type: 'string', default: 'all' },
    'scrape-interval-ms': { type: 'string', default: '15000' },
    'warm-scrapes': { type: 'string', default: '10' },
    'bare-devices': { type: 'string', default: '100000' },
    'heap-snapshot': { type: 'string' },
    'heap-mb': { type: 'string' },
    million: { type: 'boolean', default: false },
    /** Internal: this process is the measured one, for a single size. */
    child: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
  strict: true,
});
if (flags.million) Object.assign(flags, { devices: '1000000', 'latency-ms': '5', 'per-certificate': 'expiring', 'heap-mb': flags['heap-mb'] ?? '1792' });
const heapMb = flags['heap-mb'] ?? deploymentHeapMb();

/** The targets (they apply at 100k devices, 50 ms, concurrency 64, perCertificate all). */
const TARGETS = {
  peakRssMB: 250,
  growthBytesPerDevice: 1500,
  scanRatio: 1.1,
  cpuRatio: 1.3,
  redisBytesPerDevice: 600,
  gzipBytesPerCertificate: 80,
  gzipP50Ms: 50,
  gzipWorstMs: 150,
  plainWorstMs: 250,
  stallMs: 50,
};

const sizes = flags.devices.split(',').map(Number);
if (sizes.some((n) => !(Number.isInteger(n) && n > 0))) throw new Error('--devices: one or more positive integers, comma-separated');

if (flags.child) {
  console.log(JSON.stringify(await measure(sizes[0])));
} else {
  // One process per size: peak RSS cannot be reset within a process.
  const runs = [];
  for (const devices of sizes) runs.push(await runChild(devices));
  if (flags.json) {
    console.log(JSON.stringify(runs.length > 1 ? { runs, growth: growth(runs) } : runs[0], null, 2));
  } else {
    for (const run of runs) printTable(run);
    if (runs.length > 1) printGrowth(runs);
  }
  process.exitCode = runs.every((run) => run.complete) ? 0 : 1;
}

/** The daemon container's environment in the default Deployment, by name. */
function deploymentEnv() {
  const manifest = parseYaml(readFileSync(fileURLToPath(new URL('../../deploy/kubernetes/base/deployment.yaml', import.meta.url)), 'utf8'));
  const [container] = manifest.spec.template.spec.containers;
  return Object.fromEntries(container.env.filter((entry) => entry.value !== undefined).map((entry) => [entry.name, entry.value]));
}

/** The V8 heap cap the default Deployment gives the daemon (NODE_OPTIONS), in MB. */
function deploymentHeapMb() {
  const cap = /--max-old-space-size=(\d+)/.exec(deploymentEnv().NODE_OPTIONS ?? '')?.[1];
  if (cap === undefined) throw new Error('deploy/kubernetes/base/deployment.yaml sets no --max-old-space-size: give --heap-mb');
  return cap;
}

/** This script for one fleet size, in a child process; resolves with its JSON result. */
async function runChild(devices) {
  const { NODE_OPTIONS: nodeOptions = '', MALLOC_ARENA_MAX: arenas } = deploymentEnv();
  // The Deployment's V8 options as node flags (NODE_OPTIONS would reach the processes the child starts too).
  const v8Flags = nodeOptions.split(/\s+/).filter((flag) => flag !== '' && !flag.startsWith('--max-old-space-size='));
  if (heapMb !== 'none') v8Flags.push(`--max-old-space-size=${heapMb}`);
  const args = [...v8Flags, fileURLToPath(import.meta.url), '--child', '--devices', String(devices), '--heap-mb', heapMb];
  for (const name of ['latency-ms', 'concurrency', 'redis-url', 'per-certificate', 'scrape-interval-ms', 'warm-scrapes', 'bare-devices', 'heap-snapshot']) {
    if (flags[name] !== undefined) args.push(`--${name}`, flags[name]);
  }
  const env = arenas === undefined ? process.env : { ...process.env, MALLOC_ARENA_MAX: arenas };
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk));
  const code = await new Promise((resolve) => child.on('close', resolve));
  if (code !== 0 && output === '') throw new Error(`the ${devices}-device run failed (exit ${code})`);
  return JSON.parse(output);
}

async function measure(DEVICES) {
  const { parseConfig } = await import('../../dist/config/load.js');
  const { Monitor } = await import('../../dist/monitor.js');
  const { startHttpServer } = await import('../../dist/server/http-server.js');
  const { createLogger } = await import('../../dist/util/log.js');
  const { systemClock } = await import('../../dist/util/clock.js');
  const { storeKeys } = await import('../../dist/state/redis-store.js');
  const { LeaderElection } = await import('../../dist/state/leader.js');
  const { deleteRedisKeys, redisMemory, runBareLoop, startRedis, startScraper, startSimulator } = await import('./processes.mjs');

  const LATENCY_MS = Number(flags['latency-ms']);
  const CONCURRENCY = Number(flags.concurrency);
  const SCRAPE_INTERVAL_MS = Number(flags['scrape-interval-ms']);
  const WARM_SCRAPES = Number(flags['warm-scrapes']);

  const simulator = await startSimulator({ devices: DEVICES, latencyMs: LATENCY_MS, minCertificates: 1 });
  const redis = flags['redis-url'] === undefined ? await startRedis() : undefined;
  const redisUrl = flags['redis-url'] ?? redis.url;
  const keyPrefix = `bench-${randomBytes(4).toString('hex')}:`;
  const scraper = startScraper();

  // The floor, against the same simulator, before the monitor starts (they must not compete).
  const bare = await runBareLoop({ url: simulator.url, devices: Math.min(DEVICES, Number(flags['bare-devices'])), concurrency: CONCURRENCY });

  const config = parseConfig(
    JSON.stringify({
      enos: { baseUrl: simulator.url, appKey: 'demo-app-key', appSecret: 'demo-app-secret', concurrency: CONCURRENCY, maxRequestsPerSecond: 0 },
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
  // As a daemon replica does: the scan writes and alerts under the leader lease.
  const election = new LeaderElection({ store: monitor.store, holder: 'bench', leaseMs: 60_000, log, onChange: () => {} });
  await election.start();
  const fence = election.fence;
  if (fence === undefined) throw new Error('the bench could not take the leader lease');
  await monitor.loadAlertState();
  await scraper.scrape(metricsUrl); // connections and code paths warm, before anything is measured

  const loadBefore = loadAverage();
  const rssBefore = process.memoryUsage().rss;
  const redisBefore = await redisMemory(redisUrl);
  const roundTripsBefore = monitor.store.roundTrips;
  const scanStall = monitorEventLoopDelay({ resolution: 10 });
  const scanScrapes = [];
  const plainScrapes = [];
  let scanning = true;

  const neighboursBefore = { simulator: simulator.cpuSeconds(), redis: redis?.cpuSeconds() };
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  scanStall.enable();
  const composition = sampleMemory();
  const scrapesDuringScan = (async () => {
    // As Prometheus would: a scrape every interval while devices keep changing (and a plain one).
    while (scanning) {
      await sleepUnless(SCRAPE_INTERVAL_MS, () => !scanning);
      if (scanning) scanScrapes.push(await scraper.scrape(metricsUrl));
      if (scanning) plainScrapes.push(await scraper.scrape(metricsUrl, { gzip: false }));
    }
  })();
  // Only the summary is kept: a daemon keeps nothing of the report after the scan.
  const { summary, changes } = await monitor
    .scan(new AbortController().signal, { fence, held: () => election.holds(fence) })
    .then((report) => ({ summary: report.summary, changes: report.events.length }));
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const simulatorCpuSeconds = simulator.cpuSeconds() - neighboursBefore.simulator;
  const redisCpuSeconds = redis === undefined ? Number.NaN : redis.cpuSeconds() - neighboursBefore.redis;
  scanning = false;
  const memoryAtPeak = composition.stop();
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
  const scrapeCpu = process.cpuUsage(scrapeCpuBefore);
  for (let i = 0; i < 3; i++) plainScrapes.push(await scraper.scrape(metricsUrl, { gzip: false }));
  scrapeStall.disable();

  const peakRss = process.resourceUsage().maxRSS * 1024;
  const live = liveMemory();
  // After the peak was read: writing a snapshot takes memory of its own.
  if (flags['heap-snapshot'] !== undefined) writeHeapSnapshot(flags['heap-snapshot']);
  let certificates = 0;
  for (const record of monitor.fleet.records()) certificates += record.certificates.length;
  const alertsFiring = monitor.alerts.firing().reduce((sum, kind) => sum + kind.count, 0);
  const redisAfter = await redisMemory(redisUrl);

  await election.stop({ release: true });
  await server.close();
  await monitor.close();
  await scraper.stop();
  await simulator.stop();
  if (redis === undefined) await deleteRedisKeys(redisUrl, Object.values(storeKeys(keyPrefix)));
  else await redis.stop();

  const cpuMicros = cpu.user + cpu.system;
  const gzipScrapes = [...scanScrapes, afterScan, ...warm];
  return {
    machine: machine(),
    load: { before: loadBefore, after: loadAverage() },
    parameters: {
      devices: DEVICES,
      latencyMs: LATENCY_MS,
      concurrency: CONCURRENCY,
      perCertificate: flags['per-certificate'],
      scrapeIntervalMs: SCRAPE_INTERVAL_MS,
      heapMb,
      nodeFlags: process.execArgv.join(' '),
      mallocArenaMax: process.env.MALLOC_ARENA_MAX,
    },
    complete: summary.devices.ok === DEVICES,
    scan: { ...summary.devices, result: summary.result, certificates, changes, alertsFiring },
    wallMs,
    idealMs: (DEVICES * LATENCY_MS) / CONCURRENCY,
    cpuMicrosPerDevice: cpuMicros / DEVICES,
    cpuUserMicrosPerDevice: cpu.user / DEVICES,
    cpuSystemMicrosPerDevice: cpu.system / DEVICES,
    bareLoop: { devices: bare.devices, cpuMicrosPerDevice: bare.cpuMicros / bare.devices, wallMs: bare.wallMs },
    simulatorCpuMicrosPerDevice: (simulatorCpuSeconds * 1e6) / DEVICES,
    redisCpuMicrosPerDevice: (redisCpuSeconds * 1e6) / DEVICES,
    rssBeforeBytes: rssBefore,
    peakRssDuringScanBytes: peakRssDuringScan,
    peakRssBytes: peakRss,
    memoryAtPeak,
    liveHeapBytes: live.heapUsed,
    liveExternalBytes: live.external,
    roundTrips,
    redisUsedBytes: redisAfter,
    redisBytesPerDevice: (redisAfter - redisBefore) / DEVICES,
    gzip: {
      bytes: afterScan.bytes,
      duringScanMs: scanScrapes.map((s) => s.ms),
      afterScanMs: afterScan.ms,
      warmMs: warm.map((s) => s.ms),
      worstMs: Math.max(...gzipScrapes.map((s) => s.ms)),
      cpuMicrosPerScrape: (scrapeCpu.user + scrapeCpu.system) / (1 + WARM_SCRAPES),
    },
    plain: { bytes: plainScrapes.at(-1).bytes, ms: plainScrapes.map((s) => s.ms), worstMs: Math.max(...plainScrapes.map((s) => s.ms)) },
    maxStallDuringScanMs: scanStall.max / 1e6,
    maxStallDuringScrapesMs: scrapeStall.max / 1e6,
  };
}

function printTable(r) {
  const mb = (bytes) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
  const ms = (value) => `${value.toFixed(value < 10 ? 1 : 0)} ms`;
  const seconds = (value) => `${(value / 1000).toFixed(1)} s`;
  const check = (value, target) => (value <= target ? 'yes' : 'NO');
  const { devices, latencyMs, concurrency, perCertificate, scrapeIntervalMs, heapMb: cap } = r.parameters;
  const scanRatio = r.wallMs / r.idealMs;
  // The same floor for wall time: what the gateway's latency, loopback and the shared cores cost any client.
  const bareRatio = r.bareLoop.wallMs / ((r.bareLoop.devices * latencyMs) / concurrency);
  const cpuRatio = r.cpuMicrosPerDevice / r.bareLoop.cpuMicrosPerDevice;
  const perDevice = r.roundTrips / devices;
  const gzipPerCert = r.gzip.bytes / Math.max(1, r.scan.certificates);
  const rows = [
    ['devices / certificates', `${devices.toLocaleString('en')} / ${r.scan.certificates.toLocaleString('en')}`, '', ''],
    ['scan result', `${r.scan.result} (${r.scan.ok} ok, ${r.scan.failed} failed)`, '', ''],
    ['change events / alerts firing', `${r.scan.changes.toLocaleString('en')} / ${r.scan.alertsFiring.toLocaleString('en')}`, '', ''],
    ['scan wall time', seconds(r.wallMs), '', ''],
    [`ideal N × ${latencyMs} ms / ${concurrency}`, seconds(r.idealMs), '', ''],
    ['scan / ideal', scanRatio.toFixed(3), `≤ ${TARGETS.scanRatio}`, check(scanRatio, TARGETS.scanRatio)],
    [`bare loop wall / its ideal (${r.bareLoop.devices.toLocaleString('en')})`, bareRatio.toFixed(3), '', ''],
    ['monitor CPU per device (user + system)', `${r.cpuMicrosPerDevice.toFixed(0)} µs`, '', ''],
    ['… of which user / system', `${r.cpuUserMicrosPerDevice.toFixed(0)} / ${r.cpuSystemMicrosPerDevice.toFixed(0)} µs`, '', ''],
    [`bare signed node:http loop CPU per device (${r.bareLoop.devices.toLocaleString('en')})`, `${r.bareLoop.cpuMicrosPerDevice.toFixed(0)} µs`, '', ''],
    ['monitor / bare loop CPU', cpuRatio.toFixed(2), `≤ ${TARGETS.cpuRatio}`, check(cpuRatio, TARGETS.cpuRatio)],
    [
      'simulator / redis-server CPU per device',
      `${r.simulatorCpuMicrosPerDevice.toFixed(0)} / ${Number.isNaN(r.redisCpuMicrosPerDevice) ? 'n/a' : r.redisCpuMicrosPerDevice.toFixed(0)} µs`,
      '',
      '',
    ],
    ['RSS before the scan', mb(r.rssBeforeBytes), '', ''],
    ['peak RSS at the end of the scan', mb(r.peakRssDuringScanBytes), '', ''],
    [
      '… at its highest sample: V8 heap used / total, buffers',
      `${mb(r.memoryAtPeak.heapUsed)} / ${mb(r.memoryAtPeak.heapTotal)}, ${mb(r.memoryAtPeak.external)}`,
      '',
      '',
    ],
    ['peak RSS', mb(r.peakRssBytes), `≤ ${TARGETS.peakRssMB} MB at 100k`, devices === 100_000 ? check(r.peakRssBytes / 1e6, TARGETS.peakRssMB) : ''],
    ['live after a full GC: heap / buffers', `${mb(r.liveHeapBytes)} / ${mb(r.liveExternalBytes)}`, '', ''],
    ['Redis round trips per device', `${perDevice.toFixed(4)} (${r.roundTrips})`, '', ''],
    ['Redis used memory / per device', `${mb(r.redisUsedBytes)} / ${r.redisBytesPerDevice.toFixed(0)} B`, `≤ ${TARGETS.redisBytesPerDevice} B`, check(r.redisBytesPerDevice, TARGETS.redisBytesPerDevice)],
    ['/metrics gzip size', `${mb(r.gzip.bytes)} (${gzipPerCert.toFixed(0)} B per certificate)`, `≤ ${TARGETS.gzipBytesPerCertificate} B`, check(gzipPerCert, TARGETS.gzipBytesPerCertificate)],
    ['/metrics plain size', `${mb(r.plain.bytes)} (${(r.plain.bytes / Math.max(1, r.scan.certificates)).toFixed(0)} B per certificate)`, '', ''],
    [
      `/metrics gzip during the scan (every ${scrapeIntervalMs / 1000} s), max`,
      r.gzip.duringScanMs.length > 0 ? `${ms(Math.max(...r.gzip.duringScanMs))} (${r.gzip.duringScanMs.length} scrapes)` : 'none',
      '',
      '',
    ],
    ['/metrics gzip first after the scan', ms(r.gzip.afterScanMs), '', ''],
    [`/metrics gzip unchanged, p50 / max of ${r.gzip.warmMs.length}`, `${ms(quantile(r.gzip.warmMs, 0.5))} / ${ms(Math.max(...r.gzip.warmMs))}`, `p50 ≤ ${TARGETS.gzipP50Ms} ms`, check(quantile(r.gzip.warmMs, 0.5), TARGETS.gzipP50Ms)],
    ['/metrics gzip worst (during or after the scan)', ms(r.gzip.worstMs), `≤ ${TARGETS.gzipWorstMs} ms`, check(r.gzip.worstMs, TARGETS.gzipWorstMs)],
    ['/metrics gzip CPU per scrape', ms(r.gzip.cpuMicrosPerScrape / 1000), '', ''],
    [`/metrics plain, p50 / worst of ${r.plain.ms.length}`, `${ms(quantile(r.plain.ms, 0.5))} / ${ms(r.plain.worstMs)}`, `worst ≤ ${TARGETS.plainWorstMs} ms`, check(r.plain.worstMs, TARGETS.plainWorstMs)],
    ['longest event-loop stall, scan (with its scrapes)', ms(r.maxStallDuringScanMs), `≤ ${TARGETS.stallMs} ms`, check(r.maxStallDuringScanMs, TARGETS.stallMs)],
    ['longest event-loop stall, scrapes', ms(r.maxStallDuringScrapesMs), `≤ ${TARGETS.stallMs} ms`, check(r.maxStallDuringScrapesMs, TARGETS.stallMs)],
  ];
  const m = r.machine;
  const { nodeFlags, mallocArenaMax } = r.parameters;
  const heap = [cap === 'none' ? 'no V8 heap cap' : `V8 heap cap ${cap} MB`, `node ${nodeFlags || '(no flags)'}`, `MALLOC_ARENA_MAX ${mallocArenaMax ?? 'unset'}`].join(', ');
  console.log(`\n${devices.toLocaleString('en')} devices, perCertificate ${perCertificate}, latency ${latencyMs} ms, concurrency ${concurrency}, ${heap}`);
  console.log(`${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB, Node ${m.node}; load average ${r.load.before} before, ${r.load.after} after`);
  printRows(['measure', 'value', 'target', 'met'], rows);
  if (!r.complete) console.log(`only ${r.scan.ok} of ${devices} devices answered: the numbers do not describe a full scan`);
}

/** Peak-RSS growth per device between consecutive fleet sizes. */
function growth(runs) {
  const sorted = [...runs].sort((a, b) => a.parameters.devices - b.parameters.devices);
  return sorted.slice(1).map((run, i) => {
    const from = sorted[i];
    const devices = run.parameters.devices - from.parameters.devices;
    return {
      from: from.parameters.devices,
      to: run.parameters.devices,
      peakRssBytesPerDevice: (run.peakRssBytes - from.peakRssBytes) / devices,
      liveBytesPerDevice: (run.liveHeapBytes + run.liveExternalBytes - from.liveHeapBytes - from.liveExternalBytes) / devices,
    };
  });
}

function printGrowth(runs) {
  const rows = growth(runs).map((g) => [
    `${g.from.toLocaleString('en')} → ${g.to.toLocaleString('en')} devices`,
    `${g.peakRssBytesPerDevice.toFixed(0)} B`,
    `${g.liveBytesPerDevice.toFixed(0)} B`,
    `≤ ${TARGETS.growthBytesPerDevice} B`,
    g.peakRssBytesPerDevice <= TARGETS.growthBytesPerDevice ? 'yes' : 'NO',
  ]);
  console.log('\nmemory growth per device');
  printRows(['between', 'peak RSS', 'live heap + buffers', 'target (peak)', 'met'], rows);
}

function printRows(header, rows) {
  const widths = header.map((title, c) => Math.max(title.length, ...rows.map((row) => row[c].length)));
  const line = (cells) => `| ${cells.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
}

/** The process.memoryUsage() sample with the highest RSS, sampled every 50 ms until stop(). */
function sampleMemory() {
  let highest = process.memoryUsage();
  const timer = setInterval(() => {
    const sample = process.memoryUsage();
    if (sample.rss > highest.rss) highest = sample;
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return highest;
    },
  };
}

/** What is still referenced at the end (the peak also holds garbage V8 had not collected yet). */
function liveMemory() {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  // Buffers are freed by a sweeper that runs after a GC; the next GC waits for it to finish.
  gc();
  gc();
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
