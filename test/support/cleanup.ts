import { afterEach } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';

export type Cleanup = () => Promise<void> | void;

/**
 * For a test file: `defer` registers what to undo after the current test (run last-in first-out),
 * and `simulator` starts one that is closed then. Call it at the top level of the file.
 */
export function cleanupAfterEach(): { defer: (cleanup: Cleanup) => void; simulator: (options?: SimulatorOptions) => Promise<Simulator> } {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const defer = (cleanup: Cleanup): void => {
    cleanups.push(cleanup);
  };
  return {
    defer,
    simulator: async (options) => {
      const started = await startSimulator(options);
      defer(() => started.close());
      return started;
    },
  };
}
