#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command, CommandContext } from './commands/io.js';
import { VERSION } from './version.js';

/**
 * Each command's modules load only when it runs: `--version` loads nothing else, `check-config`
 * and `history` never load the HTTP client, the metrics registry or the simulator.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.js')).runCommand,
  scan: async () => (await import('./commands/scan.js')).scanCommand,
  'check-config': async () => (await import('./commands/check-config.js')).checkConfigCommand,
  history: async () => (await import('./commands/history.js')).historyCommand,
  simulate: async () => (await import('./commands/simulate.js')).simulateCommand,
  demo: async () => (await import('./commands/demo.js')).demoCommand,
};

export async function helpText(): Promise<string> {
  const [{ CONFIG_ENV_VAR, DEFAULT_CONFIG_PATH }, { HISTORY_DEFAULT_LIMIT }, { DEFAULT_CHURN_SECONDS, SIMULATE_HELP }] = await Promise.all([
    import('./config/load.js'),
    import('./commands/history.js'),
    import('./commands/simulate.js'),
  ]);
  return `enos-cert-monitor ${VERSION}: watches the X.509 certificates of EnOS IoT devices.

Usage:
  enos-cert-monitor run [-c FILE]
  enos-cert-monitor scan [-c FILE] [--format table|json] [--fail-on never|warning|critical] [--fail-on-finding NAME,...] [--state STATE,...] [--show-superseded] [--read-only]
  enos-cert-monitor check-config [-c FILE]
  enos-cert-monitor history [-c FILE] [--device ID] [--limit N] [--format table|json]
  enos-cert-monitor simulate [--host H] [--port N] [--devices N] [--latency-ms N] [--min-certificates N] [--seed N] [--org ID] [--app-key K] [--app-secret S] [--churn] [--churn-seconds N] [--pem]
  enos-cert-monitor demo [--port N]
  enos-cert-monitor --version | --help

Commands:
  run             the daemon: scheduled scans, /metrics, alerts, until SIGTERM/SIGINT
                  exit 0 after a clean shutdown; 2 invalid config or port in use
  scan            one scan cycle with the daemon's pipeline, then a report on stdout (logs on stderr)
    --format table|json               default table
    --fail-on never|warning|critical  default never; exit 1 when a certificate reaches the level (named on stderr)
    --fail-on-finding NAME,...        exit 1 when a certificate has one of these audit findings (named on stderr):
                                      key_quality, weak_signature, shared, age, dates_mismatch, unparseable
    --state STATE,...                 table only: ok, warning, critical, expired, revoked (default: all)
    --show-superseded                 table only: list superseded certificates too (default: hidden)
    --read-only                       query and diff only: no leader lease, writes nothing, sends no alert
                  exit 0; 1 --fail-on level or a named finding reached; 2 invalid config or usage;
                  3 no device could be queried (credentials, gateway, inventory) or the store does not answer;
                  4 another replica holds the leader lease (named on stderr)
  check-config    validate the config and the files it names, print it with secrets masked
                  exit 0 valid; 2 invalid (one line per problem, naming the key)
  history         recent certificate changes from the Redis store, newest first
    --device ID                       as scan prints it (orgId/assetId, orgId/productKey/deviceKey);
                                      also productKey:deviceKey, or an assetId alone (default: every device)
    --limit N                         default ${HISTORY_DEFAULT_LIMIT}
    --format table|json               default table
                  exit 0; 2 no Redis store configured; 3 the store does not answer
  simulate        the built-in EnOS API simulator (options below); exit 0 on SIGTERM/SIGINT
  demo            simulator (a certificate changes every ${DEFAULT_CHURN_SECONDS} s) + daemon + in-memory store
    --port N                          status page and /metrics port (default 9464)
                  exit 0 on SIGTERM/SIGINT; 2 bad usage or port in use

Config file (-c): -c FILE, else $${CONFIG_ENV_VAR}, else ${DEFAULT_CONFIG_PATH}. Relative paths in it
(inventory files, caFile, appKeyFile, appSecretFile) are read from the config file's folder.
\${VAR} and \${VAR:-default} in values are read from the environment. Every key is described in
config/config.example.yaml.

${SIMULATE_HELP}`;
}

/** Runs one command line and returns its exit code. */
export async function main(argv: readonly string[], context: Omit<CommandContext, 'args'>): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    context.stdout.write(`${await helpText()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    context.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    context.stderr.write(`unknown command '${name}'\nRun 'enos-cert-monitor --help' for usage.\n`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    context.stdout.write(`${await helpText()}\n`);
    return 0;
  }
  const command = await load();
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
