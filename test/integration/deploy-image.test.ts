import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Document } from 'yaml';
import { configSchema } from '../../src/config/schema.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { copyOperands, keyValues, parseDockerfile, stage, type Instruction, type Stage } from '../support/dockerfile.js';
import { replayStage, type ReplayedImage } from '../support/image-replay.js';
import { CONFIG_ENV_VAR, configDocument, configString, container, envValue, mountedConfig, podTemplate } from '../support/kube-objects.js';
import { BASE_DIR, OVERLAYS_DIR, REPO_ROOT, findObject, kustomizeBuild, type KubeObject } from '../support/kustomize.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';

const execFileAsync = promisify(execFile);

const PACKAGE = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  description: string;
  license: string;
  engines: { node: string };
};
const DEFAULT_PORT = configSchema.shape.server.parse(undefined).port;
const dockerfile = parseDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
const runtime = stage(dockerfile, 'runtime');
const build = stage(dockerfile, 'build');

function all(s: Stage, keyword: string): Instruction[] {
  return s.instructions.filter((i) => i.keyword === keyword);
}

function only(s: Stage, keyword: string): Instruction {
  const found = all(s, keyword);
  if (found.length !== 1) throw new Error(`stage ${s.name} has ${found.length} ${keyword} instructions, expected one`);
  return found[0]!;
}

const execForm = (instruction: Instruction): string[] => JSON.parse(instruction.args) as string[];

/** `USER uid:gid`, numeric, so that the kubelet can check runAsNonRoot. */
function imageUser(): { uid: number; gid: number } {
  const match = /^(\d+):(\d+)$/.exec(only(runtime, 'USER').args.trim());
  if (match === null) throw new Error('USER must be numeric uid:gid');
  return { uid: Number(match[1]), gid: Number(match[2]) };
}

let deployment: KubeObject;
let baseObjects: KubeObject[];
let serviceMonitor: IServiceMonitor;

beforeAll(async () => {
  baseObjects = await kustomizeBuild(BASE_DIR);
  deployment = findObject(baseObjects, 'Deployment', 'enos-cert-monitor');
  const withOperator = await kustomizeBuild(join(OVERLAYS_DIR, 'prometheus-operator'));
  serviceMonitor = findObject(withOperator, 'ServiceMonitor') as KubeObject & IServiceMonitor;
});

describe('Dockerfile', () => {
  it('builds both stages on one Node.js LTS line, pinned by major, that package.json allows', () => {
    const images = dockerfile.stages.map((s) => s.image);
    expect(new Set(images).size).toBe(1);
    const major = Number(/^node:(\d+)-[a-z]+-slim$/.exec(images[0]!)?.[1]);
    expect(major % 2, 'even majors are the LTS lines').toBe(0);
    expect(major).toBeGreaterThanOrEqual(Number(/(\d+)/.exec(PACKAGE.engines.node)?.[1]));
  });

  it('installs every dependency from the lock file to build, and only production ones to run', () => {
    const buildRuns = all(build, 'RUN').map((r) => r.args);
    expect(buildRuns).toContain('npm ci --no-audit --no-fund');
    expect(buildRuns.at(-1)).toBe('npm run build');
    const runtimeRun = only(runtime, 'RUN').args.split(/\s+/);
    expect(runtimeRun.slice(0, 2)).toEqual(['npm', 'ci']);
    expect(runtimeRun).toContain('--omit=dev');
  });

  it('runs the compiled CLI as the user, command and config path of the Deployment', () => {
    const template = podTemplate(deployment);
    const app = container(template);
    const { uid, gid } = imageUser();
    expect(uid).toBe(1000);
    expect([template.spec?.securityContext?.runAsUser, app.securityContext?.runAsUser]).toEqual([uid, uid]);
    expect([template.spec?.securityContext?.runAsGroup, app.securityContext?.runAsGroup]).toEqual([gid, gid]);
    expect(execForm(only(runtime, 'ENTRYPOINT'))).toEqual(['node', '/app/dist/cli.js']);
    expect(only(runtime, 'WORKDIR').args).toBe('/app');
    expect(execForm(only(runtime, 'CMD'))).toEqual(app.args);
    expect(keyValues(only(runtime, 'ENV').args)[CONFIG_ENV_VAR]).toBe(envValue(app, CONFIG_ENV_VAR));
    expect(Number(only(runtime, 'EXPOSE').args)).toBe(DEFAULT_PORT);
  });

  it('labels the image with the OCI annotations, its version that of package.json', () => {
    const labels = keyValues(only(runtime, 'LABEL').args);
    expect(labels).toEqual({
      'org.opencontainers.image.title': PACKAGE.name,
      'org.opencontainers.image.description': PACKAGE.description,
      'org.opencontainers.image.source': expect.stringMatching(/^https:\/\//),
      'org.opencontainers.image.licenses': PACKAGE.license,
      'org.opencontainers.image.version': '${VERSION}',
    });
    expect(keyValues(only(runtime, 'ARG').args).VERSION).toBe(PACKAGE.version);
  });

  it('sends the builder exactly what the stages copy from the context', () => {
    const lines = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines[0]).toBe('*');
    const allowed = lines.slice(1).map((l) => {
      expect(l.startsWith('!'), l).toBe(true);
      return l.slice(1);
    });
    const copied = dockerfile.stages
      .flatMap((s) => all(s, 'COPY'))
      .filter((c) => c.flags.from === undefined)
      .flatMap((c) => copyOperands(c.args).sources);
    expect([...new Set(allowed)].sort()).toEqual([...new Set(copied)].sort());
  });
});

