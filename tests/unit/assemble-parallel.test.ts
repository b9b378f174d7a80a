// Assemble in parallel steps (plan, a task per part, finish) writes the same dataset folder, file
// for file and byte for byte, as the single-invocation assemble it replaced
// (tests/helpers/assemble-single.ts), with several parts per config; whatever the order the tasks
// run in, when a task runs twice, crashes mid-way or the finish crashes before the status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveEndpoint, rolesUsed, parseRunConfig, type RunConfig } from '../../lib/config.ts';
import { keys } from '../../lib/pipeline/keys.ts';
import { HUB_LIMITS, type PartLimits } from '../../lib/pipeline/parquet-parts.ts';
import { makePlan } from '../../lib/pipeline/assemble-plan.ts';
import { assembleTask } from '../../lib/pipeline/assemble.ts';
import { createPipeline } from '../../lib/pipeline/registry.ts';
import { fanInMessage, processShardMessage } from '../../lib/pipeline/runner.ts';
import { drainLocal } from '../../lib/pipeline/local-orchestrator.ts';
import type { PipelineDeps } from '../../lib/pipeline/deps.ts';
import type { BlobStore } from '../../lib/store/ports.ts';
import type { BacktranslatedRecord } from '../../lib/stages/backtranslate.ts';
import { assembleRunSingle } from '../helpers/assemble-single.ts';
import { localDepsWithoutDedup } from '../helpers/local-deps.ts';

const RUN = 'r-par';
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r) + '\n').join('');

const sample = (id: string, n: number): BacktranslatedRecord => ({
  id,
  instruction: `Problem ${id}: ${'how many apples '.repeat(1 + (n % 5))}?`,
  output: `Step ${'one two three '.repeat(1 + (n % 7))} so \\boxed{${n}}.`,
  answer: String(n),
  code: `input = {"a": ${n}}\noutput = input["a"]\nprint(output)`,
  code_output: String(n),
  provenance: { source: 'generated', variant: n % 2, sample: n, models: { reverse: 'r', solve: 's' }, ...(n % 3 === 0 ? { custom: n } : {}) },
});
const codeCot = (id: string, n: number) => ({ id, code: `x = ${n}\nprint(x)`, stdout: String(n), provenance: { source: 'unified', seedId: `s${n}` } });
const rej = (id: string, stage: string, reason: string, n: number) => ({ id, stage, reason, detail: `detail ${n}`, record: { code: 'y'.repeat(n) } });

/** A run's blobs and shard records, as its stages leave them (each stage conserves its records). */
async function buildRun(deps: PipelineDeps, cfg: object): Promise<void> {
  await deps.state.createRun({ runId: RUN, createdAt: new Date(0).toISOString(), status: 'running', input: 'in.jsonl', mode: 'full', expected: { unify: 3, generate: 7 } });
  await deps.blobs.put(keys.config(RUN), JSON.stringify(cfg));
  const record = (stage: string, shard: string, kept: number, rejected: Record<string, number> = {}, failed: Record<string, number> = {}) => {
    const n = kept + Object.values(rejected).reduce((a, b) => a + b, 0) + Object.values(failed).reduce((a, b) => a + b, 0);
    return deps.state.recordShard({ runId: RUN, stage, shard, counts: { in: n, kept, rejected, failed, counters: {} }, next: [] });
  };
  const samples = [4, 0, 7, 3, 5, 1, 6];
  let n = 0;
  for (const [i, k] of samples.entries()) {
    const shard = `g0000${i}`;
    await deps.blobs.put(keys.survivors(RUN, 'backtranslate', shard), jsonl(Array.from({ length: k }, () => sample(`gen-${shard}-${n}`, n++))));
    const failed = i === 3 ? 2 : 0;
    const rejected = i === 5 ? 1 : 0;
    if (failed) await deps.blobs.put(keys.failed(RUN, 'backtranslate', shard), jsonl([rej(`b${i}a`, 'backtranslate', 'llm_error', 3), rej(`b${i}b`, 'backtranslate', 'llm_error', 4)]));
    if (rejected) await deps.blobs.put(keys.rejected(RUN, 'backtranslate', shard), jsonl([rej(`b${i}r`, 'backtranslate', 'answer_mismatch', 9)]));
    await record('backtranslate', shard, k, rejected ? { answer_mismatch: 1 } : {}, failed ? { llm_error: 2 } : {});
  }
  for (const [i, k] of [2, 3, 0].entries()) {
    const shard = `u0000${i}`;
    await deps.blobs.put(keys.survivors(RUN, 'dedup', shard), jsonl(Array.from({ length: k }, (_, j) => codeCot(`${shard}-${j}`, j + i))));
    if (i === 1) await deps.blobs.put(keys.rejected(RUN, 'dedup', shard), jsonl([rej('d1', 'dedup', 'duplicate', 5), rej('d2', 'dedup', 'near_duplicate', 6)]));
    await record('dedup', shard, k, i === 1 ? { duplicate: 1, near_duplicate: 1 } : {});
  }
  await deps.blobs.put(keys.rejected(RUN, 'ingest', 'input'), jsonl([rej('line-3', 'ingest', 'invalid_json', 1), rej('line-9', 'ingest', 'duplicate_id', 2)]));
  await record('ingest', 'input', 10, { invalid_json: 1, duplicate_id: 1 });
  for (const [shard, k] of [['g00000', 3], ['g00002', 1]] as const) {
    await deps.blobs.put(keys.rejected(RUN, 'filter', shard), jsonl(Array.from({ length: k }, (_, j) => rej(`f-${shard}-${j}`, 'filter', 'too_short', j))));
    await record('filter', shard, 0, { too_short: k });
  }
}

