import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const execFileAsync = promisify(execFile);

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const KUBERNETES_DIR = join(REPO_ROOT, 'deploy/kubernetes');
export const BASE_DIR = join(KUBERNETES_DIR, 'base');
export const OVERLAYS_DIR = join(KUBERNETES_DIR, 'overlays');
export const COMPONENTS_DIR = join(KUBERNETES_DIR, 'components');

/** A Kubernetes object as kustomize prints it. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
  };
  readonly [field: string]: unknown;
}

/** Every overlay folder, by name. */
export function overlayNames(): string[] {
  return readdirSync(OVERLAYS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** `kubectl kustomize DIR`, parsed. Fails loudly when kubectl is not installed. */
export async function kustomizeBuild(dir: string): Promise<KubeObject[]> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('kubectl', ['kustomize', dir], { maxBuffer: 32 * 1024 * 1024 }));
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') {
      throw new Error('kubectl is not installed (or not on PATH): the deploy tests need `kubectl kustomize`');
    }
    throw new Error(`kubectl kustomize ${dir} failed: ${failure.stderr ?? failure.message}`);
  }
  return parseManifests(stdout, dir);
}

/**
 * Parses a multi-document manifest as the API server's decoder does: YAML 1.1, where `yes` is
 * a boolean and `0440` an octal number, so a value that only YAML 1.2 reads as meant is caught.
 */
export function parseManifests(text: string, source: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const document of parseAllDocuments(text, { version: '1.1' })) {
    if (document.errors.length > 0) throw new Error(`${source}: ${document.errors[0]!.message}`);
    const value: unknown = document.toJS();
    if (value === null) continue;
    if (!isKubeObject(value)) throw new Error(`${source}: a document is not a Kubernetes object`);
    objects.push(value);
  }
  return objects;
}

function isKubeObject(value: unknown): value is KubeObject {
  if (value === null || typeof value !== 'object') return false;
  const { apiVersion, kind, metadata } = value as Record<string, unknown>;
  return (
    typeof apiVersion === 'string' &&
    typeof kind === 'string' &&
    metadata !== null &&
    typeof metadata === 'object' &&
    typeof (metadata as Record<string, unknown>).name === 'string'
  );
}

/** The one object of `kind` (and `name`, when given); throws when there is none or several. */
export function findObject(objects: readonly KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}
