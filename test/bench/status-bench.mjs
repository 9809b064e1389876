// Status page and JSON API latency at fleet size, measured over HTTP against the real server:
// a fleet view of N devices (2 or 3 certificates each, about 13% of them needing action), the
// status page's index kept from the change listener, then
// sequential requests per endpoint: p50 / p95 / max and CPU time per request (which a busy
// machine does not inflate as it does wall-clock time), event-loop delay while serving, the
// index's first build and its heap. A second round changes 1% of the devices before every
// request, as a scan in progress does.
//
//   npm run bench:status -- [--devices 100000] [--requests 60] [--json]
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DAY_MS } from '../../dist/domain/certificate.js';
import { deviceId } from '../../dist/domain/device-id.js';
import { startHttpServer } from '../../dist/server/http-server.js';
import { FleetView } from '../../dist/state/fleet-view.js';
import { MemoryStore } from '../../dist/state/memory-store.js';
import { createStatusPage } from '../../dist/status/index.js';
import { seededRandom } from '../../dist/simulator/random.js';
import { systemClock } from '../../dist/util/clock.js';
import { silentLogger } from '../../dist/util/log.js';

const { values: flags } = parseArgs({
  options: {
    devices: { type: 'string', default: '100000' },
    requests: { type: 'string', default: '60' },
    json: { type: 'boolean', default: false },
  },
  strict: true,
});
const DEVICES = Number(flags.devices);
const REQUESTS = Number(flags.requests);
const THRESHOLDS = { warningDays: 30, criticalDays: 7 };
const ORGS = ['o1', 'o2', 'o3', 'o4'];
const now = Date.now();
const random = seededRandom(14);

function certificate(serial, days, status = 'valid') {
  return {
    certSN: `${serial}`,
    status,
    notBefore: now - 365 * DAY_MS,
    notAfter: now + Math.round(days * DAY_MS),
    issuer: 'EMAILADDRESS=ca@example.com, CN=EnOS CA, OU=EnOS CA, O=EnOS, L=Shanghai, ST=Shanghai, C=CN',
    subject: `CN=device-${serial}, O=EnOS`,
    issueAuthority: 'RSA',
    revoker: status === 'revoked' ? 'IoT_Hub' : '',
    revokerReason: status === 'revoked' ? 'KEY COMPROMISE' : '',
  };
}

/** One device: its current certificate (a quarter near or past expiry), an expired predecessor, sometimes a revoked one. */
function deviceRecord(index, generation = 0) {
  const device = { orgId: ORGS[index % ORGS.length], assetId: `asset-${String(index).padStart(7, '0')}` };
  const serial = index * 10 + generation * 1_000_000_000;
  const roll = random.next();
  const current = roll < 0.12 ? random.int(-20, 30) + random.next() : random.int(31, 730);
  const certificates = [certificate(serial, current), certificate(serial + 1, random.int(-700, -1), 'expired')];
  if (random.next() < 0.05) certificates.push(certificate(serial + 2, random.int(1, 700), 'revoked'));
  const failed = random.next() < 0.01;
  return { id: deviceId(device), device, query: failed ? 'error' : 'ok', ...(failed ? { reason: 'timeout' } : {}), certificates };
}

const gc = globalThis.gc ?? (() => {});
const fleet = new FleetView();
for (let index = 1; index <= DEVICES; index++) fleet.set(deviceRecord(index));
const certificates = [...fleet.records()].reduce((sum, record) => sum + record.certificates.length, 0);

const store = new MemoryStore({ historyMaxLength: 100_000, clock: systemClock });
gc();
const heapBefore = process.memoryUsage().heapUsed;
let started = performance.now();
const status = createStatusPage({ fleet, history: (query) => store.history(query), thresholds: THRESHOLDS, clock: systemClock, log: silentLogger });
const listenMs = performance.now() - started;
started = performance.now();
await status.answer('GET', '/api/v1/status', '');
const firstOrderMs = performance.now() - started;
gc();
const heapAfter = process.memoryUsage().heapUsed;
const actionTotal = Number(/needing action \((\d+)\)/.exec((await status.answer('GET', '/', '?limit=1')).body)[1]);

