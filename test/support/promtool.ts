import { spawn } from 'node:child_process';

const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

/**
 * `promtool check metrics` over an exposition fed on stdin. Exit code and everything promtool
 * printed; a clean exposition gives code 0 and no output at all.
 */
export function promtoolCheckMetrics(exposition: string | Uint8Array): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? -1 : 0), output }));
    // promtool may exit before reading everything; the exit code tells the story, not EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(exposition);
  });
}
