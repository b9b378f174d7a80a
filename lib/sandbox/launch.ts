// Starting a sandbox child process, and starting the first ones before their pool exists. Only
// node builtins and layer.ts here (no zod, no pool): `caco execute` and the execute Lambda import
// this first and spawn the children, which boot Pyodide (the slow part of a first result) while
// the rest of the CLI or handler loads; the pool adopts them (createSandboxPool's `prestarted`).
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { realpathSync } from 'node:fs';
import { childScriptsDir, readyLayerDir } from './layer.ts';

/**
 * The permission model's flag as the running Node spells it: `--permission` from 22.13 on, the
 * experimental one before (Node 22.0-22.12 reject `--permission`). Asked of Node, not its version.
 */
export function permissionFlag(accepted: ReadonlySet<string> = process.allowedNodeEnvironmentFlags): string {
  if (accepted.has('--permission')) return '--permission';
  if (accepted.has('--experimental-permission')) return '--experimental-permission';
  throw new Error(`Node ${process.version} has no permission model: the sandbox cannot run`);
}

/** Node flags for a sandbox child: the permission model, read-only access to what it needs. */
export function childNodeFlags(layer: string, childDir = `${layer}/child`): string[] {
  const layerReal = `${realpathSync(layer)}/`;
  const childReal = `${realpathSync(childDir)}/`;
  // The child scripts usually sit in <layer>/child (one grant); on a read-only layer with an older
  // copy they are the bundle's own (childScriptsDir) and get a grant of their own.
  return [
    permissionFlag(),
    `--allow-fs-read=${layerReal}`,
    ...(childReal.startsWith(layerReal) ? [] : [`--allow-fs-read=${childReal}`]),
    '--allow-worker',
    '--no-warnings',
  ];
}

/** How a child is started for a layer: its folder (real path), the controller script and the flags. */
export interface SandboxLaunch {
  layerDir: string;
  controller: string;
  flags: string[];
}

export function sandboxLaunch(layer: string): SandboxLaunch {
  const childDir = childScriptsDir(layer);
  return { layerDir: realpathSync(layer), controller: `${realpathSync(childDir)}/controller.mjs`, flags: childNodeFlags(layer, childDir) };
}

/**
 * A child process: empty environment, no inherited stdio, IPC. It starts booting at once; the
 * limits of its programs come later in a `limits` message (pool.ts), so it can start before any
 * pool or run config exists.
 */
export function spawnSandboxChild(launch: SandboxLaunch): ChildProcess {
  return spawn(process.execPath, [...launch.flags, launch.controller, JSON.stringify({ layerDir: launch.layerDir })], {
    env: {},
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
}

export interface PrestartedSandbox {
  launch: SandboxLaunch;
  procs: ChildProcess[];
}

let prestarted: PrestartedSandbox | null = null;

/**
 * Spawns `workers` (default: this machine's cores) children now, if the layer is ready as it is (a
 * layer that needs a build, or any error, is left to the pool: nothing is started). They do not
 * keep the process alive until a pool adopts them (takePrestartedSandbox), and exit with it.
 */
export function prestartSandbox(workers = availableParallelism()): void {
  if (prestarted) return;
  try {
    const layer = readyLayerDir();
    if (!layer) return;
    const launch = sandboxLaunch(layer);
    const procs = Array.from({ length: Math.max(1, workers) }, () => {
      const proc = spawnSandboxChild(launch);
      proc.unref();
      (proc.channel as { unref?: () => void } | undefined)?.unref?.();
      proc.on('error', () => {}); // a failed spawn: the pool sees the exit and spawns another
      return proc;
    });
    prestarted = { launch, procs };
  } catch {
    prestarted = null;
  }
}

/** The prestarted children, once (the pool that takes them owns them); null when none. */
export function takePrestartedSandbox(): PrestartedSandbox | null {
  const p = prestarted;
  prestarted = null;
  return p;
}
