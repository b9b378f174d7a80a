// A whole run on this machine: the embedded default. Files for blobs, SQLite for state, queue and
// the dedup index, all under <out>/.caco/, driven through the same runner as the Lambdas.
// Resumable: the run id is a hash of the input and the config, so the same command after a crash
// or Ctrl-C finds its state, releases the dead process's leases, and goes on; paid LLM responses
// come back from the response cache.
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, parseRunConfig, type RunConfig } from '../config.ts';
import { llmClientsFor } from '../hosts/llm-clients.ts';
import { runIdFor } from '../hosts/run-id.ts';
import { startRun } from '../hosts/start-run.ts';
import type { PipelineDeps } from '../pipeline/deps.ts';
import { keys } from '../pipeline/keys.ts';
import { drainLocal, localConcurrency } from '../pipeline/local-orchestrator.ts';
import { createPipeline } from '../pipeline/registry.ts';
import type { RunStats } from '../pipeline/stats.ts';
import { createSandboxPool } from '../sandbox/pool.ts';
import { FileBlobStore } from '../store/file-blob-store.ts';
import { openStateDb, SqliteStateStore, SqliteWorkQueue } from '../store/sqlite-state.ts';
import { createProgress, type ProgressMode, type ProgressView } from './progress.ts';
import type { LlmClient } from '../llm/client.ts';
import type { RoleClients } from '../pipeline/llm-adapter.ts';
import { ensureLayer, isLayerBuiltByThisNode, isLayerComplete, layerDir } from '../sandbox/layer.ts';
import { materializeDataset } from './materialize.ts';
import { requeueFailed } from './retry-failed.ts';
import { fanInMessage } from '../pipeline/runner.ts';
import { lastOf, type Branch, type PipelineSpec } from '../pipeline/spec.ts';
import { batchServices } from '../llm/batch/host.ts';
import { formatOpenBatch, listOpenBatches, pollOpenBatches, type OpenBatchView } from '../llm/batch/poller.ts';
import { SqliteBatchStore } from '../llm/batch/sqlite-store.ts';

export interface LocalRunOptions {
  input: string;
  /** The parsed JSON of the config file (validated here), or undefined for all defaults. */
  config?: unknown;
  /** Folder that relative paths in the config (the cassette) are relative to. */
  configDir?: string;
  out: string;
  mode?: RunConfig['mode'];
  progress: ProgressMode;
  signal?: AbortSignal;
  env?: Record<string, string | undefined>;
  /**
   * Start the run over from its response cache: every record that failed (an LLM outage, a wrong
   * key, a shard dead-lettered) is processed again; every answer already bought comes back from
   * the cache, so only the calls that failed go to the network.
   */
  retryFailed?: boolean;
  /** Stop the run when every call to an LLM endpoint has failed for this long (default 60 s). */
  stopAfterFailingMs?: number;
}

/** Every call to one endpoint failed for the stop threshold: the run stopped (see ENDPOINT_DOWN). */
export interface EndpointDown {
  role: string;
  baseURL: string;
  model: string;
  lastError: string;
  failingMs: number;
}

export interface LocalRunResult {
  runId: string;
  /** endpoint_down: stopped because an LLM endpoint kept failing (see `endpointDown`). */
  status: 'done' | 'stopped' | 'failed' | 'endpoint_down';
  /** Batch mode: the batches still open when the run stopped (Ctrl-C); the same command resumes them. */
  openBatches?: OpenBatchView[];
  datasetDir?: string;
  endpointDown?: EndpointDown;
  /** Records that failed (all stages), when the run finished: `--retry-failed` processes them again. */
  failedRecords?: number;
  stats?: RunStats & { samples: number; codegen: number };
  wallMs: number;
  deadLetters: { stage: string; shard: string; error: string | null }[];
}

/** Reads and validates a config file: a missing or unreadable file is a clear error. */
export function loadConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

async function fanInDue(deps: PipelineDeps, runId: string, spec: PipelineSpec, mode: RunConfig['mode']): Promise<boolean> {
  const run = await deps.state.getRun(runId);
  if (!run || run.status !== 'running') return false;
  const branches: Branch[] = mode === 'unify' ? ['unify'] : mode === 'synthesize' ? ['generate'] : ['unify', 'generate'];
  for (const b of branches) {
    const expected = run.expected[b];
    if (expected === undefined || (await deps.state.listShards(runId, lastOf(spec, b))).length < expected) return false;
  }
  return true;
}

