/** Calls `handler` once on SIGTERM or SIGINT; returns a function that stops listening. */
export function onShutdownSignal(handler: (signal: NodeJS.Signals) => void): () => void {
  const listener = (signal: NodeJS.Signals) => {
    stop();
    handler(signal);
  };
  const stop = () => {
    process.off('SIGTERM', listener);
    process.off('SIGINT', listener);
  };
  process.on('SIGTERM', listener);
  process.on('SIGINT', listener);
  return stop;
}
