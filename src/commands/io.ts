import type { Writable } from 'node:stream';

/** What a command gets from the CLI: its arguments after the command name, and the process I/O. */
export interface CommandContext {
  readonly args: readonly string[];
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
}

/** A command returns its exit code; cli.ts sets it on the process. */
export type Command = (context: CommandContext) => Promise<number>;
