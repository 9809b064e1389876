import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertmanagerClient, type AlertmanagerClientConfig } from '../../../src/alerts/alertmanager-client.js';
import type { PostableAlert } from '../../../src/alerts/sink.js';
import { createLogger } from '../../../src/util/log.js';
import { waitFor } from '../../support/wait.js';

interface Received {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly alerts: PostableAlert[];
}

type Answer = { status: number; body?: string } | 'hang';

/** A local HTTP server standing in for Alertmanager: records requests, answers as told. */
class FakeAlertmanager {
  readonly received: Received[] = [];
  readonly #server: Server;
  readonly #hanging: ServerResponse[] = [];
  answer: (request: number) => Answer = () => ({ status: 200 });

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<FakeAlertmanager> {
    const fake: FakeAlertmanager = new FakeAlertmanager(createServer((req, res) => fake.#handle(req, res)));
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Answers every hanging request with 200. */
  release(): void {
    for (const res of this.#hanging.splice(0)) res.end();
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      this.received.push({ path: req.url ?? '', headers: req.headers, alerts: JSON.parse(body) as PostableAlert[] });
      const answer = this.answer(this.received.length);
      if (answer === 'hang') {
        this.#hanging.push(res);
        return;
      }
      res.statusCode = answer.status;
      res.end(answer.body ?? '');
    });
  }
}

function alert(certSN: string, labels: Record<string, string> = {}): PostableAlert {
  return {
    labels: { alertname: 'EnosCertificateExpiring', severity: 'warning', cert_sn: certSN, ...labels },
    annotations: { summary: `certificate ${certSN}` },
    startsAt: '2026-06-01T00:00:00Z',
    endsAt: '2026-06-01T00:04:00Z',
  };
}

const sentSNs = (fake: FakeAlertmanager): string[] => fake.received.flatMap((r) => r.alerts.map((a) => a.labels.cert_sn ?? ''));

/** JSON log lines, for asserting what was logged. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger('debug', stream), lines };
}

describe('AlertmanagerClient', () => {
  const fakes: FakeAlertmanager[] = [];
  const started = async (): Promise<FakeAlertmanager> => {
    const fake = await FakeAlertmanager.start();
    fakes.push(fake);
    return fake;
  };
  const outcomes = { success: 0, failure: 0, dropped: 0 };
  const observer = {
    notification: (outcome: 'success' | 'failure') => (outcomes[outcome] += 1),
    dropped: (count: number) => (outcomes.dropped += count),
  };
  const client = (urls: string[], config: Partial<AlertmanagerClientConfig> = {}, log = capturingLogger().log) =>
    new AlertmanagerClient({
      config: { urls, timeoutMs: 2_000, maxAttempts: 3, batchSize: 500, queueCapacity: 100, ...config },
      log,
      observer,
      retryBaseDelayMs: 5,
    });

  afterEach(async () => {
    for (const fake of fakes.splice(0)) {
      fake.release();
      await fake.stop();
    }
    Object.assign(outcomes, { success: 0, failure: 0, dropped: 0 });
  });

  it('posts JSON batches of batchSize to /api/v2/alerts of every URL, keeping a path prefix', async () => {
    const [a, b] = [await started(), await started()];
    const alerts = client([a.url, `${b.url}/alertmanager/`], { batchSize: 2 });
    alerts.send(['1', '2', '3', '4', '5'].map((sn) => alert(sn)));
    expect(await alerts.flush(5_000)).toBe(true);
    expect(a.received.map((r) => r.alerts.length)).toEqual([2, 2, 1]);
    expect(sentSNs(a)).toEqual(['1', '2', '3', '4', '5']);
    expect(sentSNs(b)).toEqual(['1', '2', '3', '4', '5']);
    expect(a.received[0]).toMatchObject({ path: '/api/v2/alerts', headers: { 'content-type': 'application/json' } });
    expect(b.received[0]?.path).toBe('/alertmanager/api/v2/alerts');
    expect(outcomes).toEqual({ success: 6, failure: 0, dropped: 0 });
  });

  it('moves credentials from the URL into a basic auth header', async () => {
    const fake = await started();
    const alerts = client([fake.url.replace('http://', 'http://user:p%40ss@')]);
    alerts.send([alert('1')]);
    await alerts.flush(5_000);
    expect(fake.received[0]?.headers.authorization).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });

  it('does not retry a 4xx answer and logs its body truncated', async () => {
    const fake = await started();
    fake.answer = () => ({ status: 400, body: 'x'.repeat(5_000) });
    const { log, lines } = capturingLogger();
    const alerts = client([fake.url], {}, log);
    alerts.send([alert('1')]);
    await alerts.flush(5_000);
    expect(fake.received.length).toBe(1);
    expect(outcomes).toMatchObject({ success: 0, failure: 1, dropped: 1 });
    const logged = lines.find((line) => line.msg === 'alertmanager rejected alerts');
    expect(logged).toMatchObject({ status: 400 });
    expect((logged?.body as string).length).toBe(512);
  });

  it('retries a 5xx answer with backoff until it succeeds', async () => {
    const fake = await started();
    fake.answer = (n) => (n < 3 ? { status: 503 } : { status: 200 });
    const alerts = client([fake.url]);
    alerts.send([alert('1')]);
    await alerts.flush(5_000);
    expect(fake.received.length).toBe(3);
    expect(outcomes).toMatchObject({ success: 1, failure: 0 });
  });

  it('gives up after maxAttempts and counts one failure', async () => {
    const fake = await started();
    fake.answer = () => ({ status: 500 });
    const alerts = client([fake.url], { maxAttempts: 4 });
    alerts.send([alert('1')]);
    await alerts.flush(5_000);
    expect(fake.received.length).toBe(4);
    expect(outcomes).toMatchObject({ success: 0, failure: 1 });
  });

  it('retries network errors and timeouts', async () => {
    const down = await started();
    const downUrl = down.url;
    await down.stop();
    fakes.splice(fakes.indexOf(down), 1);
    const slow = await started();
    slow.answer = () => 'hang';
    const { log, lines } = capturingLogger();
    const alerts = client([downUrl, slow.url], { timeoutMs: 100, maxAttempts: 2 }, log);
    alerts.send([alert('1')]);
    await alerts.flush(5_000);
    expect(slow.received.length).toBe(2);
    expect(outcomes).toMatchObject({ success: 0, failure: 2 });
    const reasons = lines.filter((line) => line.msg === 'alert delivery failed').map((line) => line.reason);
    expect(reasons.sort()).toEqual(['network', 'timeout']);
  });

  it('delivers to a healthy Alertmanager while another hangs', async () => {
    const [hanging, healthy] = [await started(), await started()];
    hanging.answer = () => 'hang';
    const alerts = client([hanging.url, healthy.url], { timeoutMs: 10_000 });
    alerts.send([alert('1')]);
    await waitFor(() => healthy.received.length === 1 && outcomes.success === 1, { timeoutMs: 2_000 });
    expect(hanging.received.length).toBe(1);
    expect(outcomes.failure).toBe(0);
  });

  it('posts the whole current set in batches no larger than queueCapacity, however large the set', async () => {
    const fake = await started();
    const alerts = client([fake.url], { queueCapacity: 50, batchSize: 500 });
    const many = Array.from({ length: 1_200 }, (_, i) => alert(`sn-${i}`));
    alerts.send(many);
    expect(await alerts.flush(10_000)).toBe(true);
    expect(Math.max(...fake.received.map((r) => r.alerts.length))).toBe(50);
    expect(new Set(sentSNs(fake)).size).toBe(1_200);
    expect(fake.received).toHaveLength(24);
  });

  it('a new set replaces the one in progress: its pass resumes the rotation, nothing is queued twice', async () => {
    const fake = await started();
    fake.answer = (n) => (n === 1 ? 'hang' : { status: 200 });
    const alerts = client([fake.url], { queueCapacity: 2 });
    alerts.send(['1', '2', '3', '4'].map((sn) => alert(sn)));
    await waitFor(() => fake.received.length === 1);
    alerts.send(['1', '2', '3', '4', '5'].map((sn) => alert(sn, { round: '2' })));
    fake.release();
    await alerts.flush(5_000);
    // The batch in flight went out with the old set; a pass over all of the new set follows, from 3 on.
    expect(fake.received.map((r) => r.alerts.map((a) => `${a.labels.cert_sn}${a.labels.round ?? ''}`))).toEqual([
      ['1', '2'],
      ['32', '42'],
      ['52', '12'],
      ['22'],
    ]);
  });

  it('stops a pass at a replica that stays down, and resumes from the same alerts on the next hand-over', async () => {
    const fake = await started();
    fake.answer = (n) => (n === 2 ? { status: 503 } : { status: 200 });
    const alerts = client([fake.url], { queueCapacity: 1, maxAttempts: 1 });
    alerts.send(['1', '2', '3'].map((sn) => alert(sn)));
    await alerts.flush(5_000);
    expect(sentSNs(fake)).toEqual(['1', '2']);
    alerts.send(['1', '2', '3'].map((sn) => alert(sn)));
    await alerts.flush(5_000);
    expect(sentSNs(fake)).toEqual(['1', '2', '2', '3', '1']);
    expect(outcomes).toMatchObject({ failure: 1, dropped: 0 });
  });

  it('counts the endsAt of a firing alert from its own post, not from the hand-over', async () => {
    const fake = await started();
    fake.answer = (n) => (n === 1 ? 'hang' : { status: 200 });
    const alerts = client([fake.url], { queueCapacity: 1 });
    const handedOver = Date.now();
    const firing = (sn: string) => ({ ...alert(sn), endsAt: new Date(handedOver + 240_000).toISOString() });
    const resolved = { ...alert('resolved'), endsAt: new Date(handedOver - 1_000).toISOString() };
    alerts.send([firing('first'), firing('second'), resolved]);
    await waitFor(() => fake.received.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    fake.release();
    await alerts.flush(5_000);
    const [first, second, late] = fake.received.map((r) => r.alerts[0]!);
    expect(Date.parse(first!.endsAt) - handedOver).toBeGreaterThanOrEqual(240_000);
    expect(Date.parse(second!.endsAt) - handedOver).toBeGreaterThanOrEqual(240_300);
    expect(late!.endsAt).toBe(resolved.endsAt);
  });

  it('counts the alerts of a batch Alertmanager rejects as dropped, and moves on', async () => {
    const fake = await started();
    fake.answer = (n) => (n === 1 ? { status: 400, body: 'bad' } : { status: 200 });
    const alerts = client([fake.url], { queueCapacity: 2 });
    alerts.send(['1', '2', '3'].map((sn) => alert(sn)));
    await alerts.flush(5_000);
    expect(sentSNs(fake)).toEqual(['1', '2', '3']);
    expect(outcomes).toEqual({ success: 1, failure: 1, dropped: 2 });
  });

  it('drops invalid label and annotation names before sending', async () => {
    const fake = await started();
    const { log, lines } = capturingLogger();
    const alerts = client([fake.url], {}, log);
    alerts.send([{ ...alert('1', { 'bad-name': 'x', '0bad': 'y' }), annotations: { summary: 's', 'bad key': 'z' } }]);
    await alerts.flush(5_000);
    expect(fake.received[0]?.alerts[0]).toMatchObject({
      labels: { alertname: 'EnosCertificateExpiring', severity: 'warning', cert_sn: '1' },
      annotations: { summary: 's' },
    });
    expect(Object.keys(fake.received[0]!.alerts[0]!.labels)).toHaveLength(3);
    expect(lines.find((line) => line.msg === 'dropping invalid label names from alert')).toMatchObject({
      names: ['bad-name', '0bad', 'bad key'],
    });
  });

  it('with no URL only logs', async () => {
    const { log, lines } = capturingLogger();
    const alerts = client([], {}, log);
    alerts.send([alert('1')]);
    expect(await alerts.flush(100)).toBe(true);
    expect(lines.find((line) => line.msg === 'no alertmanager configured, alerts not sent')).toMatchObject({ alerts: 1 });
    expect(outcomes).toEqual({ success: 0, failure: 0, dropped: 0 });
  });

  it('flush gives up at its deadline and counts what was abandoned as dropped', async () => {
    const fake = await started();
    fake.answer = () => 'hang';
    const alerts = client([fake.url], { batchSize: 1, timeoutMs: 10_000 });
    alerts.send([alert('1'), alert('2'), alert('3')]);
    expect(await alerts.flush(100)).toBe(false);
    await waitFor(() => outcomes.dropped === 3);
    expect(fake.received.length).toBe(1);
    expect(outcomes).toMatchObject({ success: 0, failure: 0 });
  });
});
