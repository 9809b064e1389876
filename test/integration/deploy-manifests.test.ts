import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { createTask } from 'node-cron';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { configSchema } from '../../src/config/schema.js';
import {
  APP_CONTAINER,
  configDocument,
  configString,
  configStrings,
  container,
  envValue,
  mountedConfig,
  podTemplate,
  selects,
  volumeAt,
  workloads,
} from '../support/kube-objects.js';
import { schemaProblems } from '../support/kube-schemas.js';
import {
  BASE_DIR,
  COMPONENTS_DIR,
  KUBERNETES_DIR,
  REPO_ROOT,
  findObject,
  kustomizeBuild,
  overlayNames,
  parseManifests,
  type KubeObject,
} from '../support/kustomize.js';

const execFileAsync = promisify(execFile);

const TARGETS = ['base', ...overlayNames().map((name) => `overlays/${name}`)];

/** The set-ups the README suggests, each built from a kustomization of its own. */
interface Composition {
  readonly resources: readonly string[];
  readonly components: readonly string[];
  /** More kustomization fields. */
  readonly extra?: Readonly<Record<string, unknown>>;
  /** Files beside the kustomization, by name. */
  readonly files?: () => Readonly<Record<string, string>>;
}

const OWN_IMAGE = 'registry.example.com/enos-cert-monitor:4.7.11';
const OWN_ORG = 'o15000000000001';
const README_RECIPE = 'the README recipe: with-redis, prometheus-operator, own config, registry and label';
const KUBE_PROMETHEUS = 'stock kube-prometheus: with-redis, prometheus-operator, kube-prometheus';
const KUBE_PROMETHEUS_STACK = 'kube-prometheus-stack: with-redis, prometheus-operator, kube-prometheus-stack';
const MONITORING_NAMESPACE = 'monitoring-namespace';

const COMPOSITIONS: Readonly<Record<string, Composition>> = {
  [README_RECIPE]: {
    resources: ['overlays/with-redis'],
    components: ['components/prometheus-operator'],
    extra: {
      configMapGenerator: [{ name: 'enos-cert-monitor-config', behavior: 'replace', files: ['config.yaml'] }],
      images: [
        {
          name: 'ghcr.io/enos-cert-monitor/enos-cert-monitor',
          newName: OWN_IMAGE.split(':')[0],
          newTag: OWN_IMAGE.split(':')[1],
        },
      ],
      patches: [
        {
          target: { group: 'monitoring.coreos.com' },
          patch: stringify([{ op: 'add', path: '/metadata/labels/release', value: 'kube-prometheus-stack' }]),
        },
      ],
    },
    files: () => ({
      'config.yaml': readFileSync(join(BASE_DIR, 'config.yaml'), 'utf8').replace('orgId: example-org-id', `orgId: ${OWN_ORG}`),
    }),
  },
  'cronjob + redis': { resources: ['overlays/cronjob'], components: ['components/redis'] },
  [KUBE_PROMETHEUS]: { resources: ['overlays/with-redis'], components: ['components/prometheus-operator', 'components/kube-prometheus'] },
  [KUBE_PROMETHEUS_STACK]: {
    resources: ['overlays/with-redis'],
    components: ['components/prometheus-operator', 'components/kube-prometheus-stack'],
  },
};

const SECRET_EXAMPLE = join(BASE_DIR, 'secret.example.yaml');
const PACKAGE = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
const DEFAULT_SERVER = configSchema.shape.server.parse(undefined);

const builds = new Map<string, KubeObject[]>();
let scratch: string;

function build(target: string): KubeObject[] {
  const objects = builds.get(target);
  if (objects === undefined) throw new Error(`${target} was not built`);
  return objects;
}

