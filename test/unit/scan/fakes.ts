import { deviceId } from '../../../src/domain/device-id.js';
import type { Certificate, DeviceRef } from '../../../src/domain/types.js';
import type { EnosApi } from '../../../src/enos/api.js';
import { EnosApiError, type Outcome } from '../../../src/enos/outcome.js';
import type { DeviceSource } from '../../../src/scan/scanner.js';
import type { Fence, Store } from '../../../src/state/store.js';

/** A lease that outlives any test clock, for the writes of one scanner. */
export async function writerFence(store: Store, holder = 'scanner'): Promise<Fence> {
  const attempt = await store.acquireLease(holder, 1e12);
  if (!attempt.held) throw new Error(`lease held by ${attempt.holder}`);
  return attempt.fence;
}

type Answer = readonly Certificate[] | Exclude<Outcome, 'success'>;

/** A List Certificate fake: answers per device id, counting calls and peak concurrency. */
export class FakeApi implements Pick<EnosApi, 'listCertificates'> {
  readonly answers = new Map<string, Answer>();
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** Resolves each call only when released (for abort and concurrency tests). */
  gate: Promise<void> | undefined;

  async listCertificates(device: DeviceRef, signal?: AbortSignal): Promise<Certificate[]> {
    this.calls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await Promise.resolve();
      if (this.gate) await Promise.race([this.gate, aborted(signal)]);
      signal?.throwIfAborted();
      const answer = this.answers.get(deviceId(device));
      if (answer === undefined) throw new EnosApiError('list_certificates', 'code_11404', 'device cannot be found');
      if (typeof answer === 'string') throw new EnosApiError('list_certificates', answer, `failed: ${answer}`);
      return [...answer];
    } finally {
      this.inFlight--;
    }
  }
}

function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((_resolve, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}

export function source(devices: readonly DeviceRef[], complete = true): DeviceSource {
  return {
    async *devices() {
      yield* devices;
    },
    complete,
  };
}

export function devices(count: number): DeviceRef[] {
  return Array.from({ length: count }, (_, i) => ({ orgId: 'o1', assetId: `a${i + 1}` }));
}
