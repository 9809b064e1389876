import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's chromium (test/run-all.sh installs it); CHROMIUM overrides the path. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--hide-scrollbars',
];

/** Runs headless Chromium once on `url` with `args`, in a fresh profile; resolves its stdout. */
async function runChromium(url: string, args: readonly string[], timeoutMs = 90_000): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'chromium-profile-'));
  try {
    return await new Promise<string>((resolve, reject) => {
      execFile(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, ...args, url], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`chromium failed on ${url}: ${error.message}\n${stderr.slice(-2_000)}`));
        else resolve(stdout);
      });
    });
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** The DOM after the page loaded (and ran whatever script it was allowed to), serialised. */
export function dumpDom(url: string): Promise<string> {
  return runChromium(url, ['--dump-dom']);
}

/** A PNG of the page at `width`×`height` CSS pixels. */
export async function screenshot(url: string, path: string, width: number, height: number): Promise<void> {
  await runChromium(url, [`--screenshot=${path}`, `--window-size=${width},${height}`]);
}
