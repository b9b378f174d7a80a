// The sandbox pool: N child Node processes, each running Pyodide in a worker thread under the
// permission model (fs read of the layer and the child scripts only; no fs write, no child
// processes), with an empty environment and no inherited stdio. Programs are batched per IPC
// message; a child that dies or hangs is replaced and its unfinished programs are requeued.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ExecutionResult } from '../schema.ts';
import { sandboxWorkers, SandboxOptionsSchema, type SandboxOptions } from './config.ts';
import { ensureLayer } from './layer.ts';
import { sandboxLaunch, spawnSandboxChild, type PrestartedSandbox } from './launch.ts';

export interface SandboxProgram {
  id: string;
  code: string;
}

export interface SandboxPoolStats {
  workers: number;
  pids: number[];
  /** Child processes replaced after a crash, a hang or a kill. */
  restarts: number;
  /** Interpreters replaced inside children (changed state, memory, timeout in C, crash). */
  recycles: number;
  /** Why interpreters were replaced after a program (state guard reason, memory), with counts. */
  recycleReasons: Record<string, number>;
  /** Milliseconds the state guard (isolation between programs) spent, summed over programs. */
  guardMs: number;
  completed: number;
  queued: number;
  /** Milliseconds from createSandboxPool() to the child processes spawned (options, layer check). */
  spawnMs: number;
  /** Milliseconds from createSandboxPool() to the first child ready (the pool takes work from then on). */
  startMs: number;
  /** Milliseconds from createSandboxPool() to every child ready (0 until then). */
  allReadyMs: number;
  /** Start-up phases of the first child ready, [phase, ms since the epoch] (`caco execute --timings`). */
  bootMarks: Array<[string, number]>;
  /** Children with a spare interpreter booted, as of their last ping (every second). */
  sparesReady: number;
}

export interface SandboxPool {
  readonly options: SandboxOptions;
  run(program: SandboxProgram): Promise<ExecutionResult>;
  runMany(programs: SandboxProgram[]): Promise<ExecutionResult[]>;
  stats(): SandboxPoolStats;
  close(): Promise<void>;
}

/** A child silent this long while busy is killed (its controller pings every second). */
const SILENCE_MS = 8_000;
const MAX_ATTEMPTS = 3;
/**
 * Batches in flight per child: the next one waits in the child while it runs the current one, so
 * its interpreter does not sit idle for the round trip to the pool between batches.
 */
const PIPELINE = 2;

interface Job {
  seq: number;
  program: SandboxProgram;
  attempts: number;
  resolve: (r: ExecutionResult) => void;
}

interface Child {
  proc: ChildProcess;
  ready: boolean;
  /** Every job sent and not yet settled, over the batches in flight. */
  batch: Map<number, Job> | null;
  /** Batches sent and not yet done (at most PIPELINE). */
  batchIds: number[];
  lastSeen: number;
  spareReady: boolean;
  stderrTail: string;
}

export { permissionFlag, childNodeFlags } from './launch.ts';

/** Resident memory of a process in MB (Linux /proc; 0 where unavailable). */
function residentMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function crashResult(job: Job, message: string): ExecutionResult {
  return {
    id: job.program.id, status: 'error', input: null, output: null, outputSource: null, stdout: '', stderr: '',
    truncated: false, error: { type: 'SandboxCrash', message }, durationMs: 0,
  };
}

function toResult(id: string, r: Record<string, unknown>): ExecutionResult {
  return {
    id,
    status: r.status as ExecutionResult['status'],
    input: (r.input ?? null) as ExecutionResult['input'],
    output: (r.output ?? null) as ExecutionResult['output'],
    outputSource: (r.outputSource ?? null) as ExecutionResult['outputSource'],
    stdout: (r.stdout as string) ?? '',
    stderr: (r.stderr as string) ?? '',
    truncated: Boolean(r.truncated),
    error: (r.error ?? null) as ExecutionResult['error'],
    durationMs: Math.max(0, Number(r.durationMs) || 0),
  };
}

/**
 * `prestarted`: children spawned earlier (launch.ts prestartSandbox) for the same layer: the pool
 * adopts them (up to its worker count; extras are stopped) instead of spawning, so their boot that
 * already ran is not lost. Others are killed.
 */
