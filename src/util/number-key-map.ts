/** The share of slots in use past which the table doubles. */
const MAX_LOAD = 0.75;
const MIN_CAPACITY = 16;

/**
 * A map from integer keys (0 ≤ key < 2^53) to values, for indexes with a key per certificate of
 * the fleet. A `Map` keyed by such numbers boxes each key (16 bytes) and spends 28 bytes per slot
 * at up to twice the slots needed; here a slot is 16 bytes (the key in a Float64Array, the value
 * in an array) and growing copies two flat arrays instead of rehashing a million entries in one
 * slow turn. Open addressing with linear probing; deletion shifts the run back (no tombstones).
 */
export class NumberKeyMap<V> {
  /** key + 1 per slot; 0 marks an empty slot. */
  #keys: Float64Array;
  #values: (V | undefined)[];
  #mask: number;
  #size = 0;

  constructor(initialCapacity = MIN_CAPACITY) {
    const capacity = 2 ** Math.ceil(Math.log2(Math.max(MIN_CAPACITY, initialCapacity)));
    this.#keys = new Float64Array(capacity);
    this.#values = emptyValues(capacity);
    this.#mask = capacity - 1;
  }

  get size(): number {
    return this.#size;
  }

  get(key: number): V | undefined {
    const slot = this.#slotOf(key);
    return this.#keys[slot] === 0 ? undefined : this.#values[slot];
  }

  set(key: number, value: V): void {
    if (!Number.isSafeInteger(key) || key < 0) throw new RangeError(`not a key: ${key}`);
    let slot = this.#slotOf(key);
    if (this.#keys[slot] === 0) {
      if (this.#size + 1 > MAX_LOAD * this.#keys.length) {
        this.#grow();
        slot = this.#slotOf(key);
      }
      this.#keys[slot] = key + 1;
      this.#size++;
    }
    this.#values[slot] = value;
  }

  delete(key: number): boolean {
    let hole = this.#slotOf(key);
    const keys = this.#keys;
    if (keys[hole] === 0) return false;
    const mask = this.#mask;
    // Moves back every later entry of the run that may sit in the hole, so lookups stop at empty slots.
    for (let next = (hole + 1) & mask; keys[next] !== 0; next = (next + 1) & mask) {
      const home = homeSlot(keys[next]! - 1, mask);
      const staysAfterHole = hole <= next ? hole < home && home <= next : hole < home || home <= next;
      if (staysAfterHole) continue;
      keys[hole] = keys[next]!;
      this.#values[hole] = this.#values[next];
      hole = next;
    }
    keys[hole] = 0;
    this.#values[hole] = undefined;
    this.#size--;
    return true;
  }

  /** The slot holding `key`, or else the empty slot that ends its run: where it would go. */
  #slotOf(key: number): number {
    const keys = this.#keys;
    const mask = this.#mask;
    const stored = key + 1;
    let slot = homeSlot(key, mask);
    while (keys[slot] !== 0 && keys[slot] !== stored) slot = (slot + 1) & mask;
    return slot;
  }

  #grow(): void {
    const keys = this.#keys;
    const values = this.#values;
    this.#keys = new Float64Array(keys.length * 2);
    this.#values = emptyValues(keys.length * 2);
    this.#mask = keys.length * 2 - 1;
    for (let slot = 0; slot < keys.length; slot++) {
      if (keys[slot] === 0) continue;
      const free = this.#slotOf(keys[slot]! - 1);
      this.#keys[free] = keys[slot]!;
      this.#values[free] = values[slot];
    }
  }
}

function homeSlot(key: number, mask: number): number {
  const low = key >>> 0;
  const high = (key / 0x1_0000_0000) >>> 0;
  const mixed = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
  return (mixed ^ (mixed >>> 15)) & mask;
}

/** A packed array of `capacity` empty slots (`new Array(n)` past 100,000 would be a slow dictionary). */
function emptyValues<V>(capacity: number): (V | undefined)[] {
  const values: (V | undefined)[] = [];
  for (let slot = 0; slot < capacity; slot++) values.push(undefined);
  return values;
}
