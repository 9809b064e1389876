import { diffCertificates } from '../domain/diff.js';
import { sameCertificates } from '../domain/same-certificates.js';
import type { Certificate, ChangeEvent, DeviceRef, Thresholds } from '../domain/types.js';
import { LeaseLostError, type CommitRequest, type Fence, type Store, type StoredSnapshot } from '../state/store.js';

/** A device whose fresh certificates wait to be diffed and stored. */
export interface FreshAnswer {
  readonly id: string;
  readonly device: DeviceRef;
  readonly previous: StoredSnapshot | undefined;
  readonly certificates: readonly Certificate[];
  /** Epoch ms when the gateway's answer arrived: the stored snapshot's `queriedAt`. */
  readonly obtainedAt: number;
}

/** Alert-state records that depend on a device's change events (revoked holds), stored with them. */
export type AlertRecordsFor = (events: readonly ChangeEvent[], certificates: readonly Certificate[]) => ReadonlyMap<string, string>;

export interface CommitDeps {
  readonly store: Store;
  readonly thresholds: Thresholds;
  /** The lease the writes are made under; undefined: diff only, write nothing (read-only scan). */
  readonly fence: Fence | undefined;
  readonly alertRecordsFor?: AlertRecordsFor;
}

/**
 * `stored`: the answer is the device's snapshot now (`events` recorded with it, or computed only
 * when nothing is written). `superseded`: the store holds a later answer (`certificates`); this one
 * was dropped without a change event.
 */
export type CommitOutcome =
  | { readonly id: string; readonly status: 'stored'; readonly events: readonly ChangeEvent[] }
  | { readonly id: string; readonly status: 'superseded'; readonly certificates: readonly Certificate[] }
  | {
      readonly id: string;
      readonly status: 'failed';
      readonly reason: 'store_error' | 'store_conflict' | 'lease_lost';
      readonly message: string;
    };

const MAX_CONFLICT_ROUNDS = 3;

/**
 * Diffs fresh answers against their stored snapshots and writes them in batches: one store
 * round trip per batch. A snapshot that another writer changed meanwhile (conflict) is read
 * again: when it comes from a later answer, this answer is dropped (newer wins); otherwise it is
 * diffed again, so each change is recorded exactly once.
 */
export async function commitAnswers(answers: readonly FreshAnswer[], deps: CommitDeps): Promise<CommitOutcome[]> {
  const outcomes: CommitOutcome[] = [];
  let round = answers;
  for (let attempt = 1; round.length > 0; attempt++) {
    const requests: CommitRequest[] = [];
    const writes: FreshAnswer[] = [];
    for (const answer of round) {
      const { previous, obtainedAt } = answer;
      if (previous !== undefined && previous.snapshot.queriedAt > obtainedAt) {
        outcomes.push({ id: answer.id, status: 'superseded', certificates: previous.snapshot.certificates });
        continue;
      }
      const events = diffCertificates(answer.device, previous?.snapshot.certificates, answer.certificates, obtainedAt, deps.thresholds);
      const unchanged = previous !== undefined && events.length === 0 && sameCertificates(previous.snapshot.certificates, answer.certificates);
      if (unchanged || deps.fence === undefined) {
        outcomes.push({ id: answer.id, status: 'stored', events });
        continue;
      }
      writes.push(answer);
      const alertRecords = events.length > 0 ? deps.alertRecordsFor?.(events, answer.certificates) : undefined;
      requests.push({
        id: answer.id,
        expectedVersion: previous?.version ?? 0,
        snapshot: { device: answer.device, certificates: answer.certificates, queriedAt: obtainedAt },
        events,
        ...(alertRecords !== undefined && alertRecords.size > 0 ? { alertRecords } : {}),
      });
    }
    if (requests.length === 0 || deps.fence === undefined) break;
    let results;
    try {
      results = await deps.store.commit(requests, deps.fence);
    } catch (error) {
      const reason: 'lease_lost' | 'store_error' = error instanceof LeaseLostError ? 'lease_lost' : 'store_error';
      const message = (error as Error).message;
      outcomes.push(...writes.map((w) => ({ id: w.id, status: 'failed' as const, reason, message })));
      break;
    }
    const retry: FreshAnswer[] = [];
    results.forEach((result, index) => {
      const write = writes[index]!;
      if (result.status === 'committed') outcomes.push({ id: write.id, status: 'stored', events: requests[index]!.events });
      else retry.push(write); // a conflict, or a later answer stored: the re-read tells which
    });
    if (retry.length === 0) break;
    if (attempt >= MAX_CONFLICT_ROUNDS) {
      outcomes.push(...retry.map((c) => ({ id: c.id, status: 'failed' as const, reason: 'store_conflict' as const, message: 'snapshot kept changing under concurrent writers' })));
      break;
    }
    round = await rereadPrevious(retry, deps.store, outcomes);
  }
  return outcomes;
}

async function rereadPrevious(conflicts: FreshAnswer[], store: Store, outcomes: CommitOutcome[]): Promise<FreshAnswer[]> {
  try {
    const current = await store.getSnapshots(conflicts.map((c) => c.id));
    return conflicts.map((c) => ({ ...c, previous: current.get(c.id) }));
  } catch (error) {
    const message = (error as Error).message;
    outcomes.push(...conflicts.map((c) => ({ id: c.id, status: 'failed' as const, reason: 'store_error' as const, message })));
    return [];
  }
}
