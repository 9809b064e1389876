import { mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/domain/certificate.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { dumpDom, screenshot } from '../support/chromium.js';
import { sample, startDaemon, type TestDaemon } from '../support/daemon.js';
import { MARKUP_STRINGS } from '../support/hostile.js';

/** Where the screenshots go (kept after the run, for people to look at). */
const OUTPUT = process.env.STATUS_SCREENSHOT_DIR ?? join(tmpdir(), 'enos-cert-monitor-status-page');

let simulator: Simulator;
let daemon: TestDaemon;
let url: string;

/** Text as an HTML serialiser writes it in a text node. */
const serialised = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

beforeAll(async () => {
  simulator = await startSimulator({ devices: 120, seed: 143 });
  // Certificates needing action whose every text field is markup, on as many devices.
  const now = Date.now();
  MARKUP_STRINGS.forEach((text, i) => {
    const device = simulator.fleet.device(i + 1)!;
    simulator.fleet.setCertificates(device, [
      { certSN: text, certStatus: 0, expireDate: now + (i + 1) * 3_600_000, effectiveDate: now - 300 * DAY_MS, issuer: text, subject: text, issueAuthority: 'RSA', revoker: text, revokerReason: text },
    ]);
  });
  // Devices the gateway does not know, named with markup: they show among the failing devices.
  const unknown = MARKUP_STRINGS.map((text) => ({ orgId: 'demo-org', assetId: text }));
  daemon = await startDaemon(`
enos: { baseUrl: "${simulator.url}", appKey: demo-app-key, appSecret: demo-app-secret, maxRequestsPerSecond: 0, maxAttempts: 1 }
inventory: { discover: [{ orgId: demo-org }], devices: ${JSON.stringify(unknown)} }
schedule: { cron: "0 0 1 1 *", runOnStart: true }
`);
  await daemon.waitForMetrics((body) => sample(body, 'enos_scans_total') >= 1, 'the first scan');
  url = `http://127.0.0.1:${daemon.port}/`;
  mkdirSync(OUTPUT, { recursive: true });
});

afterAll(async () => {
  await daemon?.kill();
  await simulator?.close();
});

describe('the status page in headless Chromium', () => {
  // Each Chromium start takes seconds on a busy machine.
  const BROWSER_TIMEOUT_MS = 180_000;

  it('runs a script when a page allows one (the check below can see an injection)', { timeout: BROWSER_TIMEOUT_MS }, async () => {
    const dom = await dumpDom(`data:text/html,<p>x</p><script>document.documentElement.dataset.injected='control'</script>`);
    expect(dom).toContain('data-injected="control"');
  });

  it('renders the action table and the chart, shows hostile values as text, and runs nothing injected', { timeout: BROWSER_TIMEOUT_MS }, async () => {
    const dom = await dumpDom(url);
    expect(dom).not.toContain('data-injected');
    expect(dom).not.toMatch(/<script|<img|<iframe|<link/i);

    const table = /<table class="list" id="action-table">([\s\S]*?)<\/table>/.exec(dom)?.[1] ?? '';
    const rows = table.match(/<tr>/g) ?? [];
    const total = Number(/Certificates needing action \((\d+)\)/.exec(dom)?.[1]);
    expect(total).toBeGreaterThan(MARKUP_STRINGS.length);
    expect(rows).toHaveLength(Math.min(50, total) + 1);
    // The markup certificates end within hours: they lead the non-expired ones, as text.
    const cells = (html: string, label: string) => [...html.matchAll(new RegExp(`<td data-label="${label}"[^>]*>(.*?)</td>`, 'g'))].map((m) => m[1]);
    expect(cells(table, 'Cert SN')).toEqual(expect.arrayContaining(MARKUP_STRINGS.map(serialised)));

    const failing = /<table class="list" id="failing-table">([\s\S]*?)<\/table>/.exec(dom)?.[1] ?? '';
    expect(cells(failing, 'Device')).toEqual(expect.arrayContaining(MARKUP_STRINGS.map(serialised)));

    const chart = /<svg class="forecast"[\s\S]*?<\/svg>/.exec(dom)?.[0] ?? '';
    expect(chart.match(/<rect /g)).toHaveLength(27);
    const counts = [...chart.matchAll(/data-count="(\d+)"/g)].map((m) => Number(m[1]));
    expect(counts[1]).toBeGreaterThanOrEqual(MARKUP_STRINGS.length);
  });

  it('saves screenshots for a laptop and a phone', { timeout: BROWSER_TIMEOUT_MS }, async () => {
    const laptop = join(OUTPUT, 'status-page-laptop.png');
    const phone = join(OUTPUT, 'status-page-phone.png');
    await screenshot(url, laptop, 1280, 1600);
    await screenshot(url, phone, 390, 1400);
    for (const file of [laptop, phone]) expect(statSync(file).size, file).toBeGreaterThan(20_000);
    console.log(`status page screenshots: ${laptop} ${phone}`);
  });
});
