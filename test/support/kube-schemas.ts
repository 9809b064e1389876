import { join } from 'node:path';
import ts from 'typescript';
import { REPO_ROOT, type KubeObject } from './kustomize.js';

/**
 * Strict schema validation of Kubernetes objects, offline, from the kubernetes-models packages
 * (generated from the Kubernetes OpenAPI spec and, for custom resources, from the CRDs):
 *
 * 1. each object runs through its model's validator (ajv, compiled from the schema): types,
 *    required fields, enums and formats such as resource quantities;
 * 2. all objects are type-checked as object literals against the model's TypeScript interface,
 *    where an unknown field is an error (the schemas themselves allow extra fields, so this is
 *    what makes the check strict, as kubectl's --validate=strict is).
 *
 * An object whose apiVersion/kind has no model is a problem, never silently accepted.
 */
export async function schemaProblems(objects: readonly KubeObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const object of objects) {
    const problem = await validatorProblem(object);
    if (problem !== undefined) problems.push(`${describe(object)}: ${problem}`);
  }
  problems.push(...typeProblems(objects));
  return problems;
}

/** Packages with the models of custom resources, by API group. */
const CUSTOM_RESOURCE_PACKAGES: Readonly<Record<string, string>> = {
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};

/** The module of an object's model, e.g. kubernetes-models/apps/v1/Deployment. */
function modelModule({ apiVersion, kind }: KubeObject): string {
  const slash = apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  const pkg = CUSTOM_RESOURCE_PACKAGES[group] ?? 'kubernetes-models';
  return `${pkg}/${group ? `${group}/` : ''}${version}/${kind}`;
}

function describe(object: KubeObject): string {
  return `${object.kind}/${object.metadata.name}`;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

async function validatorProblem(object: KubeObject): Promise<string | undefined> {
  let model: unknown;
  try {
    model = ((await import(modelModule(object))) as Record<string, unknown>)[object.kind];
  } catch {
    model = undefined;
  }
  if (typeof model !== 'function') return `no schema for ${object.apiVersion} ${object.kind}`;
  try {
    new (model as ModelClass)(object).validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The type check runs on a source that exists only in memory, placed in the repository so that
 * its imports resolve from node_modules. */
const VIRTUAL_SOURCE = join(REPO_ROOT, 'test/support/__kube-objects__.ts');

const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2022.d.ts'],
  types: [],
};

function typeProblems(objects: readonly KubeObject[]): string[] {
  const imports: string[] = [];
  const declarations: string[] = [];
  objects.forEach((object, index) => {
    imports.push(`import type { I${object.kind} as T${index} } from '${modelModule(object)}';`);
    declarations.push(`export const o${index}: T${index} = ${JSON.stringify(object, null, 2)};`);
  });
  const header = `${imports.join('\n')}\n`;
  const starts: number[] = [];
  let offset = header.length;
  for (const declaration of declarations) {
    starts.push(offset);
    offset += declaration.length + 1;
  }
  const source = header + declarations.map((d) => `${d}\n`).join('');

  const host = ts.createCompilerHost(COMPILER_OPTIONS);
  const readSource = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (file, language, ...rest) =>
    file === VIRTUAL_SOURCE ? ts.createSourceFile(file, source, language) : readSource(file, language, ...rest);
  host.fileExists = (file) => file === VIRTUAL_SOURCE || fileExists(file);
  const program = ts.createProgram([VIRTUAL_SOURCE], COMPILER_OPTIONS, host);

  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    if (diagnostic.file?.fileName !== VIRTUAL_SOURCE || diagnostic.start === undefined) return message;
    if (diagnostic.start < header.length) return `no TypeScript model: ${message}`;
    const index = starts.findLastIndex((start) => start <= diagnostic.start!);
    const object = objects[index]!;
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const { line: firstLine } = diagnostic.file.getLineAndCharacterOfPosition(starts[index]!);
    return `${describe(object)} (line ${line - firstLine + 1}): ${message}`;
  });
}
