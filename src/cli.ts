#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIG_ENV_VAR, DEFAULT_CONFIG_PATH } from './config/load.js';
import { checkConfigCommand } from './commands/check-config.js';
import { demoCommand } from './commands/demo.js';
import { historyCommand } from './commands/history.js';
import type { Command, CommandContext } from './commands/io.js';
import { runCommand } from './commands/run.js';
import { scanCommand } from './commands/scan.js';
import { SIMULATE_HELP, simulateCommand } from './commands/simulate.js';
import { VERSION } from './version.js';

const COMMANDS: Record<string, Command> = {
  run: runCommand,
  scan: scanCommand,
  'check-config': checkConfigCommand,
  history: historyCommand,
  simulate: simulateCommand,
  demo: demoCommand,
};

export const HELP = `enos-cert-monitor ${VERSION}: watches the X.509 certificates of EnOS IoT devices.

Usage: enos-cert-monitor <command> [options]

Commands:
  run [-c FILE]                      the daemon: scheduled scans, /metrics, alerts (SIGTERM stops it)
  scan [-c FILE] [--format table|json] [--fail-on never|warning|critical] [--read-only]
                                     one scan cycle, then a report
                                     exit 0; 1 --fail-on level reached; 2 bad config/usage;
                                     3 no device could be queried; 4 another replica holds
                                     the leader lease (--read-only: no lease, writes and sends nothing)
  check-config [-c FILE]             validate the config, print it with secrets masked (exit 0 / 2)
  history [-c FILE] [--device ID] [--limit N] [--format table|json]
                                     recent certificate changes from the store
  simulate [options]                 the built-in EnOS API simulator (flags below)
  demo                               simulator + daemon + in-memory store, no set-up needed
  --version, --help

Config file (-c): -c FILE, else $${CONFIG_ENV_VAR}, else ${DEFAULT_CONFIG_PATH}.
\${VAR} and \${VAR:-default} in values are read from the environment; appKeyFile/appSecretFile
read secrets from files. Every key is described in config/config.example.yaml.

${SIMULATE_HELP}`;

/** Runs one command line and returns its exit code. */
export async function main(argv: readonly string[], context: Omit<CommandContext, 'args'>): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    context.stdout.write(`${HELP}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    context.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    context.stderr.write(`unknown command '${name}'\nRun 'enos-cert-monitor --help' for usage.\n`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    context.stdout.write(`${HELP}\n`);
    return 0;
  }
  return command({ ...context, args });
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`fatal: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
