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
import { createProgress, type ProgressMode } from './progress.ts';
import { materializeDataset } from './materialize.ts';

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
}

export interface LocalRunResult {
  runId: string;
  status: 'done' | 'stopped' | 'failed';
  datasetDir?: string;
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
  const db = openStateDb(join(work, 'state.db'));
  const queue = new SqliteWorkQueue(db, { maxAttempts: 4 });
  const blobs = new FileBlobStore(join(work, 'blobs'));
  const deps: PipelineDeps = {
    blobs,
    state: new SqliteStateStore(db),
    queue,
    log: {
      info: () => {},
      warn: (m, e) => (opts.progress === 'quiet' ? undefined : process.stderr.write(`warning: ${m}${e?.error ? `: ${e.error}` : ''}\n`)),
      error: (m) => process.stderr.write(`error: ${m}\n`),
    },
    secrets: (name) => (opts.env ?? process.env)[name],
  };

  const sandbox: { pool?: ReturnType<typeof createSandboxPool> } = {};
  // Locally every response is also cached per request under <out>/.caco/blobs/cache/llm/.
  const clients = llmClientsFor(cfg, { env: opts.env ?? process.env, ports: { blobs } });
  const impl = createPipeline({
    sandbox: (c) => (sandbox.pool ??= createSandboxPool(c.sandbox)),
    llm: () => clients,
  });

  const runId = await runIdFor(createReadStream(input), cfg);
  const stateFile = join(work, 'run-id');
  writeFileSync(stateFile, runId);
  const progress = createProgress(opts.progress, { seeds: 0, samples: cfg.generate.samples, mode: cfg.mode });
  try {
    queue.releaseLeases();
    await startRun({ runId, input, cfg, source: () => createReadStream(input) }, deps);
    const refresh = async () => progress.update(await deps.state.listShards(runId));
    const timer = setInterval(() => void refresh(), 500);
    const drained = await drainLocal({
      queue,
      deps,
      impl,
      concurrency: localConcurrency(impl.spec, cfg.local),
      signal: opts.signal,
      onShard: (msg, outcome, error) => progress.shard({ ...msg, outcome, error: error?.message }),
    });
    clearInterval(timer);
    await refresh();
    const deadLetters = drained.deadLetters.map((d) => ({ stage: d.msg.stage, shard: d.msg.shard, error: d.error }));
    if (drained.stopped) return { runId, status: 'stopped', wallMs: Date.now() - started, deadLetters };
    const run = await deps.state.getRun(runId);
    const statsBlob = await blobs.get(keys.dataset(runId, 'stats.json'));
    if (deadLetters.length || run?.status !== 'done' || !statsBlob) {
      return { runId, status: 'failed', wallMs: Date.now() - started, deadLetters };
    }
    const datasetDir = await materializeDataset(blobs, runId, resolve(opts.out));
    return { runId, status: 'done', datasetDir, stats: JSON.parse(statsBlob.toString()), wallMs: Date.now() - started, deadLetters };
  } finally {
    progress.stop();
    if (sandbox.pool) await (await sandbox.pool).close();
    unlock();
    db.close();
  }
}
