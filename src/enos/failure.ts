import { singleLine } from '../util/text.js';
import { EnosApiError, type Operation, type Outcome } from './outcome.js';

/** Long enough for a gateway message, short enough that no payload is ever echoed whole. */
const MAX_DETAIL_CHARS = 200;

/** A detail fit for an error message: one line, control characters dropped, capped. */
export function shortDetail(text: string): string {
  const line = singleLine(text).trim();
  return line.length > MAX_DETAIL_CHARS ? `${line.slice(0, MAX_DETAIL_CHARS)}…` : line;
}

/** The error of one failed call: `<operation> failed: <outcome> (<detail>)`. */
export function apiFailure(operation: Operation, outcome: Exclude<Outcome, 'success'>, detail?: string): EnosApiError {
  const suffix = detail ? ` (${shortDetail(detail)})` : '';
  return new EnosApiError(operation, outcome, `${operation} failed: ${outcome}${suffix}`);
}