const CFG = parseRunConfig({ mode: 'full', dataset: { jsonl: true }, llm: { default: { baseURL: 'http://127.0.0.1:9/v1', model: 'm-test' } } });
const modelsOf = (cfg: RunConfig) => Object.fromEntries(rolesUsed(cfg).map((r) => [r, resolveEndpoint(cfg, r).model]));

/** Every file of the dataset folder and its bytes. */
async function folder(blobs: BlobStore): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const k of await blobs.list(keys.dataset(RUN))) out.set(k.slice(keys.dataset(RUN).length), (await blobs.get(k))!);
  return out;
}

function assertSameFolder(got: Map<string, Buffer>, want: Map<string, Buffer>): void {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), 'same files');
  for (const [f, b] of want) assert.ok(got.get(f)!.equals(b), `${f} differs`);
}

async function reference(limits: PartLimits): Promise<Map<string, Buffer>> {
  const { deps, db } = localDepsWithoutDedup('assemble-ref-', 3);
  await buildRun(deps, CFG);
  await assembleRunSingle(RUN, { mode: 'full', models: modelsOf(CFG), jsonl: true, limits }, deps);
  const f = await folder(deps.blobs);
  db.close();
  return f;
}

const noServices = { sandbox: () => Promise.reject(new Error('no sandbox here')), llm: () => ({}) };
const SMALL: PartLimits = { ...HUB_LIMITS, maxRows: 3, rowGroupRows: 2 };

test('the parallel assemble writes the single assemble\'s folder byte for byte, several parts per config, tasks run concurrently', async () => {
  for (const limits of [HUB_LIMITS, SMALL]) {
    const want = await reference(limits);
    const { deps, db, queue } = localDepsWithoutDedup('assemble-par-', 3);
    await buildRun(deps, CFG);
    const impl = createPipeline({ ...noServices, partLimits: limits });
    await queue.send(fanInMessage(RUN));
    const seen: string[] = [];
    const r = await drainLocal({ queue, deps, impl, concurrency: { assemble: 4 }, onShard: (m) => seen.push(m.shard) });
    assert.deepEqual(r.deadLetters, []);
    assert.equal((await deps.state.getRun(RUN))?.status, 'done');
    const got = await folder(deps.blobs);
    assertSameFolder(got, want);
    const parquet = [...got.keys()].filter((f) => f.endsWith('.parquet'));
    if (limits === SMALL) {
      // 26 samples in parts of 3 (data, sft, rlvr), 5 CodeGen rows, 10 rejected: 9 + 9 + 9 + 2 + 4 parts.
      assert.equal(parquet.length, 33, parquet.join(' '));
      assert.equal(seen.filter((s) => /\.task\d+$/.test(s)).length, 33, 'a task per part');
    } else assert.equal(parquet.length, 5);
    assert.equal(seen.filter((s) => s.endsWith('.finish')).length, 1, 'one finish');
    db.close();
  }
});

/** Wraps a blob store: `fail(key, op)` true once makes that call throw (a crash at that point). */
function faulty(inner: BlobStore, fail: (key: string, op: 'get' | 'put') => boolean): BlobStore {
  return {
    get: async (k) => {
      if (fail(k, 'get')) throw new Error(`crash reading ${k}`);
      return inner.get(k);
    },
    put: async (k, b) => {
      if (fail(k, 'put')) throw new Error(`crash writing ${k}`);
      return inner.put(k, b);
    },
    list: (p) => inner.list(p),
    delete: (k) => inner.delete(k),
  };
}

