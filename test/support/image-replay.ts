import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, statSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { copyOperands, keyValues, type Dockerfile, type Stage } from './dockerfile.js';

const execFileAsync = promisify(execFile);

/** What replaying a stage leaves behind: the image's settings, mapped into a host folder. */
export interface ReplayedImage {
  /** The host folder that stands for the image's `/`. */
  readonly root: string;
  readonly env: Readonly<Record<string, string>>;
  readonly user: string | undefined;
  readonly workdir: string;
}

export interface ReplayOptions {
  readonly dockerfile: Dockerfile;
  readonly stage: Stage;
  /** The build context (the repository). */
  readonly context: string;
  /** Host folders that hold what other stages built, by stage name (e.g. build → the repository, where `npm run build` ran). */
  readonly stageRoots: Readonly<Record<string, string>>;
  readonly root: string;
  /** Appended to every replayed `npm ci` (e.g. --prefer-offline). */
  readonly npmExtraArgs?: readonly string[];
}

/**
 * Replays the file system steps of one stage on the host: WORKDIR, ENV, USER, COPY (from the
 * context or another stage) and RUN `npm ci ...`. Any other RUN is refused, so a new build
 * step cannot slip past the test that relies on this replay.
 */
export async function replayStage(options: ReplayOptions): Promise<ReplayedImage> {
  const { dockerfile, stage, context, stageRoots, root } = options;
  const env: Record<string, string> = {};
  let user: string | undefined;
  let workdir = '/';
  const host = (path: string): string => join(root, posix.resolve(workdir, path));
  for (const instruction of stage.instructions) {
    switch (instruction.keyword) {
      case 'WORKDIR':
        workdir = posix.resolve(workdir, instruction.args);
        mkdirSync(host('.'), { recursive: true });
        break;
      case 'ENV':
        Object.assign(env, keyValues(instruction.args));
        break;
      case 'USER':
        user = instruction.args.trim();
        break;
      case 'COPY': {
        const from = instruction.flags.from;
        const sourceOf = from === undefined ? (s: string) => join(context, s) : stageSource(dockerfile, from, stageRoots);
        const { sources, destination } = copyOperands(instruction.args);
        copy(sources.map(sourceOf), host(destination), destination.endsWith('/') || sources.length > 1);
        break;
      }
      case 'RUN':
        await replayRun(instruction.args, host('.'), options.npmExtraArgs ?? []);
        break;
      case 'ARG':
      case 'LABEL':
      case 'EXPOSE':
      case 'ENTRYPOINT':
      case 'CMD':
        break;
      default:
        throw new Error(`cannot replay ${instruction.keyword} ${instruction.args}`);
    }
  }
  return { root, env, user, workdir };
}

/** Maps a path of another stage's file system to the host folder standing for that stage's WORKDIR. */
function stageSource(dockerfile: Dockerfile, name: string, stageRoots: Readonly<Record<string, string>>): (s: string) => string {
  const from = dockerfile.stages.find((s) => s.name === name);
  const hostRoot = stageRoots[name];
  if (from === undefined || hostRoot === undefined) throw new Error(`no host folder for stage ${name}`);
  const workdirs = from.instructions.filter((i) => i.keyword === 'WORKDIR').map((i) => i.args);
  const workdir = workdirs.reduce((dir, next) => posix.resolve(dir, next), '/');
  return (source) => {
    const path = posix.relative(workdir, posix.resolve(workdir, source));
    if (path.startsWith('..')) throw new Error(`${source} lies outside WORKDIR ${workdir} of stage ${name}`);
    return join(hostRoot, path);
  };
}

/** Docker's COPY: a directory's contents go into the destination; into a folder when it ends with `/`. */
function copy(sources: readonly string[], destination: string, intoFolder: boolean): void {
  for (const source of sources) {
    const isDirectory = statSync(source).isDirectory();
    const target = intoFolder && !isDirectory ? join(destination, basename(source)) : destination;
    cpSync(source, target, { recursive: true });
  }
}

async function replayRun(command: string, cwd: string, npmExtraArgs: readonly string[]): Promise<void> {
  const [program, subcommand, ...args] = command.trim().split(/\s+/);
  if (program !== 'npm' || subcommand !== 'ci' || args.some((a) => /[;&|$`]/.test(a))) {
    throw new Error(`the replay runs only a plain \`npm ci ...\`, not: RUN ${command}`);
  }
  await execFileAsync('npm', ['ci', ...args, ...npmExtraArgs], { cwd, maxBuffer: 16 * 1024 * 1024 });
}
