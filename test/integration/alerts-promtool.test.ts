import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const PROMTOOL = process.env.PROMTOOL ?? 'promtool';
const dir = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));

/** Exit code and output of one promtool run; a non-zero exit is a result, not an exception. */
async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(PROMTOOL, args, { cwd: dir });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('deploy/prometheus rules with promtool', () => {
  it('promtool check rules accepts rules.yaml', async () => {
    const result = await promtool('check', 'rules', 'rules.yaml');
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/SUCCESS: [1-9]\d* rules found/);
  });

  it('promtool test rules passes every unit test', async () => {
    const result = await promtool('test', 'rules', 'rules.test.yaml');
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });
});
