import { EnosApiError } from '../../src/enos/outcome.js';

/** The EnosApiError a promise rejects with; anything else fails the test. */
export async function failureOf(promise: Promise<unknown>): Promise<EnosApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof EnosApiError)) throw new Error(`expected an EnosApiError, got ${String(error)}`);
  return error;
}