async function buildComposition(name: string): Promise<KubeObject[]> {
  const dir = mkdtempSync(join(scratch, 'compose-'));
  const { resources, components, extra = {}, files = (): Record<string, string> => ({}) } = COMPOSITIONS[name]!;
  // kustomize takes only relative paths to other kustomizations.
  const toTree = (path: string): string => relative(dir, join(KUBERNETES_DIR, path));
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace: 'enos',
    resources: resources.map(toTree),
    components: components.map(toTree),
    ...extra,
  };
  writeFileSync(join(dir, 'kustomization.yaml'), stringify(kustomization));
  for (const [file, text] of Object.entries(files())) writeFileSync(join(dir, file), text);
  return kustomizeBuild(dir);
}

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'deploy-manifests-'));
  for (const target of TARGETS) builds.set(target, await kustomizeBuild(join(KUBERNETES_DIR, target)));
  for (const name of Object.keys(COMPOSITIONS)) builds.set(name, await buildComposition(name));
  builds.set(MONITORING_NAMESPACE, await kustomizeBuild(join(KUBERNETES_DIR, MONITORING_NAMESPACE)));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

const allBuilds = (): [string, KubeObject[]][] => [...builds.entries()];
const baseDeployment = (): KubeObject => findObject(build('base'), 'Deployment', 'enos-cert-monitor');

describe('kustomize', () => {
  it.each(TARGETS)('builds %s into distinct objects with no namespace of their own', (target) => {
    const objects = build(target);
    expect(objects.length).toBeGreaterThan(0);
    const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
    // `kubectl apply -n NS -k` and an overlay's `namespace:` decide where everything goes.
    expect(objects.filter((o) => o.metadata.namespace !== undefined)).toEqual([]);
  });

  it.each(Object.keys(COMPOSITIONS))('composes %s in one namespace', (name) => {
    const objects = build(name);
    expect(objects.map((o) => o.metadata.namespace)).toEqual(objects.map(() => 'enos'));
    expect(findObject(objects, 'StatefulSet', 'redis').metadata.namespace).toBe('enos');
  });

  it('lets an overlay of your own replace the config, the registry and the labels the Operator selects by', () => {
    const objects = build(README_RECIPE);
    const deployment = findObject(objects, 'Deployment');
    expect(configDocument(mountedConfig(objects, deployment).text).getIn(['inventory', 'discover', 0, 'orgId'])).toBe(OWN_ORG);
    expect(objects.filter((o) => o.kind === 'ConfigMap')).toHaveLength(1);
    expect(container(podTemplate(deployment)).image).toBe(OWN_IMAGE);
    for (const kind of ['ServiceMonitor', 'PrometheusRule']) {
      expect(findObject(objects, kind).metadata.labels?.release, kind).toBe('kube-prometheus-stack');
    }
  });

  it('keeps the Prometheus Operator objects out of the base, for clusters without its CRDs', () => {
    const groups = (objects: KubeObject[]): string[] => objects.map((o) => o.apiVersion.split('/')[0]!);
    expect(groups(build('base'))).not.toContain('monitoring.coreos.com');
    expect(groups(build('overlays/prometheus-operator'))).toContain('monitoring.coreos.com');
  });
});

describe('schemas', () => {
  it('accepts every object of every build and the Secret example, strictly', async () => {
    const unique = new Map<string, KubeObject>();
    for (const [, objects] of allBuilds()) for (const o of objects) unique.set(JSON.stringify(o), o);
    const secretExample = parseManifests(readFileSync(SECRET_EXAMPLE, 'utf8'), SECRET_EXAMPLE);
    expect(await schemaProblems([...unique.values(), ...secretExample])).toEqual([]);
  });

  it('rejects unknown fields, wrong types, bad quantities and kinds it has no schema for', async () => {
    const broken = (name: string, change: (d: IDeployment) => void): KubeObject => {
      const copy = structuredClone(baseDeployment()) as KubeObject & IDeployment;
      copy.metadata.name = name;
      change(copy);
      return copy;
    };
    const app = (d: IDeployment): Record<string, unknown> =>
      d.spec!.template.spec!.containers[0]! as unknown as Record<string, unknown>;
    const objects: KubeObject[] = [
      broken('unknown-container-field', (d) => (app(d).imagePullSecret = 'registry')),
      broken('unknown-metadata-field', (d) => ((d.metadata as Record<string, unknown>).label = { a: 'b' })),
      broken('replicas-as-text', (d) => ((d.spec as unknown as Record<string, unknown>).replicas = 'two')),
      broken('bad-quantity', (d) => (d.spec!.template.spec!.containers[0]!.resources!.limits!.memory = '512MB')),
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'no-schema' } },
    ];
    const problems = await schemaProblems(objects);
    const about = (id: string): string[] => problems.filter((p) => p.startsWith(`${id}:`) || p.startsWith(`${id} `));
    expect(about('Deployment/unknown-container-field').join('\n')).toMatch(/imagePullSecret/);
    expect(about('Deployment/unknown-metadata-field').join('\n')).toMatch(/'"?label"?' does not exist/);
    expect(about('Deployment/replicas-as-text').join('\n')).toMatch(/replicas/);
    expect(about('Deployment/bad-quantity').join('\n')).toMatch(/memory/);
    expect(about('Widget/no-schema').join('\n')).toMatch(/no schema for example\.com\/v1 Widget/);
  });
});

