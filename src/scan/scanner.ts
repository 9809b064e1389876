import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import { deviceId } from '../domain/device-id.js';
import type { QueryResult } from '../domain/device.js';
import type { Certificate, ChangeEvent, DeviceRef, Thresholds } from '../domain/types.js';
import type { EnosApi } from '../enos/api.js';
import { EnosApiError } from '../enos/outcome.js';
import type { FleetView } from '../state/fleet-view.js';
import { pruneRemovedDevices } from '../state/prune.js';
import type { Fence, Store, StoredSnapshot } from '../state/store.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { commitAnswers, type AlertRecordsFor, type CommitOutcome, type FreshAnswer } from './commit-buffer.js';
import { FailureSummary } from './failure-summary.js';
import { ProgressReporter } from './progress.js';
import type { DeviceOutcome, FailureReason, ScanResult, ScanSummary } from './types.js';

/** A part of the inventory that could not be read (a failed discovery, an unreadable file). */
export interface SourceProblem {
  readonly source?: string;
  readonly file?: string;
  readonly orgId?: string;
  readonly reason: string;
  readonly message: string;
  /** Not an error: the source was read in full (e.g. a discovery that found nothing). */
  readonly warning?: true;
}

/** Where the scan gets its devices; `complete` and `problems` are read after iteration ends. */
export interface DeviceSource {
  devices(): AsyncIterable<DeviceRef>;
  readonly complete: boolean;
  readonly problems?: readonly SourceProblem[];
}

/** Per-scan hooks (metrics). */
export interface ScanObserver {
  deviceQuery(result: QueryResult): void;
  certificateChanges(events: readonly ChangeEvent[]): void;
}

export interface ScannerDeps {
  readonly api: Pick<EnosApi, 'listCertificates'>;
  readonly store: Store;
  /** The leader lease the scan writes under; undefined: a read-only scan that diffs and writes nothing. */
  readonly fence: Fence | undefined;
  /** Alert-state records stored in the same atomic step as the change events they depend on. */
  readonly alertRecordsFor?: AlertRecordsFor;
  readonly fleet: FleetView;
  readonly clock: Clock;
  readonly log: Logger;
  readonly thresholds: Thresholds;
  readonly concurrency: number;
  readonly observer?: ScanObserver;
  /** Devices per store round trip (read and write). */
  readonly batchSize?: number;
  readonly progressIntervalMs?: number;
  /**
   * When this instance's last complete scan started: every device that scan found answering
   * answered after it (the lower bound of a newly failing device's last good answer).
   */
  readonly lastCompleteScanStartedAt?: number;
}

export interface ScanReport {
  readonly summary: ScanSummary;
  /** The devices whose query brought no certificates (not found, or failed); the others are only counted. */
  readonly deviceProblems: readonly DeviceOutcome[];
  readonly events: readonly ChangeEvent[];
  readonly inventoryProblems: readonly SourceProblem[];
  /** The store refused a write: another replica holds the lease. The scan stopped there. */
  readonly leaseLost: boolean;
}

const DEFAULT_BATCH_SIZE = 256;

type Queried =
  | { readonly kind: 'fresh'; readonly answer: FreshAnswer }
  | { readonly kind: 'failed'; readonly outcome: DeviceOutcome; readonly kept: readonly Certificate[] };

/**
 * One scan: every device of the source queried once, at most `concurrency` at a time.
 * Snapshots are read and written in batches; one device's failure never stops the scan;
 * an aborted signal stops new queries and stores what has already been answered. A write the
 * store refuses for a lost lease stops the scan at once: nothing more is written.
 */
