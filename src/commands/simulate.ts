import { parseArgs } from 'node:util';
import { CHURN_EXPIRING_AFTER_MS, MAX_GENERATED_CERTIFICATES, SIMULATOR_DEFAULTS, startSimulator, type SimulatorOptions } from '../simulator/index.js';
import { createLogger } from '../util/log.js';
import type { Command, CommandContext } from './io.js';
import { onShutdownSignal } from './signals.js';
import { usageError } from './command-line.js';

/** The command's default port (the library default, 0, picks any free port). */
export const SIMULATE_DEFAULT_PORT = 8080;
const MAX_DEVICES = 10_000_000;
const MAX_LATENCY_MS = 600_000;
/** How often `--churn` changes a certificate unless --churn-seconds says otherwise. */
export const DEFAULT_CHURN_SECONDS = 60;
const MAX_CHURN_SECONDS = 86_400;

export const SIMULATE_HELP = `Options of simulate (the built-in EnOS API simulator):
  --host H          address to listen on (default ${SIMULATOR_DEFAULTS.host})
  --port N          port to listen on, 0 = any free port (default ${SIMULATE_DEFAULT_PORT})
  --devices N       number of generated devices (default ${SIMULATOR_DEFAULTS.devices})
  --latency-ms N    delay added to every answer (default ${SIMULATOR_DEFAULTS.latencyMs})
  --min-certificates N
                    fewest certificates per device, 0 to ${MAX_GENERATED_CERTIFICATES} (default ${SIMULATOR_DEFAULTS.minCertificates}: some have none)
  --seed N          the same seed generates the same fleet (default ${SIMULATOR_DEFAULTS.seed})
  --org ID          organisation id of the fleet (default ${SIMULATOR_DEFAULTS.orgId})
  --app-key K       application key clients must use (default ${SIMULATOR_DEFAULTS.appKey})
  --app-secret S    application secret clients must use (default ${SIMULATOR_DEFAULTS.appSecret})
  --churn           make the world change: every --churn-seconds a certificate is revoked,
                    one renewed, or one added that expires ${CHURN_EXPIRING_AFTER_MS / 60_000} minutes later, in turn (default off)
  --churn-seconds N seconds between two changes with --churn (default ${DEFAULT_CHURN_SECONDS})
  --pem             real X.509 certificates in cert (default: the serial number), with a mix
                    that shows every audit finding (weak key, SHA-1, shared, dates off)`;

/** `simulate`: serves the simulator until SIGTERM/SIGINT, then exits 0. */
export const simulateCommand: Command = async (context) => {
  let stopListening = (): void => {};
  const shutdown = new Promise<NodeJS.Signals>((resolve) => {
    stopListening = onShutdownSignal(resolve);
  });
  try {
    return await runSimulate(context, shutdown);
  } finally {
    stopListening();
  }
};

/** The command with its stop trigger injected: closes the simulator once `stop` resolves. */
export async function runSimulate(context: CommandContext, stop: Promise<unknown>): Promise<number> {
  const { stdout, stderr } = context;
  let options: SimulatorOptions | 'help';
  try {
    options = parseSimulateArgs(context.args);
  } catch (error) {
    return usageError(stderr, error);
  }
  if (options === 'help') {
    stdout.write(`Usage: enos-cert-monitor simulate [options]\n\n${SIMULATE_HELP}\n`);
    return 0;
  }
  const log = createLogger('info', stdout === process.stdout ? 'stdout' : stdout);
  let simulator;
  try {
    simulator = await startSimulator({ ...options, log });
  } catch (error) {
    log.error({ err: error }, 'simulator failed to start');
    stderr.write(`simulate: ${(error as Error).message}\n`);
    return 1;
  }
  const devices = options.devices ?? SIMULATOR_DEFAULTS.devices;
  stdout.write(
    `EnOS API simulator listening on ${simulator.url} (orgId ${options.orgId ?? SIMULATOR_DEFAULTS.orgId}, ` +
      `appKey ${options.appKey ?? SIMULATOR_DEFAULTS.appKey}, ${devices} devices` +
      `${options.churnIntervalMs ? `, a certificate changes every ${options.churnIntervalMs / 1000} s` : ''})\n`,
  );
  const signal = await stop;
  log.info({ signal }, 'shutting down');
  await simulator.close();
  return 0;
}

/** Simulator options from the command line; throws with a usage message when one is invalid. */
export function parseSimulateArgs(args: readonly string[]): SimulatorOptions | 'help' {
  const { values } = parseArgs({
    args: [...args],
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      devices: { type: 'string' },
      'latency-ms': { type: 'string' },
      'min-certificates': { type: 'string' },
      seed: { type: 'string' },
      org: { type: 'string' },
      'app-key': { type: 'string' },
      'app-secret': { type: 'string' },
      churn: { type: 'boolean', default: false },
      'churn-seconds': { type: 'string' },
      pem: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const churnSeconds = integerFlag('--churn-seconds', values['churn-seconds'], DEFAULT_CHURN_SECONDS, 1, MAX_CHURN_SECONDS);
  if (values['churn-seconds'] !== undefined && !values.churn) throw new Error('--churn-seconds needs --churn');
  return {
    churnIntervalMs: values.churn ? churnSeconds * 1000 : 0,
    pem: values.pem,
    port: integerFlag('--port', values.port, SIMULATE_DEFAULT_PORT, 0, 65_535),
    devices: integerFlag('--devices', values.devices, SIMULATOR_DEFAULTS.devices, 0, MAX_DEVICES),
    latencyMs: integerFlag('--latency-ms', values['latency-ms'], SIMULATOR_DEFAULTS.latencyMs, 0, MAX_LATENCY_MS),
    minCertificates: integerFlag(
      '--min-certificates',
      values['min-certificates'],
      SIMULATOR_DEFAULTS.minCertificates,
      0,
      MAX_GENERATED_CERTIFICATES,
    ),
    seed: integerFlag('--seed', values.seed, SIMULATOR_DEFAULTS.seed, -(2 ** 31), 2 ** 31 - 1),
    host: textFlag('--host', values.host, SIMULATOR_DEFAULTS.host),
    orgId: textFlag('--org', values.org, SIMULATOR_DEFAULTS.orgId),
    appKey: textFlag('--app-key', values['app-key'], SIMULATOR_DEFAULTS.appKey),
    appSecret: textFlag('--app-secret', values['app-secret'], SIMULATOR_DEFAULTS.appSecret),
  };
}

function integerFlag(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) throw new Error(`${flag} must be an integer from ${min} to ${max}`);
  return value;
}

function textFlag(flag: string, text: string | undefined, fallback: string): string {
  if (text === undefined) return fallback;
  if (text.trim() === '') throw new Error(`${flag} must not be empty`);
  return text;
}