describe('the runtime stage, replayed on this machine: read-only, not root', () => {
  const APP_KEY = 'deploy-test-app-key';
  const APP_SECRET = 'deploy-test-app-secret';
  let root: string;
  let image: ReplayedImage;
  let simulator: Simulator;
  let port: number;
  let localConfig: string;
  const children = new Set<ChildProcess>();

  /** A path of the image (or of a volume mounted into it) on this machine. */
  const onHost = (path: string): string => join(root, path);

  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, 'dist/cli.js'))) {
      throw new Error('dist/cli.js is missing: run `npm run build` before the integration tests');
    }
    root = mkdtempSync(join(tmpdir(), 'deploy-image-'));
    chmodSync(root, 0o755);
    image = await replayStage({
      dockerfile,
      stage: runtime,
      context: REPO_ROOT,
      stageRoots: { build: REPO_ROOT },
      root,
      npmExtraArgs: ['--prefer-offline'],
    });

    // The volumes of the Deployment: the Secret's files, the ConfigMap's config.yaml, /tmp.
    const mounted = mountedConfig(baseObjects, deployment);
    const config = configDocument(mounted.text);
    for (const [key, value] of [['appKeyFile', APP_KEY], ['appSecretFile', APP_SECRET]] as const) {
      const file = onHost(configString(config, ['enos', key]));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, value);
      config.setIn(['enos', key], file);
    }
    mkdirSync(dirname(onHost(mounted.path)), { recursive: true });
    writeFileSync(onHost(mounted.path), config.toString());
    mkdirSync(onHost('/tmp'));

    // For `run`: the simulator for the gateway, the test Redis, no Alertmanager, a free port.
    const orgId = String(config.getIn(['inventory', 'discover', 0, 'orgId']));
    simulator = await startSimulator({ orgId, appKey: APP_KEY, appSecret: APP_SECRET, devices: 20 });
    port = await freePort();
    localConfig = onHost('/etc/enos-cert-monitor-local/config.yaml');
    mkdirSync(dirname(localConfig));
    writeFileSync(localConfig, localRun(config, simulator.url, port).toString());

    await execFileAsync('chmod', ['-R', 'a-w', root]);
    chmodSync(onHost('/tmp'), 0o1777);
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await simulator?.close();
    if (root !== undefined) {
      await execFileAsync('chmod', ['-R', 'u+w', root]);
      rmSync(root, { recursive: true, force: true });
    }
  });

  function localRun(config: Document, baseUrl: string, listenPort: number): Document {
    const local = config.clone();
    local.setIn(['enos', 'baseUrl'], baseUrl);
    local.setIn(['store', 'redisUrl'], inject('redisUrl'));
    local.setIn(['store', 'keyPrefix'], `deploy-image-${randomUUID()}:`);
    local.setIn(['alertmanager', 'urls'], []);
    local.setIn(['server', 'host'], '127.0.0.1');
    local.setIn(['server', 'port'], listenPort);
    return local;
  }

  interface Started {
    readonly child: ChildProcess;
    readonly output: () => string;
    readonly exited: Promise<number | null>;
  }

  /** The image's ENTRYPOINT with `args`, as its USER when this runs as root, in its WORKDIR. */
  function startImage(args: readonly string[], env: Readonly<Record<string, string>> = {}): Started {
    const [program, script, ...rest] = execForm(only(runtime, 'ENTRYPOINT'));
    expect(program).toBe('node');
    const asUser = process.getuid?.() === 0 ? imageUser() : {};
    const child = spawn(process.execPath, [onHost(script!), ...rest, ...args], {
      cwd: onHost(image.workdir),
      env: {
        PATH: process.env.PATH,
        ...image.env,
        [CONFIG_ENV_VAR]: onHost(image.env[CONFIG_ENV_VAR]!),
        TMPDIR: onHost('/tmp'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...asUser,
    });
    children.add(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, 'exit').then(([code]) => {
      children.delete(child);
      return code as number | null;
    });
    return { child, output: () => output, exited };
  }

  async function runImage(args: readonly string[], env?: Readonly<Record<string, string>>): Promise<{ code: number | null; output: string }> {
    const started = startImage(args, env);
    const code = await started.exited;
    return { code, output: started.output() };
  }

  it('cannot write to its own files', async () => {
    const probe = `require('fs').writeFileSync(${JSON.stringify(onHost('/app/written-at-run-time'))}, 'x')`;
    const asUser = process.getuid?.() === 0 ? imageUser() : {};
    await expect(execFileAsync(process.execPath, ['-e', probe], asUser)).rejects.toThrow(/EACCES/);
  });

  it('prints the package version', async () => {
    expect(await runImage(['--version'])).toEqual({ code: 0, output: `${PACKAGE.version}\n` });
  });

  it('accepts the ConfigMap config where the Deployment mounts it', async () => {
    const { code, output } = await runImage(['check-config']);
    expect(output).toMatch(/: valid\n/);
    expect(output).not.toContain(APP_SECRET);
    expect(code).toBe(0);
  });

  it("runs the Deployment's command: serves the probe and metrics paths of the manifests, stops on SIGTERM", async () => {
    const app = container(podTemplate(deployment));
    const daemon = startImage(app.args!, { [CONFIG_ENV_VAR]: localConfig });
    const url = (path: string): string => `http://127.0.0.1:${port}${path}`;
    const readiness = app.readinessProbe!.httpGet!.path!;
    try {
      await Promise.race([
        waitFor(async () => (await fetch(url(readiness))).status === 200, { timeoutMs: 20_000, what: `GET ${readiness} = 200` }),
        daemon.exited.then((code) => {
          throw new Error(`the daemon exited (${code}): ${daemon.output()}`);
        }),
      ]);
      expect((await fetch(url(app.livenessProbe!.httpGet!.path!))).status).toBe(200);
      const metrics = await fetch(url(serviceMonitor.spec.endpoints![0]!.path!));
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain(`enos_cert_monitor_build_info{version="${PACKAGE.version}"}`);
      expect((await fetch(url('/not-a-route'))).status).toBe(404);
    } finally {
      daemon.child.kill('SIGTERM');
    }
    expect(await daemon.exited).toBe(0);
    expect(daemon.output()).not.toMatch(/EACCES|EROFS|EPERM/);
  });

  it('runs `demo` from the files it ships', async () => {
    const demoPort = await freePort();
    const demo = startImage(['demo'], { ENOS_DEMO_PORT: String(demoPort) });
    try {
      await Promise.race([
        waitFor(async () => (await fetch(`http://127.0.0.1:${demoPort}/metrics`)).status === 200, { timeoutMs: 20_000, what: 'demo /metrics' }),
        demo.exited.then((code) => {
          throw new Error(`demo exited (${code}): ${demo.output()}`);
        }),
      ]);
    } finally {
      demo.child.kill('SIGTERM');
    }
    expect(await demo.exited).toBe(0);
  });
});
