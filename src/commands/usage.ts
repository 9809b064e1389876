/** Bad command-line usage: message on stderr, exit code 2. */
export function usageError(stderr: NodeJS.WritableStream, error: unknown): number {
  stderr.write(`${(error as Error).message}\nRun 'enos-cert-monitor --help' for usage.\n`);
  return 2;
}
