/**
 * Groups of devices whose label sets read alike: values that cleaning or capping made equal
 * (`a\u0001` and `a\u0002`, two 200-character ids sharing their first 128). One series per label
 * set: the first device of a group shows, the others wait until it goes. Only groups that hold a
 * device whose labels were altered exist, so a fleet of ordinary devices costs nothing here.
 */
export class LabelCollisions<E> {
  readonly #groups = new Map<string, E[]>();

  get size(): number {
    return this.#groups.size;
  }

  /**
   * Adds `entry` with its `labels`; `altered`: cleaning changed them; `twin`: the unaltered device
   * that already shows these labels, if any. Undefined when the entry is in no group (it shows),
   * else whether it shows.
   */
  add(entry: E, labels: string, altered: boolean, twin: E | undefined): boolean | undefined {
    let group = this.#groups.get(labels);
    if (group === undefined) {
      if (!altered) return undefined;
      group = twin === undefined ? [] : [twin];
      this.#groups.set(labels, group);
    }
    group.push(entry);
    return group[0] === entry;
  }

  /** Removes `entry`; returns the device that shows these labels instead, when it showed them. */
  remove(entry: E, labels: string): E | undefined {
    const group = this.#groups.get(labels);
    const index = group?.indexOf(entry) ?? -1;
    if (group === undefined || index < 0) return undefined;
    group.splice(index, 1);
    if (group.length === 0) this.#groups.delete(labels);
    return index === 0 ? group[0] : undefined;
  }
}
