import type { Config } from '../config/load.js';
import type { DeviceRef } from '../domain/types.js';
import type { EnosApi } from '../enos/api.js';
import type { Logger } from '../util/log.js';
import { SeenDevices } from './dedupe.js';
import { discoverDevices } from './discover-source.js';
import { readDeviceFile } from './file-source.js';
import type { InventoryProblem, ProblemReport, SourceContext } from './problem.js';

export type { InventoryProblem, InventorySource } from './problem.js';

export interface InventoryDeps {
  readonly api: Pick<EnosApi, 'searchDevices'>;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  /** Called for each problem as it happens (they are also collected in `problems`). */
  readonly onProblem?: (problem: InventoryProblem) => void;
}

export interface Inventory {
  /**
   * Streams each device once: static devices, then each file, then each discover entry. Iterate it
   * once. Throws the signal's reason when the signal aborts.
   */
  devices(): AsyncGenerator<DeviceRef>;
  /**
   * True only after `devices()` ran to its end with every source read in full. While false, a
   * device missing from the inventory must not be taken as removed.
   */
  readonly complete: boolean;
  /** Skipped entries and failed sources so far. */
  readonly problems: readonly InventoryProblem[];
}

export function openInventory(config: Config['inventory'], deps: InventoryDeps): Inventory {
  const log = deps.log.child({ component: 'inventory' });
  const problems: InventoryProblem[] = [];
  let failed = false;
  let finished = false;
  let opened = false;

  const record = (problem: InventoryProblem): void => {
    problems.push(problem);
    deps.onProblem?.(problem);
  };
  const report: ProblemReport = {
    rowSkipped(file, position, detail) {
      const where = 'line' in position ? `${file}:${position.line}` : `${file}[${position.index}]`;
      log.warn({ file, ...position, problem: detail }, 'inventory row skipped');
      record({ source: 'file', file, ...position, reason: 'invalid_row', message: `${where}: ${detail}` });
    },
    sourceFailed(problem) {
      failed = true;
      log.error(problem, 'inventory source failed');
      record(problem);
    },
    sourceSuspicious(problem) {
      log.warn(problem, 'inventory source found nothing');
      record({ ...problem, warning: true });
    },
  };
  const context: SourceContext = { report, signal: deps.signal };

  async function* everySource(): AsyncGenerator<DeviceRef> {
    yield* config.devices;
    for (const file of config.files) yield* readDeviceFile(file, context);
    for (const entry of config.discover) yield* discoverDevices(entry, deps.api, context);
  }

  async function* devices(): AsyncGenerator<DeviceRef> {
    if (opened) throw new Error('inventory devices() may be iterated only once');
    opened = true;
    const seen = new SeenDevices();
    let count = 0;
    for await (const device of everySource()) {
      deps.signal?.throwIfAborted();
      if (!seen.admit(device)) continue;
      count++;
      yield device;
    }
    finished = true;
    log.info({ devices: count, complete: !failed, problems: problems.length }, 'inventory read');
  }

  return {
    devices,
    get complete() {
      return finished && !failed;
    },
    problems,
  };
}