const server = await startHttpServer({
  host: '127.0.0.1',
  port: 0,
  metrics: { contentType: 'text/plain', exposition: async () => [] },
  ready: () => true,
  log: silentLogger,
  routes: status,
});
const base = `http://127.0.0.1:${server.port}`;

const ENDPOINTS = [
  '/',
  '/?state=critical',
  '/?org=o2&offset=5000',
  '/api/v1/certificates',
  '/api/v1/certificates?state=warning,critical,expired,revoked&limit=1000',
  '/api/v1/certificates?org=o3&offset=40000&limit=1000',
  '/api/v1/status',
];

async function measure(path, beforeEach) {
  const times = [];
  const cpu = [];
  let bytes = 0;
  for (let i = 0; i < REQUESTS; i++) {
    beforeEach?.();
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const response = await fetch(`${base}${path}`);
    const body = await response.arrayBuffer();
    const used = process.cpuUsage(cpuStart);
    times.push(performance.now() - start);
    cpu.push((used.user + used.system) / 1000);
    if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
    bytes = body.byteLength;
  }
  const at = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];
  return { path, p50: at(times, 0.5), p95: at(times, 0.95), max: Math.max(...times), cpuP50: at(cpu, 0.5), bytes };
}

let churnIndex = 0;
/** 1% of the devices get new certificates, as during a scan that finds changes everywhere. */
function churn() {
  for (let i = 0; i < DEVICES / 100; i++) {
    churnIndex = (churnIndex % DEVICES) + 1;
    fleet.set(deviceRecord(churnIndex, 1));
  }
}

const delay = monitorEventLoopDelay({ resolution: 1 });
const results = [];
delay.enable();
for (const path of ENDPOINTS) results.push({ round: 'steady', ...(await measure(path)) });
delay.disable();
const steadyDelayMaxMs = delay.max / 1e6;
delay.reset();
delay.enable();
for (const path of ['/', '/api/v1/certificates']) results.push({ round: 'churn 1%', ...(await measure(path, churn)) });
delay.disable();
const churnDelayMaxMs = delay.max / 1e6;
await server.close();

const summary = {
  devices: DEVICES,
  certificates,
  needingAction: actionTotal,
  indexListenMs: round(listenMs),
  indexFirstOrderMs: round(firstOrderMs),
  indexHeapMB: round((heapAfter - heapBefore) / 2 ** 20),
  indexBytesPerCertificate: round((heapAfter - heapBefore) / certificates),
  requestsPerEndpoint: REQUESTS,
  eventLoopDelayMaxMs: { steady: round(steadyDelayMaxMs), churn: round(churnDelayMaxMs) },
  node: process.version,
};

function round(value) {
  return Math.round(value * 10) / 10;
}

if (flags.json) {
  console.log(JSON.stringify({ ...summary, results }, null, 2));
} else {
  console.log(
    `${DEVICES} devices, ${certificates} certificates, ${actionTotal} needing action (node ${process.version})\n` +
      `index: built from the listener in ${summary.indexListenMs} ms, first order in ${summary.indexFirstOrderMs} ms, ` +
      `heap ${summary.indexHeapMB} MB (${summary.indexBytesPerCertificate} B per certificate${globalThis.gc ? '' : '; run with --expose-gc for exact heap'})\n`,
  );
  console.log(`${'round'.padEnd(9)} ${'endpoint'.padEnd(72)} ${'p50 ms'.padStart(7)} ${'p95 ms'.padStart(7)} ${'max ms'.padStart(7)} ${'cpu p50'.padStart(8)} ${'bytes'.padStart(7)}`);
  for (const r of results) {
    const cells = [r.p50, r.p95, r.max].map((ms) => ms.toFixed(1).padStart(7)).join(' ');
    console.log(`${r.round.padEnd(9)} ${r.path.padEnd(72)} ${cells} ${r.cpuP50.toFixed(1).padStart(8)} ${String(r.bytes).padStart(7)}`);
  }
  console.log('(ms of wall-clock time per request, client included; cpu: ms of this process\'s CPU time per request)');
  console.log(`\nevent-loop delay max while serving: ${summary.eventLoopDelayMaxMs.steady} ms steady, ${summary.eventLoopDelayMaxMs.churn} ms with churn`);
}
