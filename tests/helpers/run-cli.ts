// Spawns the real CLI (`node --import tsx bin/caco.ts ...`) as a child process, for tests and
// benchmarks that must kill it, signal it or measure it from outside. The child gets its own
// process group (detached), so a test can signal the group as a terminal's Ctrl-C does, or check
// that nothing the CLI started (sandbox workers) outlives it.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

export interface CliProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves when the process exits (never rejects). */
  exited: Promise<CliExit>;
  /** True until the process has exited. */
  running(): boolean;
  /** Signals the CLI process alone (a crash: `kill -9 <pid>`). */
  kill(signal: NodeJS.Signals): void;
  /** Signals the whole process group (what a terminal's Ctrl-C does). */
  killGroup(signal: NodeJS.Signals): void;
}

export interface SpawnCliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Extra node flags before `--import tsx` (e.g. --expose-gc). */
  nodeFlags?: string[];
  /** The script to run (default bin/caco.ts). */
  script?: string;
}

export function spawnCli(args: string[], opts: SpawnCliOptions = {}): CliProcess {
  const started = performance.now();
  const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), '--import', 'tsx', opts.script ?? 'bin/caco.ts', ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let alive = true;
  const exited = new Promise<CliExit>((resolve) => {
    child.on('close', (code, signal) => {
      alive = false;
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
  if (child.pid === undefined) throw new Error('could not spawn the CLI');
  const pid = child.pid;
  return {
    child,
    pid,
    exited,
    running: () => alive,
    kill: (signal) => {
      if (alive) process.kill(pid, signal);
    },
    killGroup: (signal) => {
      try {
        process.kill(-pid, signal);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    },
  };
}

/** Runs the CLI to completion. */
export function runCli(args: string[], opts: SpawnCliOptions = {}): Promise<CliExit> {
  return spawnCli(args, opts).exited;
}

/** True while any process of the group `pgid` is alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until the process group is gone; false if it is still alive after `timeoutMs`. */
export async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (!groupAlive(pgid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !groupAlive(pgid);
}
