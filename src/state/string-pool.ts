/** Distinct strings a pool holds before it starts over (see StringPool). */
const DEFAULT_CAPACITY = 16_384;

/**
 * Shares equal strings: a fleet repeats a few orgs, product keys, issuers and subject patterns
 * across 100,000 devices, and each parsed answer brings its own copy of them. Bounded: when
 * `capacity` distinct strings are held (values that do not repeat, or a fleet that changes over
 * a long time), the pool starts over; strings already shared stay shared, later ones pool anew.
 */
export class StringPool {
  readonly #strings = new Map<string, string>();
  readonly #capacity: number;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.#capacity = capacity;
  }

  intern<T extends string>(value: T): T {
    const held = this.#strings.get(value);
    if (held !== undefined) return held as T;
    if (this.#strings.size >= this.#capacity) this.#strings.clear();
    this.#strings.set(value, value);
    return value;
  }

  get size(): number {
    return this.#strings.size;
  }
}