export async function createSandboxPool(opts: Partial<SandboxOptions> = {}, { prestarted = null }: { prestarted?: PrestartedSandbox | null } = {}): Promise<SandboxPool> {
  const t0 = performance.now();
  let options: SandboxOptions;
  let launch: ReturnType<typeof sandboxLaunch>;
  try {
    options = SandboxOptionsSchema.parse(opts);
    launch = sandboxLaunch(await ensureLayer((m) => process.stderr.write(`[sandbox layer] ${m}\n`)));
  } catch (e) {
    // Children started for this pool must not outlive its failure (a warm Lambda retries later).
    for (const p of prestarted?.procs ?? []) p.kill('SIGKILL');
    throw e;
  }
  const workers = sandboxWorkers(options);
  const early = (prestarted?.procs ?? []).filter((p) => p.exitCode === null && p.signalCode === null && p.connected);
  const sameLaunch = prestarted && JSON.stringify(prestarted.launch) === JSON.stringify(launch);
  for (const p of sameLaunch ? early.slice(workers) : early) p.kill('SIGKILL');
  const adoptable = sameLaunch ? early.slice(0, workers) : [];
  // The limits go to each child in its first message (a prestarted child was spawned without them).
  const limits = {
    timeoutMs: options.timeoutMs,
    memoryMb: options.memoryMb,
    outputCapBytes: options.outputCapBytes,
    recursionLimit: options.recursionLimit,
  };

  const queue: Job[] = [];
  const children = new Set<Child>();
  let seq = 0;
  let batchIds = 0;
  let restarts = 0;
  let recycles = 0;
  const recycleReasons: Record<string, number> = {};
  let guardMs = 0;
  let completed = 0;
  let closing = false;
  let startMs = 0;
  let spawnMs = 0;
  let allReadyMs = 0;
  let bootMarks: Array<[string, number]> = [];
  let startupFailure: ((e: Error) => void) | null = null;
  let onFirstReady: (() => void) | null = null;
  // Children that exit before they are ready, in a row: past the limit none is spawned again.
  let failedStarts = 0;

  const settle = (job: Job, r: ExecutionResult) => {
    completed++;
    job.resolve(r);
  };

  function requeue(jobs: Iterable<Job>, why: string) {
    const again: Job[] = [];
    for (const job of jobs) {
      job.attempts++;
      if (job.attempts >= MAX_ATTEMPTS) settle(job, crashResult(job, `sandbox child failed ${job.attempts} times: ${why}`));
      else again.push(job);
    }
    queue.unshift(...again);
  }

  function spawnChild(early?: ChildProcess): Child {
    const proc = early ?? spawnSandboxChild(launch);
    if (early) {
      proc.ref();
      (proc.channel as { ref?: () => void } | undefined)?.ref?.();
    }
    // A send to a child that is dying (Ctrl-C reaches the whole process group; a kill between the
    // child's death and the parent noticing it) fails with EPIPE: its exit event requeues the batch
    // or ends the close, so the failed send itself is not an error of the pool.
    proc.on('error', () => {});
    proc.send({ type: 'limits', limits });
    const child: Child = { proc, ready: false, batch: null, batchIds: [], lastSeen: performance.now(), spareReady: false, stderrTail: '' };
    children.add(child);
    proc.stderr!.on('data', (d: Buffer) => {
      child.stderrTail = (child.stderrTail + d.toString()).slice(-4000);
    });
    proc.on('message', (m: { type: string; batchId?: number; recycles?: number; reasons?: string[]; guardMs?: number; payload?: string; marks?: Array<[string, number]>; spare?: boolean }) => {
      child.lastSeen = performance.now();
      if (m.type === 'alive') child.spareReady = Boolean(m.spare);
      if (m.type === 'ready') {
        child.ready = true;
        if (!bootMarks.length && m.marks) bootMarks = m.marks;
        failedStarts = 0;
        onFirstReady?.();
        if (!allReadyMs && children.size === workers && [...children].every((c) => c.ready)) {
          allReadyMs = performance.now() - t0;
        }
        dispatch();
      } else if ((m.type === 'done' || m.type === 'partial') && child.batch && child.batchIds.includes(m.batchId!)) {
        const items = JSON.parse(m.payload ?? '[]') as Array<{ seq: number; r: Record<string, unknown> }>;
        for (const { seq: s, r } of items) {
          const job = child.batch.get(s);
          if (!job) continue;
          child.batch.delete(s);
          settle(job, toResult(job.program.id, r));
        }
        if (m.type === 'done') {
          recycles += m.recycles ?? 0;
          for (const r of m.reasons ?? []) recycleReasons[r] = (recycleReasons[r] ?? 0) + 1;
          guardMs += m.guardMs ?? 0;
          child.batchIds = child.batchIds.filter((b) => b !== m.batchId);
          if (child.batchIds.length === 0) child.batch = null;
          dispatch();
        }
      }
    });
    proc.on('exit', (code, signal) => {
      children.delete(child);
      if (closing) return;
      const why = `child exited (${signal ?? code})${child.stderrTail ? ': ' + child.stderrTail.trim().slice(-300) : ''}`;
      if (!child.ready && startupFailure && ![...children].some((c) => c.ready)) {
        if (children.size === 0) startupFailure(new Error(`sandbox child failed to start: ${why}`));
        return;
      }
      if (!child.ready && ++failedStarts >= MAX_ATTEMPTS) {
        // Children cannot start any more: the ones still running carry on; with none left, what
        // is queued fails with the reason instead of waiting forever.
        if (children.size === 0) for (const job of queue.splice(0)) settle(job, crashResult(job, `sandbox child failed to start: ${why}`));
        return;
      }
      restarts++;
      if (child.batch) requeue(child.batch.values(), why);
      child.batch = null;
      child.batchIds = [];
      spawnChild();
      dispatch();
    });
    return child;
  }

  function dispatch() {
    if (closing) return;
    // Idle children first; then each busy one gets its next batch ahead (PIPELINE).
    for (let depth = 0; depth < PIPELINE; depth++) {
      for (const child of children) {
        if (queue.length === 0) return;
        if (!child.ready || child.batchIds.length !== depth || !child.proc.connected) continue;
        // A quarter of a fair share per batch: few IPC messages, yet slow programs clustered in the
        // queue (a block of SymPy work) still spread over all children.
        const size = Math.min(options.maxBatch, Math.max(1, Math.ceil(queue.length / (children.size * 4))));
        const jobs = queue.splice(0, size);
        child.batch ??= new Map();
        for (const j of jobs) child.batch.set(j.seq, j);
        const batchId = ++batchIds;
        child.batchIds.push(batchId);
        if (depth === 0) child.lastSeen = performance.now();
        child.proc.send({ type: 'batch', batchId, jobs: jobs.map((j) => ({ seq: j.seq, code: j.program.code })) });
      }
    }
  }

  // A controller that stops answering (it pings every second) is killed; its batch is requeued.
  // So is a child whose resident memory passes the ceiling by far: the in-process ceiling lives in
  // the worker, where code that escaped from Python could undo it; this check cannot be undone.
  const rssLimitMb = options.memoryMb + 1024;
  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const child of children) {
      if (child.batch && now - child.lastSeen > SILENCE_MS) child.proc.kill('SIGKILL');
      else if (child.proc.pid && residentMb(child.proc.pid) > rssLimitMb) child.proc.kill('SIGKILL');
    }
  }, 1000);
  watchdog.unref();

  // The pool is usable as soon as one child is ready; the others join the dispatch as they come.
  await new Promise<void>((resolve, reject) => {
    startupFailure = reject;
    onFirstReady = () => {
      onFirstReady = null;
      startupFailure = null;
      resolve();
    };
    for (let i = 0; i < workers; i++) spawnChild(adoptable[i]);
    spawnMs = performance.now() - t0;
  }).catch(async (e) => {
    closing = true;
    for (const c of children) c.proc.kill('SIGKILL');
    clearInterval(watchdog);
    throw e;
  });
  startMs = performance.now() - t0;

  const enqueue = (program: SandboxProgram) =>
    new Promise<ExecutionResult>((resolve) => queue.push({ seq: ++seq, program, attempts: 0, resolve }));

  const pool: SandboxPool = {
    options,
    run(program) {
      if (closing) return Promise.reject(new Error('sandbox pool is closed'));
      const done = enqueue(program);
      dispatch();
      return done;
    },
    runMany(programs) {
      if (closing) return Promise.reject(new Error('sandbox pool is closed'));
      // All queued first, then one dispatch: batches sized from the whole queue.
      const all = Promise.all(programs.map(enqueue));
      dispatch();
      return all;
    },
    stats() {
      return {
        workers: children.size,
        pids: [...children].map((c) => c.proc.pid ?? -1),
        restarts,
        recycles,
        recycleReasons: { ...recycleReasons },
        guardMs,
        completed,
        queued: queue.length,
        spawnMs,
        startMs,
        allReadyMs,
        bootMarks,
        sparesReady: [...children].filter((c) => c.spareReady).length,
      };
    },
    async close() {
      closing = true;
      clearInterval(watchdog);
      await Promise.all(
        [...children].map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve();
              const kill = setTimeout(() => c.proc.kill('SIGKILL'), 1000);
              c.proc.once('exit', () => {
                clearTimeout(kill);
                resolve();
              });
              if (c.proc.connected) c.proc.send({ type: 'exit' }, (err) => err && c.proc.kill('SIGKILL'));
              else c.proc.kill('SIGKILL');
            }),
        ),
      );
      for (const job of queue.splice(0)) job.resolve(crashResult(job, 'sandbox pool closed before the program ran'));
    },
  };
  return pool;
}
