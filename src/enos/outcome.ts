/** The gateway operations the monitor calls; metric label `operation`. */
export type Operation = 'token' | 'list_certificates' | 'search_devices';

/**
 * Every API call ends in exactly one of these; shared by logs and the metric label `outcome`.
 * `http_<status>` for a gateway HTTP error without an API code, `code_<code>` for a non-zero
 * `code` (or token `status`) in the body.
 */
export type Outcome =
  | 'success'
  | `http_${number}`
  | `code_${number}`
  | 'timeout'
  | 'network'
  | 'invalid_response';

/** A failed API call: the outcome is the reason; the message never holds a credential. */
export class EnosApiError extends Error {
  constructor(
    readonly operation: Operation,
    readonly outcome: Exclude<Outcome, 'success'>,
    message: string,
  ) {
    super(message);
    this.name = 'EnosApiError';
  }
}

/** Observes every HTTP attempt (metrics hook). */
export type RequestObserver = (operation: Operation, outcome: Outcome, durationSeconds: number) => void;