describe('every workload', () => {
  const everyWorkload = (): [string, KubeObject][] =>
    allBuilds().flatMap(([target, objects]) => workloads(objects).map((w): [string, KubeObject] => [`${target} ${w.kind}/${w.metadata.name}`, w]));

  it('runs under the restricted Pod Security Standard, with a read-only root filesystem', () => {
    expect(everyWorkload().length).toBeGreaterThan(0);
    for (const [where, workload] of everyWorkload()) {
      const { spec } = podTemplate(workload);
      expect(spec?.securityContext?.runAsNonRoot, `${where}: pod runAsNonRoot`).toBe(true);
      expect(spec?.securityContext?.seccompProfile?.type, `${where}: pod seccompProfile`).toBe('RuntimeDefault');
      expect(spec?.automountServiceAccountToken, `${where}: automountServiceAccountToken`).toBe(false);
      for (const c of spec?.containers ?? []) {
        const sc = c.securityContext;
        expect(sc?.runAsNonRoot, `${where} ${c.name}: runAsNonRoot`).toBe(true);
        expect(sc?.runAsUser, `${where} ${c.name}: numeric runAsUser`).toBeGreaterThan(0);
        expect(sc?.readOnlyRootFilesystem, `${where} ${c.name}: readOnlyRootFilesystem`).toBe(true);
        expect(sc?.allowPrivilegeEscalation, `${where} ${c.name}: allowPrivilegeEscalation`).toBe(false);
        expect(sc?.capabilities?.drop, `${where} ${c.name}: capabilities`).toEqual(['ALL']);
        expect(sc?.capabilities?.add, `${where} ${c.name}: capabilities.add`).toBeUndefined();
        expect(sc?.seccompProfile?.type, `${where} ${c.name}: seccompProfile`).toBe('RuntimeDefault');
        expect(c.resources?.requests?.cpu, `${where} ${c.name}: cpu request`).toBeDefined();
        expect(c.resources?.requests?.memory, `${where} ${c.name}: memory request`).toBeDefined();
        expect(c.resources?.limits?.memory, `${where} ${c.name}: memory limit`).toBeDefined();
        // Guaranteed memory: not the first evicted when the node runs short.
        expect(c.resources?.requests?.memory, `${where} ${c.name}: memory request = limit`).toBe(c.resources?.limits?.memory);
      }
    }
  });

  it('mounts only volumes it declares, and the app gets a writable /tmp', () => {
    for (const [where, workload] of everyWorkload()) {
      const template = podTemplate(workload);
      const claims = (workload.spec as IStatefulSet['spec'])?.volumeClaimTemplates ?? [];
      const declared = [...(template.spec?.volumes ?? []), ...claims.map((c) => c.metadata!)].map((v) => v.name);
      for (const c of template.spec?.containers ?? []) {
        for (const mount of c.volumeMounts ?? []) expect(declared, `${where} ${c.name}`).toContain(mount.name);
      }
      if (template.spec?.containers.some((c) => c.name === APP_CONTAINER)) {
        expect(volumeAt(template, container(template), '/tmp').emptyDir, `${where}: /tmp`).toBeDefined();
      }
    }
  });

  it('uses the release image, tagged with the package version', () => {
    for (const [where, workload] of everyWorkload()) {
      if (where.startsWith(README_RECIPE)) continue;
      const template = podTemplate(workload);
      if (!template.spec?.containers.some((c) => c.name === APP_CONTAINER)) continue;
      expect(container(template).image, where).toBe(`ghcr.io/enos-cert-monitor/enos-cert-monitor:${PACKAGE.version}`);
    }
  });
});

