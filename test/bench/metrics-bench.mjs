// Scrape cost at fleet scale: 40k devices, 100k certificates, perCertificate=all.
// Run after `npm run build`: node test/bench/metrics-bench.mjs [devices] [scrapes]
import { performance, monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { MonitorMetrics } from '../../dist/metrics/monitor-metrics.js';
import { startHttpServer } from '../../dist/server/http-server.js';
import { FleetView } from '../../dist/state/fleet-view.js';
import { silentLogger } from '../../dist/util/log.js';
import { systemClock } from '../../dist/util/clock.js';

const DEVICES = Number(process.argv[2] ?? 40_000);
const SCRAPES = Number(process.argv[3] ?? 20);
const DAY = 86_400_000;
const now = systemClock.now();

/** 1–4 certificates per device (2.5 on average), spread over expiry states; `generation` varies serials. */
function record(i, generation) {
  const orgId = `org-${i % 7}`;
  const device = i % 2 === 0 ? { orgId, assetId: `asset-${i}` } : { orgId, productKey: `pk-${i % 50}`, deviceKey: `device-${i}` };
  const certificates = [];
  for (let c = 0; c < (i % 4) + 1; c++) {
    const days = ((i * 7 + c * 131) % 500) - 30;
    certificates.push({
      certSN: `${generation}${i.toString(16).padStart(8, '0')}${c}`,
      status: c === 3 ? 'revoked' : 'valid',
      notBefore: now - 365 * DAY,
      notAfter: now + days * DAY,
      issuer: 'EMAILADDRESS=ca@example.com, CN=EnOS ECC CA, OU=EnOS Cloud, O=EnOS, L=Shanghai, ST=Shanghai, C=CN',
      subject: `EMAILADDRESS=x${i}, OU=EnOS, CN=device-${i}-${c}, O=EnOS, L=Shanghai, ST=Shanghai, C=CN`,
      issueAuthority: c % 2 === 0 ? 'ECC' : 'RSA',
      revoker: '',
      revokerReason: '',
    });
  }
  return { id: `${orgId}/${i}`, device, query: 'ok', certificates };
}

function applyScan(fleet, generation) {
  const started = performance.now();
  for (let i = 0; i < DEVICES; i++) fleet.set(record(i, generation));
  return performance.now() - started;
}

/** Scrapes from a worker thread so the client's work does not load the server's event loop. */
const client = new Worker(
  `const { parentPort } = require('node:worker_threads');
   const http = require('node:http');
   const get = (url) => new Promise((resolve, reject) => {
     const started = performance.now();
     http.get(url, { agent: false }, (res) => {
       let bytes = 0;
       res.on('data', (chunk) => { bytes += chunk.length; });
       res.on('end', () => resolve({ ms: performance.now() - started, bytes }));
     }).on('error', reject);
   });
   parentPort.on('message', async ({ url, count }) => {
     const results = [];
     for (let i = 0; i < count; i++) results.push(await get(url));
     parentPort.postMessage(results);
   });`,
  { eval: true },
);
client.unref();

function scrape(url, count) {
  return new Promise((resolve, reject) => {
    client.once('message', resolve);
    client.once('error', reject);
    client.postMessage({ url, count });
  });
}

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const fleet = new FleetView();
const metrics = new MonitorMetrics({
  fleet,
  perCertificate: 'all',
  thresholds: { warningDays: 30, criticalDays: 7 },
  clock: systemClock,
  version: 'bench',
});
const server = await startHttpServer({ host: '127.0.0.1', port: 0, metrics, ready: () => true, log: silentLogger });
const url = `http://127.0.0.1:${server.port}/metrics`;

await scrape(`http://127.0.0.1:${server.port}/healthz`, 3); // warm the client up

const firstScanMs = applyScan(fleet, 'a');
const rescanMs = applyScan(fleet, 'b');
let certificates = 0;
for (const r of fleet.records()) certificates += r.certificates.length;

/** Time to produce the exposition in-process (no HTTP), e.g. right after a rescan. */
async function timeExposition() {
  const started = performance.now();
  await metrics.exposition();
  return performance.now() - started;
}

const renderAfterRescanMs = await timeExposition();
const renderCachedMs = [];
for (let i = 0; i < SCRAPES; i++) renderCachedMs.push(await timeExposition());
applyScan(fleet, 'c'); // every device changed again: the first HTTP scrape re-joins everything
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
const [cold] = await scrape(url, 1); // rebuilds the cached text after the rescan
const warm = await scrape(url, SCRAPES);
fleet.set(record(0, 'd')); // one device changes: the next scrape re-joins its bucket
const [afterOneChange] = await scrape(url, 1);
// A scan in progress: between two scrapes some devices changed (1,000 ≈ 50 devices/s for 20 s).
for (let i = 0; i < 1_000; i++) fleet.set(record(i * 37 % DEVICES, 'e'));
const [afterThousandChanges] = await scrape(url, 1);
delay.disable();
await client.terminate();
await server.close();

const ms = (value) => `${value.toFixed(1)} ms`;
const warmMs = warm.map((r) => r.ms);
console.table({
  devices: { value: DEVICES.toLocaleString('en') },
  certificates: { value: certificates.toLocaleString('en') },
  'first scan applied (all devices new)': { value: ms(firstScanMs) },
  'rescan applied (all devices replaced)': { value: ms(rescanMs) },
  'body size': { value: `${(warm[0].bytes / 1e6).toFixed(1)} MB` },
  'exposition() after rescan (in-process)': { value: ms(renderAfterRescanMs) },
  [`exposition() p50 / p99 (${SCRAPES} cached)`]: {
    value: `${ms(quantile(renderCachedMs, 0.5))} / ${ms(quantile(renderCachedMs, 0.99))}`,
  },
  'HTTP scrape after rescan (cache rebuilt)': { value: ms(cold.ms) },
  [`HTTP scrape p50 / p99 (${SCRAPES} cached)`]: { value: `${ms(quantile(warmMs, 0.5))} / ${ms(quantile(warmMs, 0.99))}` },
  'HTTP scrape after one device changed': { value: ms(afterOneChange.ms) },
  'HTTP scrape after 1,000 devices changed': { value: ms(afterThousandChanges.ms) },
  'longest event-loop stall during HTTP scrapes': { value: ms(delay.max / 1e6) },
  'heap used': { value: `${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB` },
});
