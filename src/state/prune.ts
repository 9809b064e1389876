import type { Logger } from '../util/log.js';
import type { Fence, Store } from './store.js';

/** Ids per delete round trip. */
const DELETE_BATCH = 1_000;

/**
 * Deletes the stored snapshots of devices a completely read inventory no longer lists, so that no
 * replica keeps exporting them. Their change history stays. A failure is logged, not thrown: the
 * next complete scan tries again. Returns how many snapshots were deleted.
 */
export async function pruneRemovedDevices(store: Store, inventory: ReadonlySet<string>, fence: Fence, log: Logger): Promise<number> {
  let deleted = 0;
  try {
    let gone: string[] = [];
    for await (const id of store.snapshotIds()) {
      if (inventory.has(id)) continue;
      gone.push(id);
      if (gone.length >= DELETE_BATCH) {
        deleted += await store.deleteSnapshots(gone, fence);
        gone = [];
      }
    }
    deleted += await store.deleteSnapshots(gone, fence);
  } catch (error) {
    log.warn({ err: error, deleted }, 'removed devices not deleted from the store; the next complete scan retries');
    return deleted;
  }
  if (deleted > 0) log.info({ devices: deleted }, 'devices no longer in the inventory deleted from the store');
  return deleted;
}