describe('the daemon (base)', () => {
  it('runs two replicas that a drain cannot take down together', () => {
    const objects = build('base');
    const deployment = baseDeployment() as KubeObject & IDeployment;
    const labels = deployment.spec!.template.metadata?.labels;
    expect(deployment.spec!.replicas).toBe(2);
    expect(selects(deployment.spec!.selector.matchLabels, labels)).toBe(true);
    const pdb = findObject(objects, 'PodDisruptionBudget') as KubeObject & IPodDisruptionBudget;
    expect(pdb.spec!.minAvailable).toBe(1);
    // While Redis is down both pods are unready: they must not block a node drain.
    expect(pdb.spec!.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
    expect(selects(pdb.spec!.selector?.matchLabels, labels)).toBe(true);
    const antiAffinity = deployment.spec!.template.spec!.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
    expect(antiAffinity?.[0]?.podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(selects(antiAffinity?.[0]?.podAffinityTerm.labelSelector?.matchLabels, labels)).toBe(true);
  });

  it('runs `run` under its own ServiceAccount, which mounts no token', () => {
    const template = podTemplate(baseDeployment());
    expect(container(template).args).toEqual(['run']);
    const account = findObject(build('base'), 'ServiceAccount', template.spec!.serviceAccountName) as KubeObject & IServiceAccount;
    expect(account.automountServiceAccountToken).toBe(false);
  });

  it('serves probes and metrics on the port of the config, which is the program default', () => {
    const objects = build('base');
    const deployment = baseDeployment();
    const app = container(podTemplate(deployment));
    const configPort = configDocument(mountedConfig(objects, deployment).text).getIn(['server', 'port']);
    const http = app.ports?.find((p) => p.name === 'http');
    expect(http?.containerPort).toBe(DEFAULT_SERVER.port);
    expect(configPort).toBe(DEFAULT_SERVER.port);
    // Liveness must not depend on Redis: /readyz does, /healthz does not.
    expect(app.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
    expect(app.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
    const service = findObject(objects, 'Service', 'enos-cert-monitor') as KubeObject & IService;
    expect(selects(service.spec!.selector, podTemplate(deployment).metadata?.labels)).toBe(true);
    expect(service.spec!.ports).toEqual([{ name: 'http', port: DEFAULT_SERVER.port, targetPort: 'http', protocol: 'TCP' }]);
  });

  it('listens on ::, for IPv6-only and dual-stack clusters', () => {
    const config = configDocument(mountedConfig(build('base'), baseDeployment()).text);
    expect(configString(config, ['server', 'host'])).toBe('::');
  });

  it('lets the NetworkPolicy through what the config connects to, and nothing else; scrapes in from Prometheus only', () => {
    const objects = build(KUBE_PROMETHEUS);
    const deployment = findObject(objects, 'Deployment');
    const policy = findObject(objects, 'NetworkPolicy', 'enos-cert-monitor') as KubeObject & INetworkPolicy;
    expect(selects(policy.spec!.podSelector?.matchLabels, podTemplate(deployment).metadata?.labels)).toBe(true);
    expect(policy.spec!.policyTypes).toEqual(['Ingress', 'Egress']);
    const [scrape, ...otherIngress] = policy.spec!.ingress!;
    expect(otherIngress).toEqual([]);
    expect(scrape!.ports?.map((p) => p.port)).toEqual(['http']);
    expect(scrape!.from).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
      },
    ]);

    const egress = policy.spec!.egress!;
    // Only DNS goes anywhere; every other port has its destinations.
    const open = egress.filter((rule) => rule.to === undefined).flatMap((rule) => rule.ports!.map((p) => `${p.protocol}/${p.port}`));
    expect(open.sort()).toEqual(['TCP/53', 'UDP/53']);
    const ruleFor = (port: number) => egress.find((rule) => rule.to !== undefined && rule.ports!.some((p) => p.port === port));
    const config = configDocument(mountedConfig(objects, deployment).text);
    const portOf = (url: string): number => {
      const parsed = /^[a-z]+:\/\/(?:[^@/]*@)?([^:/]+)(?::(\d+))?/.exec(url)!;
      return Number(parsed[2] ?? (url.startsWith('https:') ? 443 : 80));
    };
    expect(ruleFor(portOf(configString(config, ['enos', 'baseUrl'])))?.to?.map((peer) => peer.ipBlock?.cidr)).toEqual(['0.0.0.0/0', '::/0']);
    const redisPeers = ruleFor(portOf(configString(config, ['store', 'redisUrl'])))!.to!;
    const redisPods = podTemplate(findObject(objects, 'StatefulSet', 'redis')).metadata?.labels;
    expect(redisPeers.some((peer) => peer.namespaceSelector === undefined && selects(peer.podSelector?.matchLabels, redisPods))).toBe(true);
    for (const url of configStrings(config, ['alertmanager', 'urls'])) {
      const namespace = /\.([a-z0-9-]+)\.svc/.exec(url)![1]!;
      expect(ruleFor(portOf(url))?.to, url).toEqual([
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
          podSelector: { matchLabels: { 'app.kubernetes.io/name': 'alertmanager' } },
        },
      ]);
    }
  });
});

