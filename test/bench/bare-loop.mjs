// The floor for the monitor's CPU: a bare node:http loop that does what any client of the List
// Certificate API must do for each device, and nothing else: sign the request, send it over a
// keep-alive connection (at most --concurrency in flight), read the answer and JSON.parse it.
// Prints {"devices", "cpuMicros", "wallMs"} as JSON. Run by scan-bench.mjs in its own process.
//
//   node test/bench/bare-loop.mjs --url URL --devices N [--concurrency 64]
import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values: flags } = parseArgs({
  options: {
    url: { type: 'string' },
    devices: { type: 'string' },
    concurrency: { type: 'string', default: '64' },
    'org-id': { type: 'string', default: 'demo-org' },
    'app-key': { type: 'string', default: 'demo-app-key' },
    'app-secret': { type: 'string', default: 'demo-app-secret' },
  },
  strict: true,
});
const base = new URL(flags.url);
const devices = Number(flags.devices);
const concurrency = Number(flags.concurrency);
const appKey = flags['app-key'];
const appSecret = flags['app-secret'];
const orgId = flags['org-id'];
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');

function call(method, path, headers, body = '') {
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, method, path, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const timestamp = Date.now();
const grant = await call(
  'POST',
  '/apim-token-service/v2.0/token/get',
  { 'content-type': 'application/json' },
  JSON.stringify({ appKey, encryption: sha256(`${appKey}${timestamp}${appSecret}`), timestamp }),
);
const token = grant.data.accessToken;

async function listCertificates(index) {
  const assetId = `asset-${String(index).padStart(6, '0')}`;
  const now = Date.now();
  // paramsData: names in ASCII order, each followed by its value, then the (empty) body.
  const signature = sha256(`${token}actionlistassetId${assetId}orgId${orgId}${now}${appSecret}`);
  const answer = await call('GET', `/connect-service/v2.0/certificates?action=list&orgId=${orgId}&assetId=${assetId}`, {
    'apim-accesstoken': token,
    'apim-timestamp': String(now),
    'apim-signature': signature,
  });
  if (answer.code !== 0) throw new Error(`device ${assetId}: code ${answer.code}`);
}

const cpuBefore = process.cpuUsage();
const started = performance.now();
let next = 1;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next <= devices) await listCertificates(next++);
  }),
);
const cpu = process.cpuUsage(cpuBefore);
agent.destroy();
console.log(JSON.stringify({ devices, cpuMicros: cpu.user + cpu.system, wallMs: performance.now() - started }));