export async function runScan(source: DeviceSource, deps: ScannerDeps, outerSignal: AbortSignal): Promise<ScanReport> {
  const leaseLost = new AbortController();
  const signal = AbortSignal.any([outerSignal, leaseLost.signal]);
  // Every query in flight may wait on it (for a token being renewed, or a retry's delay): not a leak.
  setMaxListeners(deps.concurrency + 10, signal);
  const batchSize = deps.batchSize ?? DEFAULT_BATCH_SIZE;
  const log = deps.log;
  const startedAt = deps.clock.now();
  const limit = pLimit(deps.concurrency);
  const devices: DeviceCounts = { total: 0, ok: 0, notFound: 0, failed: 0 };
  const deviceProblems: DeviceOutcome[] = [];
  const events: ChangeEvent[] = [];
  const seen = new Set<string>();
  const progress = new ProgressReporter(log, deps.clock, deps.progressIntervalMs);
  const failures = new FailureSummary();
  log.info('scan started');
  let awaitingCommit: FreshAnswer[] = [];
  let commitChain: Promise<void> = Promise.resolve();
  const inFlight = new Set<Promise<void>>();
  /** Wakes the inventory loop when it waits for the queue to shrink. */
  let taskFinished: (() => void) | undefined;

  const record = (outcome: DeviceOutcome, certificates: readonly Certificate[]): void => {
    deps.fleet.set({
      id: outcome.id,
      device: outcome.device,
      query: outcome.query,
      ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
      ...(outcome.lastAnswerAt !== undefined ? { lastAnswerAt: outcome.lastAnswerAt } : {}),
      certificates,
    });
    countQuery(devices, outcome.query);
    deps.observer?.deviceQuery(outcome.query);
    if (outcome.events.length > 0) {
      events.push(...outcome.events);
      deps.observer?.certificateChanges(outcome.events);
    }
    if (outcome.query !== 'ok') {
      deviceProblems.push(lightOutcome(outcome, deps.fleet));
      failures.add(outcome);
      log.debug({ device: outcome.id, reason: outcome.reason, err: outcome.message, lastAnswerAt: outcome.lastAnswerAt }, 'device query failed');
    }
    progress.deviceDone();
  };

  const flush = (): void => {
    if (awaitingCommit.length === 0) return;
    const batch = awaitingCommit;
    awaitingCommit = [];
    commitChain = commitChain.then(async () => {
      if (leaseLost.signal.aborted) return void recordUnstored(batch, record, deps);
      const results = await commitAnswers(batch, deps);
      if (results.some((result) => result.status === 'failed' && result.reason === 'lease_lost')) {
        leaseLost.abort(new Error('the leader lease was lost'));
      }
      applyCommits(batch, results, record, deps);
    });
  };

  const handle = (queried: Queried): void => {
    if (queried.kind === 'failed') {
      record(queried.outcome, queried.kept);
      return;
    }
    awaitingCommit.push(queried.answer);
    if (awaitingCommit.length >= batchSize) flush();
  };

  try {
    for await (const chunk of inChunks(source.devices(), batchSize)) {
      if (signal.aborted) break;
      const devices = new Map<string, DeviceRef>();
      for (const device of chunk) {
        const id = heldId(deps.fleet, deviceId(device));
        if (!seen.has(id)) devices.set(id, device);
        seen.add(id);
      }
      let previous: Map<string, StoredSnapshot>;
      try {
        previous = await deps.store.getSnapshots([...devices.keys()]);
      } catch (error) {
        for (const [id, device] of devices) record(storeFailure(device, id, error, deps), deps.fleet.get(id)?.certificates ?? []);
        continue;
      }
      for (const [id, device] of devices) {
        const task = limit(() => queryDevice(device, id, previous.get(id), deps, signal)).then(handle);
        inFlight.add(task);
        void task.finally(() => {
          inFlight.delete(task);
          taskFinished?.();
        });
      }
      // Back-pressure: the inventory is read only as fast as devices are queried. (Not
      // Promise.race(inFlight): each race adds a reaction to every task in flight, which costs
      // O(in flight) per finished device and keeps the reactions alive until the tasks end.)
      while (limit.pendingCount > batchSize * 2) await new Promise<void>((resolve) => (taskFinished = resolve));
      taskFinished = undefined;
    }
  } catch (error) {
    // The inventory throws the abort reason when the scan is stopped; anything else is a bug.
    if (!signal.aborted) throw error;
  }
  progress.setTotal(seen.size);
  await Promise.all(inFlight);
  flush();
  await commitChain;

  const finishedAt = deps.clock.now();
  const complete = source.complete && !signal.aborted;
  if (complete) {
    removeUnseen(deps.fleet, seen);
    // A read-only scan (no fence) deletes nothing from the store either.
    if (deps.fence !== undefined) await pruneRemovedDevices(deps.store, seen, deps.fence, log);
  }
  const result = scanResult(deviceProblems, devices, complete, signal.aborted);
  const summary: ScanSummary = { startedAt, finishedAt, result, devices, inventoryComplete: complete, aborted: signal.aborted };
  failures.log(log);
  return {
    summary,
    deviceProblems,
    events,
    inventoryProblems: source.problems ?? [],
    leaseLost: leaseLost.signal.aborted,
  };
}

async function queryDevice(
  device: DeviceRef,
  id: string,
  previous: StoredSnapshot | undefined,
  deps: ScannerDeps,
  signal: AbortSignal,
): Promise<Queried> {
  const kept = previous?.snapshot.certificates ?? deps.fleet.get(id)?.certificates ?? [];
  const failed = (query: QueryResult, reason: FailureReason, message: string): Queried => ({
    kind: 'failed',
    outcome: { id, device, query, reason, message, ...lastAnswer(id, previous, deps), events: [] },
    kept,
  });
  if (signal.aborted) return failed('error', 'aborted', 'scan aborted before the query');
  try {
    const certificates = await deps.api.listCertificates(device, signal);
    return { kind: 'fresh', answer: { id, device, previous, certificates, obtainedAt: deps.clock.now() } };
  } catch (error) {
    if (error instanceof EnosApiError) {
      const query = error.outcome === 'code_11404' ? 'not_found' : 'error';
      return failed(query, error.outcome, error.message);
    }
    if (signal.aborted) return failed('error', 'aborted', 'scan aborted during the query');
    // Counted and summarised as internal_error like any failure; the stack is for debugging.
    deps.log.debug({ device: id, err: error }, 'unexpected error querying a device');
    return failed('error', 'internal_error', (error as Error).message);
  }
}