describe('config and credentials', () => {
  const base = (): { objects: KubeObject[]; deployment: KubeObject } => ({ objects: build('base'), deployment: baseDeployment() });

  it('passes `check-config` of the built program, with the Secret files in a temporary folder', async () => {
    const cli = join(REPO_ROOT, 'dist/cli.js');
    if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run `npm run build` before the integration tests');
    const { objects, deployment } = base();
    const config = configDocument(mountedConfig(objects, deployment).text);
    const secrets = mkdtempSync(join(scratch, 'secrets-'));
    const secretValue = 'the-secret-value-4711';
    for (const key of ['appKeyFile', 'appSecretFile']) {
      const file = join(secrets, basename(configString(config, ['enos', key])));
      writeFileSync(file, key === 'appSecretFile' ? secretValue : 'the-app-key');
      config.setIn(['enos', key], file);
    }
    const file = join(scratch, 'config.yaml');
    writeFileSync(file, config.toString());
    const { stdout } = await execFileAsync(process.execPath, [cli, 'check-config', '-c', file], { env: { PATH: process.env.PATH } });
    expect(stdout).toMatch(/: valid\n/);
    expect(stdout).not.toContain(secretValue);
  });

  it('reads the credentials from the Secret the example describes, which no build contains', () => {
    const { objects, deployment } = base();
    const template = podTemplate(deployment);
    const config = configDocument(mountedConfig(objects, deployment).text);
    const [example] = parseManifests(readFileSync(SECRET_EXAMPLE, 'utf8'), SECRET_EXAMPLE);
    const keys = Object.keys(example!.stringData as Record<string, string>).sort();
    const files = ['appKeyFile', 'appSecretFile'].map((key) => configString(config, ['enos', key]));
    expect(files.map((f) => basename(f)).sort()).toEqual(keys);
    for (const f of files) {
      const secret = volumeAt(template, container(template), dirname(f)).secret;
      expect(secret?.secretName).toBe(example!.metadata.name);
      expect(secret?.defaultMode, 'readable by the owner and the fsGroup only').toBe(0o440);
    }
    for (const [target, built] of allBuilds()) expect(built.filter((o) => o.kind === 'Secret'), target).toEqual([]);
    expect(readFileSync(join(BASE_DIR, 'kustomization.yaml'), 'utf8')).not.toContain('secret.example.yaml\n');
  });

  it('sends alerts to every Alertmanager replica by its pod name under the headless Service', () => {
    const { objects, deployment } = base();
    const config = configDocument(mountedConfig(objects, deployment).text);
    const urls = configStrings(config, ['alertmanager', 'urls']);
    expect(urls.length).toBeGreaterThanOrEqual(2);
    expect(new Set(urls).size).toBe(urls.length);
    for (const url of urls) expect(url).toMatch(/^http:\/\/[a-z0-9-]+-\d+\.[a-z0-9-]+\.[a-z0-9-]+\.svc(\.cluster\.local)?:9093$/);
  });
});