test('tasks in reverse order, run twice, crashing mid-way, a repeated trigger and a finish that crashes before the status: the same folder', async () => {
  const want = await reference(SMALL);
  const { deps: base, db, queue } = localDepsWithoutDedup('assemble-crash-', 5);
  await buildRun(base, CFG);
  const crashed = new Set<string>();
  const once = (what: string) => (crashed.has(what) ? false : (crashed.add(what), true));
  let taskReads = 0;
  const blobs = faulty(base.blobs, (k, op) => {
    // A task crashes after reading some of its slices, another after its Parquet part but before the JSONL twin.
    if (op === 'get' && k.includes('/backtranslate/g00004') && ++taskReads === 2) return once('mid-read');
    if (op === 'put' && k.endsWith('rejected/train-00001.jsonl')) return once('after-parquet');
    // The finish crashes after stats.json, before the card, the report and the status.
    if (op === 'put' && k.endsWith('/dataset/README.md')) return once('finish');
    return false;
  });
  const deps: PipelineDeps = { ...base, blobs };
  const impl = createPipeline({ ...noServices, partLimits: SMALL });
  const stage = 'assemble';
  const take = () => queue.receive([stage], 1000, 60_000);
  // The trigger, twice (a redelivery): the same plan, so the second sends the same task ids.
  await processShardMessage(fanInMessage(RUN), deps, impl);
  await processShardMessage(fanInMessage(RUN), deps, impl);
  const tasks = take();
  const ids = new Set(tasks.map((t) => t.msg.shard));
  assert.equal(ids.size, tasks.length / 2, 'the repeated trigger planned the same tasks');
  // Every task directly once more before the runner sees it (a duplicate racing the first).
  const plan = /^all\.([0-9a-f]+)\./.exec(tasks[0]!.msg.shard)![1]!;
  for (let i = 0; i < ids.size; i++) await assembleTask(RUN, plan, i, base);
  // Then through the runner in reverse order; a crashed task is retried like a redelivered message.
  let failures = 0;
  for (const t of [...tasks].reverse()) {
    for (;;) {
      try {
        await processShardMessage(t.msg, deps, impl);
        break;
      } catch {
        failures++;
      }
    }
  }
  assert.equal(failures, 2, 'two tasks crashed once each');
  const finishes = take().filter((m) => m.msg.shard.endsWith('.finish'));
  assert.ok(finishes.length >= 1);
  await assert.rejects(processShardMessage(finishes[0]!.msg, deps, impl), /crash writing/);
  assert.equal((await deps.state.getRun(RUN))?.status, 'running', 'a crashed finish leaves the run open');
  assert.equal(await processShardMessage(finishes[0]!.msg, deps, impl), 'done');
  assert.equal(await processShardMessage(finishes[0]!.msg, deps, impl), 'skipped', 'a finished run skips a repeated finish');
  assert.equal((await deps.state.getRun(RUN))?.status, 'done');
  assertSameFolder(await folder(base.blobs), want);
  db.close();
});

test('the plan depends on the shards only; a changed shard record gives a new plan id; bytes cut parts too', async () => {
  const { deps, db } = localDepsWithoutDedup('assemble-plan-', 3);
  await buildRun(deps, CFG);
  const a = await makePlan(RUN, { limits: SMALL, jsonl: true }, deps);
  const b = await makePlan(RUN, { limits: SMALL, jsonl: true }, deps);
  assert.deepEqual(a, b);
  // Parts of one config cover its rows once each, in order.
  const data = a.parts.filter((p) => p.config === 'default');
  assert.deepEqual(data.map((p) => p.first), [0, 3, 6, 9, 12, 15, 18, 21, 24]);
  assert.equal(data.reduce((s, p) => s + p.rows, 0), 26);
  // A retried shard (its record changed) must not reuse the earlier plan's task records.
  await deps.state.recordShard({ runId: RUN, stage: 'filter', shard: 'g00005', counts: { in: 1, kept: 1, rejected: {}, failed: {}, counters: {} }, next: [] });
  assert.notEqual((await makePlan(RUN, { limits: SMALL, jsonl: true }, deps)).summary.id, a.summary.id);
  // Parts closed by (estimated) bytes: every row once, in order, and more parts than by rows alone.
  const bytes = await makePlan(RUN, { limits: { ...HUB_LIMITS, maxBytes: 1500 } }, deps);
  const rows = bytes.parts.filter((p) => p.config === 'default');
  assert.ok(rows.length > 1, `${rows.length} parts`);
  let next = 0;
  for (const p of rows) {
    assert.equal(p.first, next);
    next += p.rows;
    assert.equal(p.slices.reduce((s, x) => s + x.to - x.from, 0), p.rows);
  }
  assert.equal(next, 26);
  db.close();
});
