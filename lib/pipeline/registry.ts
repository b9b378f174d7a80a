// Wires the stage functions of lib/stages to the runner: each stage gets its section of the run
// config, the LLM port (usage counted per shard), the sandbox and the dedup index. The same wiring
// serves the local orchestrator and the Lambdas; only the services behind it differ.
import { resolveEndpoint, rolesUsed, type RunConfig } from '../config.ts';
import { loadRunConfig, RunCache } from '../hosts/run-cache.ts';
import { checkContamination, findContamination } from '../decontam/index.ts';
import type { CodeCotRecord, ExecutedRecord } from '../schema.ts';
import { CodeCotRecordSchema, describeZodError, ExecutedRecordSchema } from '../schema.ts';
import { backtranslateShard } from '../stages/backtranslate.ts';
import { executeShard } from '../stages/execute.ts';
import { dedupFinish, dedupShard, dedupTask, partitionsFor, prepareDedup } from '../stages/dedup.ts';
import { filterShard } from '../stages/filter.ts';
import { generateShard } from '../stages/generate.ts';
import type { LlmRole } from '../stages/llm-port.ts';
import { parseSeed, SeedSchema, type Seed } from '../stages/seeds.ts';
import type { StageOutput } from '../stages/types.ts';
import { unifyShard } from '../stages/unify.ts';
import { verifyGoldShard } from '../stages/verify-gold.ts';
import { sandboxWorkers } from '../sandbox/config.ts';
import type { PipelineDeps } from './deps.ts';
import { assembleFinish, assembleTask, planAssemble } from './assemble.ts';
import { readPlanSummary } from './assemble-plan.ts';
import type { PartLimits } from './parquet-parts.ts';
import { branchOf, shardIndex } from './flow.ts';
import { keys } from './keys.ts';
import type { Validated } from './ingest.ts';
import { parseJsonl } from './lines.ts';
import { checkRecords } from './messages.ts';
import { llmPortFor, type RoleClients } from './llm-adapter.ts';
import { ShardResponseCache } from '../llm/shard-cache.ts';
import { batchPortFor } from '../llm/batch/port.ts';
import { ShardBatch, type BatchServices } from '../llm/batch/shard-batch.ts';
import { fanInMessage, generateShards, type PipelineImpl, type ShardContext } from './runner.ts';
import { CACO } from './spec.ts';

/** The sandbox as the execute stage uses it (lib/sandbox's pool). */
export type Executor = Parameters<typeof executeShard>[1];

export interface PipelineServices {
  /** The sandbox pool for a run's sandbox settings (created once, shared). */
  sandbox(cfg: RunConfig): Promise<Executor>;
  /** LLM clients per role for a run (created once per run, shared across its shards). */
  llm(runId: string, cfg: RunConfig): RoleClients | Promise<RoleClients>;
  /** The host's cache of run configs, when it reads them too (one cache, not two). */
  configs?: RunCache<RunConfig>;
  /** Calls in flight per role within a shard; default: the run's `llm.<role>.concurrency`. */
  concurrency?(cfg: RunConfig, role: LlmRole): number;
  /**
   * `shard`: cache LLM responses per shard in a few part objects (on S3 one object per request
   * costs more than the Lambda time of the call); absent: the clients' own per-request cache.
   */
  responseCache?: 'shard';
  /** Batch mode (`llm.<role>.batch`): where shards' batch rounds are recorded and the providers. */
  batch?: BatchServices;
  /** The dataset's part and row-group sizes (default: the Hub's, lib/pipeline/parquet-parts.ts). */
  partLimits?: PartLimits;
}

