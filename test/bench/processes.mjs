// The processes a benchmark runs beside the monitor, so their CPU and memory are not counted as
// the monitor's: the EnOS simulator, redis-server and a /metrics scraper.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;

/** Children still running when the benchmark dies must not outlive it. */
const running = new Set();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function track(child) {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system) a running child has used so far, from /proc/PID/stat. */
function processCpuSeconds(pid) {
  // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

async function waitFor(what, check) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} did not start within ${START_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `enos-cert-monitor simulate` in its own process; resolves with its URL once it listens. */
export async function startSimulator({ devices, latencyMs, minCertificates }) {
  const args = [CLI, 'simulate', '--port', '0', '--devices', String(devices), '--latency-ms', String(latencyMs)];
  args.push('--min-certificates', String(minCertificates));
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] }));
  let output = '';
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const found = /listening on (http:\/\/[^\s]+) /.exec(output);
      if (found) resolve(found[1]);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited (${code}) before listening:\n${output}`)));
  });
  child.stdout.resume();
  return { url, cpuSeconds: () => processCpuSeconds(child.pid), stop: () => stop(child) };
}

/** A throw-away redis-server on a free loopback port, without persistence. */
export async function startRedis() {
  const dir = await mkdtemp(join(tmpdir(), 'bench-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child = track(spawn(process.env.REDIS_SERVER ?? 'redis-server', args, { stdio: 'ignore' }));
  const url = `redis://127.0.0.1:${port}`;
  await waitFor('redis-server', async () => {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  });
  return {
    url,
    cpuSeconds: () => processCpuSeconds(child.pid),
    stop: async () => {
      await stop(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Used memory of a Redis, for the report. */
export async function redisMemory(url) {
  return withRedis(url, async (client) => Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1] ?? Number.NaN));
}

/** Removes what a benchmark wrote to a Redis it was given. */
export async function deleteRedisKeys(url, keys) {
  await withRedis(url, (client) => client.del(...keys));
}

async function withRedis(url, work) {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return await work(client);
  } finally {
    client.disconnect();
  }
}

const SCRAPER = `
import http from 'node:http';
const get = (url, gzip) => new Promise((resolve, reject) => {
  const started = performance.now();
  http.get(url, { agent: false, headers: gzip ? { 'Accept-Encoding': 'gzip' } : {} }, (res) => {
    let bytes = 0;
    res.on('data', (chunk) => { bytes += chunk.length; });
    res.on('end', () => resolve({ ms: performance.now() - started, bytes, status: res.statusCode }));
  }).on('error', reject);
});
process.on('message', async ({ id, url, gzip }) => {
  try {
    process.send({ id, result: await get(url, gzip) });
  } catch (error) {
    process.send({ id, error: error.message });
  }
});
`;

/**
 * An HTTP client in its own process, so reading a large body does not load the monitor's event
 * loop or count as its CPU. `scrape(url, { gzip })` resolves with `{ ms, bytes }` (bytes on the
 * wire), timed by the client; `gzip` asks for a compressed answer, as Prometheus does.
 */
export function startScraper() {
  const child = track(
    spawn(process.execPath, ['--input-type=module', '-e', SCRAPER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  const waiting = new Map();
  let nextId = 0;
  child.on('message', ({ id, result, error }) => {
    const { resolve, reject } = waiting.get(id);
    waiting.delete(id);
    if (error !== undefined) reject(new Error(`scrape failed: ${error}`));
    else if (result.status !== 200) reject(new Error(`scrape answered HTTP ${result.status}`));
    else resolve(result);
  });
  return {
    scrape: (url, { gzip = true } = {}) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        child.send({ id, url, gzip });
      }),
    stop: () => stop(child),
  };
}

const BARE_LOOP = fileURLToPath(new URL('./bare-loop.mjs', import.meta.url));

/** The bare signed node:http loop (bare-loop.mjs) in its own process; resolves with its result. */
export async function runBareLoop({ url, devices, concurrency }) {
  const args = [BARE_LOOP, '--url', url, '--devices', String(devices), '--concurrency', String(concurrency)];
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] }));
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk));
  const [code] = await once(child, 'close');
  if (code !== 0) throw new Error(`bare loop exited with code ${code}`);
  return JSON.parse(output);
}