/** The distinct endpoints (one client per role; roles sharing a URL and model are shown once). */
function endpointsOf(clients: RoleClients): { roles: string[]; client: LlmClient }[] {
  const out: { roles: string[]; client: LlmClient }[] = [];
  for (const [role, client] of Object.entries(clients)) if (client) out.push({ roles: [role], client });
  return out;
}

/**
 * The first run on a machine builds the Pyodide layer (~15-30 s, the display cannot redraw while
 * it snapshots): say so before it starts, and build it now rather than inside the first execute shard.
 */
async function announceLayerBuild(progress: ProgressView): Promise<void> {
  const dir = layerDir();
  if (process.env.CACO_PYODIDE_DIR || (isLayerComplete(dir) && isLayerBuiltByThisNode(dir))) return;
  progress.log('building the Pyodide sandbox layer (first run on this machine, about 15-30 s)...');
  const t0 = Date.now();
  await ensureLayer((m) => progress.log(`[sandbox layer] ${m}`));
  progress.log(`sandbox layer ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

/** One local runner per output folder: a second one would double the work. */
function takeLock(file: string): () => void {
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8'));
    let alive = false;
    try {
      if (pid > 0 && pid !== process.pid) {
        process.kill(pid, 0);
        alive = true;
      }
    } catch {
      alive = false;
    }
    if (alive) throw new Error(`another caco run (pid ${pid}) is using this output folder; wait for it or stop it`);
  }
  writeFileSync(file, String(process.pid));
  return () => rmSync(file, { force: true });
}

/** The default of `stopAfterFailingMs`: an endpoint failing every call for a minute is down. */
export const STOP_AFTER_FAILING_MS = 60_000;

/** Raised into every LLM call waiting on a halted endpoint: its shard stays queued for later. */
export class EndpointDownError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EndpointDownError';
  }
}

export async function runLocal(opts: LocalRunOptions): Promise<LocalRunResult> {
  const started = Date.now();
  const input = resolve(opts.input);
  if (!existsSync(input)) throw new ConfigError(`input file not found: ${opts.input}`);
  const raw = (opts.config ?? {}) as Record<string, unknown>;
  const cfg = parseRunConfig(opts.mode ? { ...raw, mode: opts.mode } : raw);
  if (cfg.llm.cassette.path && opts.configDir) cfg.llm.cassette.path = resolve(opts.configDir, cfg.llm.cassette.path);

  const work = join(resolve(opts.out), '.caco');
  mkdirSync(work, { recursive: true });
  const unlock = takeLock(join(work, 'lock'));
  const runId = await runIdFor(createReadStream(input), cfg);
  const db = openStateDb(join(work, 'state.db'));
  const queue = new SqliteWorkQueue(db, { maxAttempts: 4 });
  const blobs = new FileBlobStore(join(work, 'blobs'));
  const progress = createProgress(opts.progress, { seeds: 0, samples: cfg.generate.samples, mode: cfg.mode });
  let down: EndpointDown | undefined;
  const deps: PipelineDeps = {
    blobs,
    state: new SqliteStateStore(db),
    queue,
    log: {
      info: () => {},
      // Once the run stops for a dead endpoint, the shards it interrupts are expected: no warnings.
      warn: (m, e) => (opts.progress === 'quiet' || down ? undefined : progress.log(`warning: ${m}${e?.error ? `: ${e.error}` : ''}`)),
      error: (m) => progress.log(`error: ${m}`),
    },
    secrets: (name) => (opts.env ?? process.env)[name],
  };

  const sandbox: { pool?: ReturnType<typeof createSandboxPool> } = {};
  // Locally every response is also cached per request under <out>/.caco/blobs/cache/llm/.
  const clients = llmClientsFor(cfg, { env: opts.env ?? process.env, ports: { blobs } });
  // Batch mode: rounds in the state file; one runner per folder (the lock), so one owner.
  const batch = batchServices({
    store: new SqliteBatchStore(db),
    blobs,
    secrets: deps.secrets,
    replayOf: async () => (cfg.llm.cassette.mode === 'replay' ? (Object.values(clients).find((c) => c?.cassette)?.cassette ?? null) : null),
    owner: 'local',
    staleMs: 15 * 60_000,
  });
  const impl = createPipeline({
    sandbox: (c) => (sandbox.pool ??= createSandboxPool(c.sandbox)),
    llm: () => clients,
    batch,
  });

  const stateFile = join(work, 'run-id');
  writeFileSync(stateFile, runId);
  const endpoints = endpointsOf(clients);
  // Stop (rather than wait on cool-downs for minutes) once an endpoint has failed every call for
  // the threshold: its waiting calls are released with EndpointDownError, their shards stay queued.
  const stopper = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stopper.signal]) : stopper.signal;
  const stopAfter = opts.stopAfterFailingMs ?? STOP_AFTER_FAILING_MS;
  const watch = () => {
    if (down) return;
    const now = Date.now();
    for (const e of endpoints) {
      const h = e.client.breaker.health();
      if (h.failingSince === null || now - h.failingSince < stopAfter) continue;
      // A failure long ago on an endpoint nobody calls any more is not an outage.
      if (h.state !== 'open' && now - (h.lastFailureAt ?? 0) > 5_000) continue;
      down = { role: e.roles.join(', '), baseURL: e.client.config.baseURL, model: e.client.config.model, lastError: h.lastError ?? 'failed', failingMs: now - h.failingSince };
      const err = new EndpointDownError(`the LLM endpoint ${down.baseURL} (model ${down.model}) is down: ${down.lastError}`);
      for (const other of endpoints) other.client.breaker.halt(err);
      stopper.abort();
      return;
    }
  };
  try {
    queue.releaseLeases();
    if (opts.retryFailed) {
      const r = await requeueFailed(db, blobs, runId, impl.spec);
      const records = r.shards.reduce((a, s) => a + s.failed, 0);
      progress.log(
        r.shards.length || r.deadLetters
          ? `retrying ${runId}: ${records} failed records in ${r.shards.length} shards${r.deadLetters ? `, ${r.deadLetters} dead-lettered shard messages` : ''} (answers already bought come from the cache)`
          : `${runId} has no failed records to retry`,
      );
    }
    await announceLayerBuild(progress);
    await startRun({ runId, input, cfg, source: () => createReadStream(input) }, deps);
    const refresh = async () => {
      watch();
      progress.update(await deps.state.listShards(runId), endpoints.map((e) => ({ roles: e.roles, baseURL: e.client.config.baseURL, ...e.client.breaker.health() })));
    };
    const timer = setInterval(() => void refresh(), 500);
    let openBatches: OpenBatchView[] = [];
    const drain = () =>
      drainLocal({
        queue,
        deps,
        impl,
        concurrency: localConcurrency(impl.spec, cfg.local),
        signal,
        // Batch mode: while shards wait on batches, check them every llm.batchPollSeconds.
        idle: async () => {
          const polled = await pollOpenBatches(batch, (m) => queue.send(m), runId);
          openBatches = polled.open;
          if (opts.progress !== 'quiet') for (const b of polled.open) process.stderr.write(formatOpenBatch(b) + '\n');
          return polled.resumed.length > 0 || polled.open.length > 0;
        },
        idleMs: cfg.llm.batchPollSeconds * 1000,
        onShard: (msg, outcome, error) => progress.shard({ ...msg, outcome, error: error?.message }),
      });
    let drained = await drain();
    // A retry that redid only unify shards completes no generate shard, so nothing sends the
    // fan-in: send it once every branch of the run has all its shards.
    if (!drained.stopped && !drained.deadLetters.length && (await fanInDue(deps, runId, impl.spec, cfg.mode))) {
      await queue.send(fanInMessage(runId, impl.spec));
      drained = await drain();
    }
    clearInterval(timer);
    await refresh();
    const deadLetters = drained.deadLetters.map((d) => ({ stage: d.msg.stage, shard: d.msg.shard, error: d.error }));
    if (down) return { runId, status: 'endpoint_down', endpointDown: down, wallMs: Date.now() - started, deadLetters };
    if (drained.stopped) {
      openBatches = await listOpenBatches(batch.store, runId);
      return { runId, status: 'stopped', wallMs: Date.now() - started, deadLetters, ...(openBatches.length ? { openBatches } : {}) };
    }
    const run = await deps.state.getRun(runId);
    const statsBlob = await blobs.get(keys.dataset(runId, 'stats.json'));
    if (deadLetters.length || run?.status !== 'done' || !statsBlob) {
      return { runId, status: 'failed', wallMs: Date.now() - started, deadLetters };
    }
    const datasetDir = await materializeDataset(blobs, runId, resolve(opts.out));
    const stats = JSON.parse(statsBlob.toString()) as LocalRunResult['stats'] & object;
    const failedRecords = Object.values(stats.stages).reduce((a, st) => a + Object.values(st!.failed).reduce((x, y) => x + y, 0), 0);
    return { runId, status: 'done', datasetDir, stats, failedRecords, wallMs: Date.now() - started, deadLetters };
  } finally {
    for (const e of endpoints) e.client.close();
    progress.stop();
    if (sandbox.pool) await (await sandbox.pool).close();
    unlock();
    db.close();
  }
}