function storeFailure(device: DeviceRef, id: string, error: unknown, deps: ScannerDeps): DeviceOutcome {
  return { id, device, query: 'error', reason: 'store_error', message: (error as Error).message, ...lastAnswer(id, undefined, deps), events: [] };
}

/**
 * A failing device's last good answer, as far as this instance knows: carried over while it keeps
 * failing, else the start of the last complete scan that found it answering, else when its stored
 * snapshot was written. One number per failing device, none for the others.
 */
function lastAnswer(id: string, previous: StoredSnapshot | undefined, deps: ScannerDeps): { lastAnswerAt?: number } {
  const known = deps.fleet.get(id);
  const fromRecord = known === undefined ? undefined : known.query === 'ok' ? deps.lastCompleteScanStartedAt : known.lastAnswerAt;
  const candidates = [fromRecord, previous?.snapshot.queriedAt].filter((at): at is number => at !== undefined);
  return candidates.length === 0 ? {} : { lastAnswerAt: Math.max(...candidates) };
}

function applyCommits(
  batch: readonly FreshAnswer[],
  results: readonly CommitOutcome[],
  record: (outcome: DeviceOutcome, certificates: readonly Certificate[]) => void,
  deps: ScannerDeps,
): void {
  const answers = new Map(batch.map((answer) => [answer.id, answer]));
  for (const result of results) {
    const answer = answers.get(result.id)!;
    if (result.status === 'stored') {
      record({ id: answer.id, device: answer.device, query: 'ok', events: result.events }, answer.certificates);
    } else if (result.status === 'superseded') {
      record({ id: answer.id, device: answer.device, query: 'ok', events: [] }, result.certificates);
    } else {
      // Not stored means not diffed durably: keep what is known, the next scan diffs again.
      const kept = answer.previous?.snapshot.certificates ?? deps.fleet.get(answer.id)?.certificates ?? [];
      const { id, device, previous } = answer;
      record({ id, device, query: 'error', reason: result.reason, message: result.message, ...lastAnswer(id, previous, deps), events: [] }, kept);
    }
  }
}

/** Answers left over once the lease was lost: not stored, so failed like any unstored answer. */
function recordUnstored(
  batch: readonly FreshAnswer[],
  record: (outcome: DeviceOutcome, certificates: readonly Certificate[]) => void,
  deps: ScannerDeps,
): void {
  const message = 'not stored: the leader lease was lost';
  applyCommits(batch, batch.map((answer) => ({ id: answer.id, status: 'failed', reason: 'lease_lost', message })), record, deps);
}

const NO_EVENTS: readonly ChangeEvent[] = Object.freeze([]);

/**
 * The outcome as the report keeps it until the scan ends: every device's, so for a large fleet it
 * points at what the fleet view holds anyway (its id and device) instead of this scan's copies.
 */
function lightOutcome(outcome: DeviceOutcome, fleet: FleetView): DeviceOutcome {
  const held = fleet.get(outcome.id);
  if (held === undefined) return outcome;
  return { ...outcome, id: held.id, device: held.device, events: outcome.events.length === 0 ? NO_EVENTS : outcome.events };
}

/** The fleet view's copy of a device id, so the scan's set of seen ids adds no strings of its own. */
function heldId(fleet: FleetView, id: string): string {
  return fleet.get(id)?.id ?? id;
}

function removeUnseen(fleet: FleetView, seen: ReadonlySet<string>): void {
  for (const id of [...fleet.ids()]) if (!seen.has(id)) fleet.delete(id);
}

type DeviceCounts = { -readonly [K in keyof ScanSummary['devices']]: number };

function countQuery(devices: DeviceCounts, query: QueryResult): void {
  devices.total++;
  if (query === 'ok') devices.ok++;
  else if (query === 'not_found') devices.notFound++;
  else devices.failed++;
}

/**
 * `failure`: nothing could be queried. `partial`: cut short, part of the inventory unread, or the
 * store failed for some devices. Otherwise `success`: devices whose own query failed do not count
 * against the scan (every fleet has a few); they are reported per device and by reason instead.
 */
function scanResult(deviceProblems: readonly DeviceOutcome[], devices: ScanSummary['devices'], inventoryComplete: boolean, aborted: boolean): ScanResult {
  const answered = devices.ok + devices.notFound;
  if (devices.total > 0 && answered === 0) return 'failure';
  if (devices.total === 0 && !inventoryComplete) return 'failure';
  if (!inventoryComplete || aborted || deviceProblems.some(isStoreFailure)) return 'partial';
  return 'success';
}

function isStoreFailure(outcome: DeviceOutcome): boolean {
  return outcome.reason === 'store_error' || outcome.reason === 'store_conflict';
}

async function* inChunks<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let chunk: T[] = [];
  for await (const item of items) {
    chunk.push(item);
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}
