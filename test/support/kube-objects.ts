import { basename, dirname } from 'node:path';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import { isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { findObject, type KubeObject } from './kustomize.js';

/** Accessors for the parts of the built manifests the deploy tests read (after schema checks). */

export const APP_CONTAINER = 'enos-cert-monitor';
export const CONFIG_ENV_VAR = 'ENOS_CERT_MONITOR_CONFIG';

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'CronJob', 'Job', 'DaemonSet']);

export function workloads(objects: readonly KubeObject[]): KubeObject[] {
  return objects.filter((o) => WORKLOAD_KINDS.has(o.kind));
}

/** The pod template of a Deployment, StatefulSet, DaemonSet, Job or CronJob. */
export function podTemplate(workload: KubeObject): IPodTemplateSpec {
  const spec = workload.spec as { template?: IPodTemplateSpec; jobTemplate?: { spec: { template: IPodTemplateSpec } } };
  const template = workload.kind === 'CronJob' ? spec.jobTemplate?.spec.template : spec.template;
  if (template === undefined) throw new Error(`${workload.kind}/${workload.metadata.name} has no pod template`);
  return template;
}

export function container(template: IPodTemplateSpec, name: string = APP_CONTAINER): IContainer {
  const found = template.spec?.containers.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no container ${name}`);
  return found;
}

export function envValue(c: IContainer, name: string): string | undefined {
  return c.env?.find((e) => e.name === name)?.value;
}

export function volume(template: IPodTemplateSpec, name: string): IVolume {
  const found = template.spec?.volumes?.find((v) => v.name === name);
  if (found === undefined) throw new Error(`no volume ${name}`);
  return found;
}

/** The volume mounted at `dir` in container `c`. */
export function volumeAt(template: IPodTemplateSpec, c: IContainer, dir: string): IVolume {
  const mount = c.volumeMounts?.find((m) => m.mountPath === dir);
  if (mount === undefined) throw new Error(`nothing is mounted at ${dir}`);
  return volume(template, mount.name);
}

/** Whether `labels` has every pair of `selector`. */
export function selects(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (selector === undefined || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

export interface MountedConfig {
  /** Where the container reads it ($ENOS_CERT_MONITOR_CONFIG). */
  readonly path: string;
  /** The ConfigMap it comes from. */
  readonly configMap: KubeObject;
  readonly text: string;
}

/**
 * The config file the app container of `workload` reads: $ENOS_CERT_MONITOR_CONFIG, followed
 * through its volume mount to the ConfigMap of this build and the key of that name.
 */
export function mountedConfig(objects: readonly KubeObject[], workload: KubeObject): MountedConfig {
  const template = podTemplate(workload);
  const app = container(template);
  const path = envValue(app, CONFIG_ENV_VAR);
  if (path === undefined) throw new Error(`${CONFIG_ENV_VAR} is not set`);
  const source = volumeAt(template, app, dirname(path)).configMap;
  if (source?.name === undefined) throw new Error(`${dirname(path)} is not a ConfigMap volume`);
  const configMap = findObject(objects, 'ConfigMap', source.name);
  const text = (configMap.data as Record<string, string> | undefined)?.[basename(path)];
  if (text === undefined) throw new Error(`ConfigMap ${source.name} has no key ${basename(path)}`);
  return { path, configMap, text };
}

/** The config as a YAML document, to read values and rewrite some for a local run. */
export function configDocument(text: string): Document {
  const document = parseDocument(text);
  if (document.errors.length > 0) throw new Error(`config.yaml: ${document.errors[0]!.message}`);
  return document;
}

export function configString(document: Document, path: readonly string[]): string {
  const value = document.getIn(path);
  if (typeof value !== 'string') throw new Error(`config ${path.join('.')} is not a string`);
  return value;
}

export function configStrings(document: Document, path: readonly string[]): string[] {
  const value: unknown = document.getIn(path);
  const items = isSeq(value) ? value.items.map((item) => (isScalar(item) ? item.value : item)) : undefined;
  if (items === undefined || !items.every((item): item is string => typeof item === 'string')) {
    throw new Error(`config ${path.join('.')} is not a list of strings`);
  }
  return items;
}