export function createPipeline(services: PipelineServices): PipelineImpl {
  const configs = services.configs ?? new RunCache<RunConfig>();
  const pools = new RunCache<CodeCotRecord[]>();
  const configOf = (runId: string, deps: PipelineDeps): Promise<RunConfig> => configs.get(runId, () => loadRunConfig(deps.blobs, runId));

  /** Verified Code CoTs for few-shot prompts: the deduplicated unified ones, or the input pool (synthesize). */
  const poolOf = (runId: string, deps: PipelineDeps): Promise<CodeCotRecord[]> =>
    pools.get(runId, async () => {
        const keyList = [...(await deps.blobs.list(keys.verifiedCodeCots(runId))), keys.inputPool(runId)];
        const pool: CodeCotRecord[] = [];
        for (const k of keyList) {
          const blob = await deps.blobs.get(k);
          if (!blob) continue;
          const recs = parseJsonl<CodeCotRecord>(blob.toString('utf8'), k);
          checkRecords(recs, CodeCotRecordSchema, k);
          pool.push(...recs);
        }
        return pool;
    });

  /** Runs a stage function with an LLM port whose usage lands in the shard's counters. */
  const withLlm = async <T>(ctx: ShardContext, fn: (cfg: RunConfig, port: ReturnType<typeof llmPortFor>, counters: Record<string, number>) => Promise<StageOutput<T>>) => {
    const cfg = await configOf(ctx.runId, ctx.deps);
    const usage: Record<string, number> = {};
    const cache =
      services.responseCache === 'shard' ? await ShardResponseCache.open(ctx.deps.blobs, keys.llmShardCache(ctx.runId, ctx.stage, ctx.shard)) : undefined;
    let out: StageOutput<T>;
    try {
      const clients = await services.llm(ctx.runId, cfg);
      const port = llmPortFor(clients, usage, cache);
      out = await fn(cfg, ctx.batch ? batchPortFor(clients, usage, ctx.batch as ShardBatch, port) : port, usage);
    } finally {
      // What was bought is kept even when the chunk fails, so its retry does not buy it again.
      await cache?.flush().catch((err: Error) => ctx.deps.log.warn('could not write the shard response cache', { error: err.message }));
    }
    for (const [k, v] of Object.entries(usage)) out.counters[k] = (out.counters[k] ?? 0) + v;
    return out as StageOutput<unknown>;
  };

  const concurrencyOf = (cfg: RunConfig, role: LlmRole) => services.concurrency?.(cfg, role) ?? resolveEndpoint(cfg, role).concurrency;

  const spec = CACO;
  /** A shard's batch rounds when its stage calls a role in batch mode; null otherwise. */
  const openBatch = async (ctx: ShardContext): Promise<ShardBatch | null> => {
    const roles = spec.stages.find((s) => s.name === ctx.stage)?.llmRoles ?? [];
    const cfg = await configOf(ctx.runId, ctx.deps);
    const used = new Set(rolesUsed(cfg));
    if (!roles.some((r) => used.has(r) && resolveEndpoint(cfg, r).batch)) return null;
    if (!services.batch) throw new Error(`stage ${ctx.stage} is in batch mode (llm.<role>.batch) but this host has no batch store; run it with caco run`);
    return ShardBatch.open(services.batch, ctx.deps.blobs, { runId: ctx.runId, stage: ctx.stage, shard: ctx.shard });
  };
  return {
    spec,
    batch: openBatch,
    stages: {
      unify: {
        input: SeedSchema,
        run: (records, ctx) =>
          withLlm(ctx, (cfg, llm) => unifyShard(records as Seed[], { runId: ctx.runId, shard: ctx.shard, llm, concurrency: concurrencyOf(cfg, 'unify') })),
      },
      generate: {
        chunkSize: 50,
        async makeInput(ctx) {
          const cfg = await configOf(ctx.runId, ctx.deps);
          const start = shardIndex(ctx.shard) * cfg.shardSize;
          const count = Math.max(0, Math.min(cfg.shardSize, cfg.generate.samples - start));
          return Array.from({ length: count }, (_, i) => ({ sampleIndex: start + i }));
        },
        run: (records, ctx) =>
          withLlm(ctx, async (cfg, llm) => {
            const items = records as { sampleIndex: number }[];
            const pool = cfg.generate.mode === 'fewshot' ? await poolOf(ctx.runId, ctx.deps) : [];
            return generateShard(
              { start: items[0]?.sampleIndex ?? 0, count: items.length },
              { runId: ctx.runId, shard: ctx.shard, llm, mode: cfg.generate.mode, seed: cfg.seed, k: cfg.generate.k, pool, concurrency: concurrencyOf(cfg, 'generate') },
            );
          }),
      },
      execute: {
        input: CodeCotRecordSchema,
        // 8 programs per worker (run twice): a chunk whose programs all hit a 10 s timeout takes
        // ~160 s whatever the worker count, so such a shard checkpoints well before 900 s end.
        chunkSize: async (ctx) => 8 * sandboxWorkers((await configOf(ctx.runId, ctx.deps)).sandbox),
        async run(records, ctx) {
          const cfg = await configOf(ctx.runId, ctx.deps);
          const pool = await services.sandbox(cfg);
          return (await executeShard(records as CodeCotRecord[], pool, { rerun: cfg.execute.rerun })) as StageOutput<unknown>;
        },
      },
      filter: {
        input: ExecutedRecordSchema,
        // The per-record rules (and the gold check for seeds); deduplication is its own stage.
        async run(records, ctx) {
          const cfg = await configOf(ctx.runId, ctx.deps);
          const out = filterShard(records as ExecutedRecord[], cfg.filter);
          if (branchOf(spec, ctx.shard) !== 'unify') return out as StageOutput<unknown>;
          // Unified seeds are kept only if the program's output equals the seed's gold answer.
          const gold = verifyGoldShard(out.kept);
          const counters = { ...out.counters };
          for (const [k, v] of Object.entries(gold.counters)) if (k !== 'in') counters[`gold.${k}`] = v;
          return { kept: gold.kept, rejected: [...out.rejected, ...gold.rejected], failed: [...out.failed, ...gold.failed], counters } as StageOutput<unknown>;
        },
      },
      dedup: {
        input: ExecutedRecordSchema,
        // Exact and near duplicates across the whole run, decided in partitions behind the branch's barrier (spec: barrier).
        barrier: {
          async prepare(kept, ctx) {
            const cfg = await configOf(ctx.runId, ctx.deps);
            await prepareDedup(kept as ExecutedRecord[], cfg.filter.dedup, ctx.deps.blobs, ctx.runId, ctx.shard);
          },
          async tasks(runId, shards, deps) {
            const cfg = await configOf(runId, deps);
            return partitionsFor(cfg.filter.dedup, shards * cfg.shardSize);
          },
          async task(step, p, deps) {
            const cfg = await configOf(step.runId, deps);
            const r = await dedupTask(step, p, cfg.filter.dedup, deps.blobs);
            deps.log.info('dedup partition done', { runId: step.runId, branch: step.branch, partition: p, of: step.tasks, ...r.stats });
          },
          async finish(step, deps) {
            const cfg = await configOf(step.runId, deps);
            const stats = await dedupFinish(step, cfg.filter.dedup, deps.blobs);
            deps.log.info('dedup decided', { runId: step.runId, branch: step.branch, ...stats });
          },
        },
        async run(records, ctx) {
          const cfg = await configOf(ctx.runId, ctx.deps);
          return (await dedupShard(records as ExecutedRecord[], cfg.filter.dedup, { runId: ctx.runId, shard: ctx.shard, blobs: ctx.deps.blobs })) as StageOutput<unknown>;
        },
      },
      backtranslate: {
        input: ExecutedRecordSchema,
        chunkSize: 50,
        run: (records, ctx) =>
          withLlm(ctx, async (cfg, llm) =>
            backtranslateShard(records as ExecutedRecord[], {
              runId: ctx.runId,
              shard: ctx.shard,
              llm,
              variants: cfg.backtranslate.variants,
              judge: cfg.backtranslate.judge,
              findContamination: cfg.decontam.enabled ? (t) => findContamination(t, cfg.decontam) : null,
              concurrency: Math.max(concurrencyOf(cfg, 'reverse'), concurrencyOf(cfg, 'solve')),
            }),
          ),
      },
    },
    async onBranchComplete(branch, runId, deps) {
      const cfg = await configOf(runId, deps);
      if (branch === 'unify' && cfg.mode === 'full') {
        const msgs = generateShards(runId, cfg.generate.samples, cfg.shardSize, spec);
        await deps.state.setExpected(runId, 'generate', msgs.length);
        if (msgs.length > 0) return msgs;
      }
      return [fanInMessage(runId, spec)];
    },
    // Assemble in parallel steps: a plan, a task per Parquet part, a finish (lib/pipeline/assemble.ts).
    fanIn: {
      async plan(runId, deps) {
        const cfg = await configOf(runId, deps);
        const summary = await planAssemble(runId, { spec, jsonl: cfg.dataset.jsonl, limits: services.partLimits }, deps);
        deps.log.info('assemble planned', { runId, plan: summary.id, tasks: summary.parts.length });
        return { id: summary.id, tasks: summary.parts.length };
      },
      tasks: async (runId, id, deps) => (await readPlanSummary(deps.blobs, runId, id)).parts.length,
      async task(runId, id, i, deps) {
        const started = performance.now();
        const r = await assembleTask(runId, id, i, deps);
        deps.log.info('assemble part written', { runId, plan: id, task: i, config: r.config, part: r.part, rows: r.rows, ms: Math.round(performance.now() - started) });
      },
      async finish(runId, id, deps) {
        const cfg = await configOf(runId, deps);
        const models = Object.fromEntries(rolesUsed(cfg).map((r) => [r, resolveEndpoint(cfg, r).model]));
        await assembleFinish(runId, id, { mode: cfg.mode, models, spec, jsonl: cfg.dataset.jsonl }, deps);
        // The run is over here: its cached values have an end.
        configs.end(runId);
        pools.end(runId);
      },
    },
  };
}

/** Validates an input line for the run's mode; seeds are decontaminated here, before any LLM call. */
export function inputValidator(cfg: RunConfig): (value: unknown) => Validated {
  if (cfg.mode === 'synthesize') {
    return (value) => {
      const r = CodeCotRecordSchema.safeParse(value);
      return r.success ? { ok: true, record: r.data } : { ok: false, reason: 'invalid_record', detail: describeZodError(r.error) };
    };
  }
  return (value) => {
    const r = parseSeed(value);
    if (!r.ok) return { ok: false, reason: r.reason, detail: r.detail };
    if (cfg.decontam.enabled) {
      const hit = checkContamination(r.seed.question, cfg.decontam);
      if (hit) return { ok: false, reason: hit, detail: `seed ${r.seed.id} overlaps a benchmark test problem` };
    }
    return { ok: true, record: r.seed };
  };
}

/** The messages that start generation directly from ingest (synthesize mode). */
export function generateStart(cfg: RunConfig): (runId: string) => ReturnType<typeof generateShards> {
  return (runId) => generateShards(runId, cfg.generate.samples, cfg.shardSize);
}
