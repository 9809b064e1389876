import { createHash } from 'node:crypto';

/** Label or annotation name → value, as Alertmanager takes them. */
export type LabelSet = Readonly<Record<string, string>>;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isValidLabelName(name: string): boolean {
  return LABEL_NAME.test(name);
}

/**
 * Stable identity of an alert: a hash of its labels sorted by name. Alertmanager identifies
 * alerts by their full label set too, so a label change (severity, an extra label) is a new alert.
 */
export function alertKey(labels: LabelSet): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((name) => [name, labels[name]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}
