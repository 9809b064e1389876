import { inspect } from 'node:util';

const MASK = '***';

/**
 * Holds a credential so that it cannot leak by accident: JSON, string conversion and
 * util.inspect all print a mask. Only `reveal()` gives the value.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [inspect.custom](): string {
    return MASK;
  }
}
