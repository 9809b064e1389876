import { diffCertificates } from '../domain/diff.js';
import { sameCertificates } from '../domain/same-certificates.js';
import type { Certificate, ChangeEvent, DeviceRef, Thresholds } from '../domain/types.js';
import type { Clock } from '../util/clock.js';
import type { CommitRequest, Store, StoredSnapshot } from '../state/store.js';

/** A device whose fresh certificates wait to be diffed and stored. */
export interface FreshAnswer {
  readonly id: string;
  readonly device: DeviceRef;
  readonly previous: StoredSnapshot | undefined;
  readonly certificates: readonly Certificate[];
}

export type CommitOutcome =
  | { readonly id: string; readonly status: 'stored'; readonly events: readonly ChangeEvent[] }
  | { readonly id: string; readonly status: 'failed'; readonly reason: 'store_error' | 'store_conflict'; readonly message: string };

const MAX_CONFLICT_ROUNDS = 3;

/**
 * Diffs fresh answers against their stored snapshots and writes them in batches: one store
 * round trip per batch. A snapshot that another writer changed meanwhile (conflict) is read
 * again and diffed again, so each change is recorded exactly once.
 */
export async function commitAnswers(
  answers: readonly FreshAnswer[],
  deps: { store: Store; clock: Clock; thresholds: Thresholds },
): Promise<CommitOutcome[]> {
  const outcomes: CommitOutcome[] = [];
  let round = answers;
  for (let attempt = 1; round.length > 0; attempt++) {
    const now = deps.clock.now();
    const requests: CommitRequest[] = [];
    const writes: FreshAnswer[] = [];
    for (const answer of round) {
      const events = diffCertificates(answer.device, answer.previous?.snapshot.certificates, answer.certificates, now, deps.thresholds);
      if (answer.previous !== undefined && events.length === 0 && sameCertificates(answer.previous.snapshot.certificates, answer.certificates)) {
        outcomes.push({ id: answer.id, status: 'stored', events });
        continue;
      }
      writes.push(answer);
      requests.push({
        id: answer.id,
        expectedVersion: answer.previous?.version ?? 0,
        snapshot: { device: answer.device, certificates: answer.certificates, queriedAt: now },
        events,
      });
    }
    if (requests.length === 0) break;
    let results;
    try {
      results = await deps.store.commit(requests);
    } catch (error) {
      const message = (error as Error).message;
      outcomes.push(...writes.map((w) => ({ id: w.id, status: 'failed' as const, reason: 'store_error' as const, message })));
      break;
    }
    const conflicts: FreshAnswer[] = [];
    results.forEach((result, index) => {
      const write = writes[index]!;
      if (result.status === 'committed') outcomes.push({ id: write.id, status: 'stored', events: requests[index]!.events });
      else conflicts.push(write);
    });
    if (conflicts.length === 0) break;
    if (attempt >= MAX_CONFLICT_ROUNDS) {
      outcomes.push(...conflicts.map((c) => ({ id: c.id, status: 'failed' as const, reason: 'store_conflict' as const, message: 'snapshot kept changing under concurrent writers' })));
      break;
    }
    round = await rereadPrevious(conflicts, deps.store, outcomes);
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
