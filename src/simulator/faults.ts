/**
 * Injected failures. `http_*` answer with a gateway error status; `code_*` answer HTTP 200 with
 * that non-zero code (the token service's `status`); `malformed` answers 200 with a body that is
 * not JSON; `wrong_types` answers a valid envelope whose data has the wrong shape; `hang` never
 * answers (until the simulator closes or the client gives up); `slow` answers normally after
 * `delayMs`.
 */
export type FaultKind =
  | 'http_429'
  | 'http_500'
  | 'http_503'
  | 'code_99500'
  | 'code_99400'
  | 'code_11404'
  | 'malformed'
  | 'wrong_types'
  | 'hang'
  | 'slow';

export interface Fault {
  readonly kind: FaultKind;
  /** Answer this many requests with the fault, then clear it; absent = until cleared. */
  readonly times?: number;
  /** For `slow`; default DEFAULT_SLOW_DELAY_MS. */
  readonly delayMs?: number;
}

export const DEFAULT_SLOW_DELAY_MS = 5_000;

/** Selector that matches every device. */
export const ALL_DEVICES = '*';

interface ActiveFault {
  readonly fault: Fault;
  remaining: number;
}

/** The faults switched on, by device (assetId or deviceKey, or '*'), for Search Device and for the token service. */
export class Faults {
  readonly #devices = new Map<string, ActiveFault>();
  #search: ActiveFault | undefined;
  #token: ActiveFault | undefined;

  /** Faults List Certificate for a device (assetId or deviceKey) or, with '*', for every device. */
  set(selector: string, fault: Fault): void {
    this.#devices.set(selector, activate(fault));
  }

  setSearch(fault: Fault): void {
    this.#search = activate(fault);
  }

  setToken(fault: Fault): void {
    this.#token = activate(fault);
  }

  clear(): void {
    this.#devices.clear();
    this.#search = undefined;
    this.#token = undefined;
  }

  /** The fault for a request about a device known by these ids (a device's own fault before '*'); counts one use. */
  takeForDevice(ids: readonly string[]): Fault | undefined {
    const selector = [...ids, ALL_DEVICES].find((id) => this.#devices.has(id));
    if (selector === undefined) return undefined;
    const active = this.#devices.get(selector);
    if (active && use(active)) this.#devices.delete(selector);
    return active?.fault;
  }

  takeSearch(): Fault | undefined {
    const active = this.#search;
    if (active && use(active)) this.#search = undefined;
    return active?.fault;
  }

  takeToken(): Fault | undefined {
    const active = this.#token;
    if (active && use(active)) this.#token = undefined;
    return active?.fault;
  }
}

function activate(fault: Fault): ActiveFault {
  if (fault.times !== undefined && !(Number.isSafeInteger(fault.times) && fault.times > 0)) {
    throw new RangeError('fault.times must be a positive integer');
  }
  if (fault.delayMs !== undefined && !(Number.isFinite(fault.delayMs) && fault.delayMs >= 0)) {
    throw new RangeError('fault.delayMs must be a non-negative number');
  }
  return { fault, remaining: fault.times ?? Number.POSITIVE_INFINITY };
}

/** Counts one use; true when the fault is used up. */
function use(active: ActiveFault): boolean {
  active.remaining -= 1;
  return active.remaining <= 0;
}