describe('overlay with-redis', () => {
  it('adds the Redis that store.redisUrl names, persistent and append-only', () => {
    const objects = build('overlays/with-redis');
    const config = configDocument(mountedConfig(objects, findObject(objects, 'Deployment')).text);
    const url = new URL(configString(config, ['store', 'redisUrl']));
    const service = findObject(objects, 'Service', url.hostname) as KubeObject & IService;
    const statefulSet = findObject(objects, 'StatefulSet', url.hostname) as KubeObject & IStatefulSet;
    expect(service.spec!.clusterIP).toBe('None');
    expect(service.spec!.ports!.map((p) => p.port)).toContain(Number(url.port));
    expect(statefulSet.spec!.serviceName).toBe(service.metadata!.name);
    expect(selects(service.spec!.selector, statefulSet.spec!.template.metadata?.labels)).toBe(true);

    const redis = container(podTemplate(statefulSet), 'redis');
    expect(redis.image).toMatch(/^redis:7\.\d+/);
    const args = redis.args!;
    expect(args[args.indexOf('--appendonly') + 1]).toBe('yes');
    const dataDir = args[args.indexOf('--dir') + 1];
    const claim = statefulSet.spec!.volumeClaimTemplates![0]!;
    expect(redis.volumeMounts).toContainEqual({ name: claim.metadata!.name, mountPath: dataDir });

    const policy = findObject(objects, 'NetworkPolicy', 'redis') as KubeObject & INetworkPolicy;
    const clients = policy.spec!.ingress![0]!.from![0]!.podSelector?.matchLabels;
    expect(selects(clients, podTemplate(findObject(objects, 'Deployment')).metadata?.labels)).toBe(true);
  });

  it('requires the password of a Secret, which the monitor reads from the same Secret', () => {
    const objects = build('overlays/with-redis');
    const redis = container(podTemplate(findObject(objects, 'StatefulSet', 'redis')), 'redis');
    const args = redis.args!;
    const secretOf = (c: typeof redis, name: string) => c.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
    // Kubernetes substitutes $(NAME) from the container's env when it starts.
    expect(args[args.indexOf('--requirepass') + 1]).toBe('$(REDIS_PASSWORD)');
    const secret = secretOf(redis, 'REDIS_PASSWORD');
    expect(secret).toEqual({ name: 'enos-cert-monitor-redis', key: 'password' });
    expect(secretOf(redis, 'REDISCLI_AUTH')).toEqual(secret);

    const deployment = findObject(objects, 'Deployment');
    expect(secretOf(container(podTemplate(deployment)), 'REDIS_PASSWORD')).toMatchObject(secret!);
    const url = configString(configDocument(mountedConfig(objects, deployment).text), ['store', 'redisUrl']);
    expect(url).toMatch(/^redis:\/\/:\$\{REDIS_PASSWORD:-\}@redis:6379\//);
  });

  it('caps Redis memory below its limit, with room for the fork of an append-only-file rewrite, and never evicts', () => {
    const statefulSet = findObject(build('overlays/with-redis'), 'StatefulSet', 'redis');
    const redis = container(podTemplate(statefulSet), 'redis');
    const args = redis.args!;
    const maxmemory = /^(\d+)mb$/.exec(args[args.indexOf('--maxmemory') + 1]!);
    const limit = /^(\d+)Mi$/.exec(String(redis.resources!.limits!.memory));
    expect(Number(maxmemory![1]) * 1e6).toBeLessThanOrEqual(0.6 * Number(limit![1]) * 2 ** 20);
    expect(args[args.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
  });

  it('has a PodDisruptionBudget that lets a drain move it and never waits for an unready Redis', () => {
    const objects = build('overlays/with-redis');
    const pdb = findObject(objects, 'PodDisruptionBudget', 'redis') as KubeObject & IPodDisruptionBudget;
    expect(selects(pdb.spec!.selector?.matchLabels, podTemplate(findObject(objects, 'StatefulSet', 'redis')).metadata?.labels)).toBe(true);
    expect(pdb.spec!.maxUnavailable).toBe(1);
    expect(pdb.spec!.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
  });
});

describe('overlay cronjob', () => {
  const objects = (): KubeObject[] => build('overlays/cronjob');
  const cronJob = (): KubeObject & ICronJob => findObject(objects(), 'CronJob') as KubeObject & ICronJob;

  it('replaces the daemon, its PodDisruptionBudget and its Service with a CronJob running `scan`', () => {
    const kinds = objects().map((o) => o.kind);
    for (const gone of ['Deployment', 'PodDisruptionBudget', 'Service']) expect(kinds).not.toContain(gone);
    expect(cronJob().spec!.concurrencyPolicy).toBe('Forbid');
    expect(container(podTemplate(cronJob())).args).toEqual(['scan', '--format', 'json']);
    // The config it mounts is this build's ConfigMap.
    expect(() => mountedConfig(objects(), cronJob())).not.toThrow();
  });

  it('fails the Job at once on a config or credential exit code, and does not count a drained node', () => {
    const spec = cronJob().spec!.jobTemplate.spec!;
    expect(spec.template.spec!.restartPolicy).toBe('Never');
    expect(spec.podFailurePolicy?.rules).toEqual([
      { action: 'FailJob', onExitCodes: { containerName: APP_CONTAINER, operator: 'In', values: [2, 3] } },
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    ]);
  });

  it('runs the pod of the Deployment: same volumes, security context, account, image and resources', () => {
    const daemon = podTemplate(baseDeployment());
    const job = podTemplate(cronJob());
    const podFields = ['securityContext', 'serviceAccountName', 'automountServiceAccountToken', 'enableServiceLinks', 'terminationGracePeriodSeconds', 'volumes'] as const;
    for (const field of podFields) expect(job.spec![field], field).toEqual(daemon.spec![field]);
    const containerFields = ['image', 'imagePullPolicy', 'securityContext', 'resources', 'volumeMounts'] as const;
    for (const field of containerFields) expect(container(job)[field], field).toEqual(container(daemon)[field]);
    const daemonEnv = container(daemon).env!;
    expect(container(job).env!.filter((e) => daemonEnv.some((d) => d.name === e.name))).toEqual(daemonEnv);
  });

  it('resends alerts at least as seldom as it runs, so they outlive the gap to the next run', async () => {
    const spec = cronJob().spec!;
    const job = container(podTemplate(cronJob()));
    const config = mountedConfig(objects(), cronJob());
    // resendIntervalSeconds: ${NAME:-default} in the config; the CronJob sets NAME.
    const reference = /^\s*resendIntervalSeconds:\s*\$\{([A-Za-z_][A-Za-z0-9_]*):-\d+\}/m.exec(config.text);
    expect(reference, 'resendIntervalSeconds is read from the environment').not.toBeNull();
    const resendSeconds = Number(envValue(job, reference![1]!));

    const task = createTask(spec.schedule, () => {}, { timezone: spec.timeZone ?? 'Etc/UTC' });
    const runs = task.getNextRuns(200).map((d) => d.getTime() / 1000);
    await task.destroy();
    const gaps = runs.slice(1).map((t, i) => t - runs[i]!);
    expect(resendSeconds).toBeGreaterThanOrEqual(Math.max(...gaps));
    expect(spec.jobTemplate.spec!.activeDeadlineSeconds).toBeLessThan(Math.min(...gaps));
  });
});

describe('overlay prometheus-operator', () => {
  it('scrapes the Service on its http port at /metrics, under the job the alert rules expect', () => {
    const objects = build('overlays/prometheus-operator');
    const monitor = findObject(objects, 'ServiceMonitor') as KubeObject & IServiceMonitor;
    const service = findObject(objects, 'Service', 'enos-cert-monitor') as KubeObject & IService;
    expect(selects(monitor.spec.selector.matchLabels, service.metadata!.labels)).toBe(true);
    expect(monitor.spec.endpoints?.map((e) => [e.port, e.path])).toEqual([['http', '/metrics']]);
    expect(service.spec!.ports!.map((p) => p.name)).toContain('http');
    // Prometheus Operator names the job after the Service.
    const rules = JSON.stringify(findObject(objects, 'PrometheusRule').spec);
    const jobs = new Set([...rules.matchAll(/job=\\"([^"\\]+)\\"/g)].map((m) => m[1]));
    expect([...jobs]).toEqual([service.metadata!.name]);
  });

  it('ships the PrometheusRule of deploy/prometheus unchanged', () => {
    const copy = readFileSync(join(COMPONENTS_DIR, 'prometheus-operator/prometheusrule.yaml'), 'utf8');
    expect(copy).toBe(readFileSync(join(REPO_ROOT, 'deploy/prometheus/prometheusrule.yaml'), 'utf8'));
  });
});

describe('stock kube-prometheus and kube-prometheus-stack', () => {
  it('lets the Prometheus of kube-prometheus discover and scrape this namespace', () => {
    const objects = build(KUBE_PROMETHEUS);
    const role = findObject(objects, 'Role', 'prometheus-k8s') as KubeObject & IRole;
    const binding = findObject(objects, 'RoleBinding', 'prometheus-k8s') as KubeObject & IRoleBinding;
    const allowed = role.rules!.flatMap((rule) => rule.resources!.map((r) => `${rule.apiGroups![0] || 'core'}/${r}:${rule.verbs.join(',')}`));
    expect(allowed.sort()).toEqual(
      ['core/endpoints', 'core/pods', 'core/services', 'discovery.k8s.io/endpointslices'].map((r) => `${r}:get,list,watch`),
    );
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'prometheus-k8s', namespace: 'monitoring' }]);
  });

  it('admits our alerts into alertmanager-main past its own NetworkPolicy, in the namespace of the config URLs', () => {
    const [policy, ...others] = build(MONITORING_NAMESPACE) as (KubeObject & INetworkPolicy)[];
    expect(others).toEqual([]);
    expect(policy!.metadata!.namespace).toBe('monitoring');
    // The pods of the Alertmanager `main` that kube-prometheus runs.
    expect(policy!.spec!.podSelector?.matchLabels).toEqual({ 'app.kubernetes.io/name': 'alertmanager', alertmanager: 'main' });
    const [rule] = policy!.spec!.ingress!;
    expect(rule!.ports).toEqual([{ port: 9093, protocol: 'TCP' }]);
    const objects = build(KUBE_PROMETHEUS);
    const deployment = findObject(objects, 'Deployment');
    expect(selects(rule!.from![0]!.podSelector?.matchLabels, podTemplate(deployment).metadata?.labels)).toBe(true);
    expect(rule!.from![0]!.namespaceSelector?.matchLabels).toEqual({ 'kubernetes.io/metadata.name': 'enos-cert-monitor' });
    for (const url of configStrings(configDocument(mountedConfig(objects, deployment).text), ['alertmanager', 'urls'])) {
      expect(url).toMatch(/^http:\/\/alertmanager-main-\d+\.alertmanager-operated\.monitoring\.svc:9093$/);
    }
  });

  it('labels the ServiceMonitor and PrometheusRule for kube-prometheus-stack, which ignores them otherwise', () => {
    const objects = build(KUBE_PROMETHEUS_STACK);
    for (const kind of ['ServiceMonitor', 'PrometheusRule']) {
      expect(findObject(objects, kind).metadata.labels?.release, kind).toBe('kube-prometheus-stack');
    }
    for (const other of objects.filter((o) => !o.apiVersion.startsWith('monitoring.coreos.com/'))) {
      expect(other.metadata.labels?.release, `${other.kind}/${other.metadata.name}`).toBeUndefined();
    }
  });
});
