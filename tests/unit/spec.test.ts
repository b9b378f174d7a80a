// The pipeline as data (lib/pipeline/spec.ts): Caco's spec gives the routing the stack and the
// runner used to spell out by hand, and a stage declared in the spec alone (a pass-through
// "score" step after dedup on the generate branch) is routed by the local runner and by the
// synthesized stack, and appears in stats, card and progress, with no other file edited.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CacoStack } from '../../lib/infra/caco-stack.ts';
import { routingOf } from '../../lib/infra/routing.ts';
import { NODE_MAJOR } from '../../lib/infra/node-runtime.ts';
import { CACO, withStage, type StageDecl } from '../../lib/pipeline/spec.ts';
import { inputKeyOf, nextOf, shardId, shardIndex, barrierAfter, barrierStepOf, barrierTask, barrierFinish, completesBranch } from '../../lib/pipeline/flow.ts';
import { keys } from '../../lib/pipeline/keys.ts';
import { localDepsWithoutDedup } from '../helpers/local-deps.ts';
import { fanInMessage, generateShards, type PipelineImpl, type StageImpl } from '../../lib/pipeline/runner.ts';
import { drainLocal, localConcurrency } from '../../lib/pipeline/local-orchestrator.ts';
import { ingestRun } from '../../lib/pipeline/ingest.ts';
import { parseJsonl } from '../../lib/pipeline/lines.ts';
import { computeStats } from '../../lib/pipeline/stats.ts';
import { datasetCard } from '../../lib/pipeline/dataset-card.ts';
import { summarize } from '../../lib/local/progress.ts';
import type { StageOutput } from '../../lib/stages/types.ts';

const SCORE: StageDecl = { name: 'score', kind: 'shard', host: 'filter', local: 'one', text: 'a difficulty score per program (pass-through here)' };
const WITH_SCORE = withStage(CACO, SCORE, 'dedup', ['generate']);

test("Caco's spec gives the flow the runner follows", () => {
  assert.equal(inputKeyOf(CACO, 'r', 'unify', 'u00001'), 'runs/r/ingest/u00001.jsonl');
  assert.equal(inputKeyOf(CACO, 'r', 'generate', 'g00001'), null);
  assert.equal(inputKeyOf(CACO, 'r', 'backtranslate', 'g00001'), 'runs/r/dedup/g00001.jsonl');
  assert.deepEqual(nextOf(CACO, { runId: 'r', stage: 'execute', shard: 'u00002' }), [{ runId: 'r', stage: 'filter', shard: 'u00002' }]);
  // dedup is a barrier: filter never sends it directly, the barrier's finish does
  assert.deepEqual(nextOf(CACO, { runId: 'r', stage: 'filter', shard: 'g00002' }), []);
  assert.equal(barrierAfter(CACO, 'filter', 'g00002'), 'dedup');
  assert.equal(barrierAfter(CACO, 'execute', 'g00002'), null);
  assert.equal(barrierAfter(CACO, 'dedup', 'u00002'), null);
  assert.deepEqual(barrierStepOf(CACO, barrierTask(CACO, 'generate', 12)), { branch: 'generate', task: 12 });
  assert.deepEqual(barrierStepOf(CACO, barrierFinish(CACO, 'unify')), { branch: 'unify', task: null });
  assert.equal(barrierStepOf(CACO, 'g00012'), null);
  assert.equal(completesBranch(CACO, 'dedup', 'u00000'), 'unify');
  assert.equal(completesBranch(CACO, 'dedup', 'g00000'), null);
  assert.equal(completesBranch(CACO, 'backtranslate', 'g00000'), 'generate');
  assert.equal(keys.verifiedCodeCots('r'), 'runs/r/dedup/u');
  const r = routingOf(CACO);
  assert.deepEqual(r.functions, ['ingest', 'generate', 'execute', 'filter', 'backtranslate', 'assemble']);
  assert.deepEqual(r.sendsTo.filter, ['generate', 'filter', 'dedup', 'backtranslate', 'assemble']);
  assert.deepEqual(r.llmFunctions, ['generate', 'backtranslate']);
  assert.deepEqual(r.sandboxFunctions, ['execute']);
});

test('shard ids sort as their indices at any size', () => {
  const idx = [0, 7, 99_999, 100_000, 100_001, 999_999, 1_000_000, 12_345_678];
  const ids = idx.map((i) => shardId(CACO, 'generate', i));
  assert.deepEqual(ids.slice(0, 4), ['g00000', 'g00007', 'g99999', 'g~100000']);
  assert.deepEqual([...ids].sort(), ids);
  assert.deepEqual(ids.map(shardIndex), idx);
  assert.throws(() => shardId(CACO, 'unify', -1), /non-negative integer/);
});

test('a spec must be consistent: unknown or duplicate stages are errors', () => {
  assert.throws(() => withStage(CACO, { ...SCORE, name: 'filter' }, 'dedup', ['generate']), /declared twice/);
  assert.throws(() => withStage(CACO, SCORE, 'backtranslate', ['unify']), /not on branch unify/);
});

test('an extra stage declared in the spec: its flow, keys and routing follow from it', () => {
  assert.equal(inputKeyOf(WITH_SCORE, 'r', 'score', 'g00003'), 'runs/r/dedup/g00003.jsonl');
  assert.equal(inputKeyOf(WITH_SCORE, 'r', 'backtranslate', 'g00003'), 'runs/r/score/g00003.jsonl');
  assert.deepEqual(nextOf(WITH_SCORE, { runId: 'r', stage: 'dedup', shard: 'g00003' }), [{ runId: 'r', stage: 'score', shard: 'g00003' }]);
  // the unify branch is untouched: dedup still ends it
  assert.equal(completesBranch(WITH_SCORE, 'dedup', 'u00000'), 'unify');
  assert.deepEqual(nextOf(WITH_SCORE, { runId: 'r', stage: 'dedup', shard: 'u00000' }), []);
  const r = routingOf(WITH_SCORE);
  assert.equal(r.queueOf.score, 'filter');
  assert.deepEqual(r.sendsTo.filter, ['generate', 'filter', 'dedup', 'score', 'backtranslate', 'assemble']);
  assert.equal(localConcurrency(WITH_SCORE, { llmShards: 4, executeShards: 2 }).score, 1);
});

type Rec = { id: string; v: number; scored?: boolean };

function passThrough(tag?: (r: Rec) => Rec): StageImpl {
  return {
    async run(records) {
      const out: StageOutput<unknown> = { kept: [], rejected: [], failed: [], counters: {} };
      for (const r of records as Rec[]) {
        if (r.v % 7 === 0) out.rejected.push({ id: r.id, stage: 'x', reason: 'seven' });
        else out.kept.push(tag ? tag(r) : r);
      }
      return out;
    },
  };
}

test('an extra stage declared in the spec is routed by the local runner: every generate shard passes through it', async () => {
  const { dir, db, queue, deps } = localDepsWithoutDedup('spec-', 2);
  const samples = 23;
  const shardSize = 4;
  const backtranslated: Rec[] = [];
  const impl: PipelineImpl = {
    spec: WITH_SCORE,
    stages: {
      unify: passThrough(),
      execute: passThrough(),
      filter: passThrough(),
      dedup: { ...passThrough(), barrier: { prepare: async () => {}, tasks: async () => 1, task: async () => {}, finish: async () => {} } },
      score: passThrough((r) => ({ ...r, scored: true })),
      generate: {
        ...passThrough(),
        async makeInput(ctx) {
          const base = Number(ctx.shard.slice(1)) * shardSize;
          return Array.from({ length: Math.min(shardSize, samples - base) }, (_, i) => ({ id: `${ctx.shard}-${i}`, v: 100 + base + i }));
        },
      },
      backtranslate: {
        async run(records) {
          backtranslated.push(...(records as Rec[]));
          return { kept: records, rejected: [], failed: [], counters: {} };
        },
      },
    },
    async onBranchComplete(branch, runId) {
      if (branch === 'unify') {
        const msgs = generateShards(runId, samples, shardSize, WITH_SCORE);
        await deps.state.setExpected(runId, 'generate', msgs.length);
        return msgs;
      }
      return [fanInMessage(runId, WITH_SCORE)];
    },
    async assemble(runId) {
      await deps.state.setRunStatus(runId, 'done');
    },
  };
  const lines = Array.from({ length: 9 }, (_, i) => JSON.stringify({ id: `s${i}`, v: i })).join('\n');
  await ingestRun(
    {
      runId: 'run1', input: 'mem', mode: 'full', shardSize, configJson: '{}', spec: WITH_SCORE,
      source: async function* () { yield Buffer.from(lines); },
      validate: (v) => ({ ok: true, record: v as Rec }),
      startGenerate: (runId) => generateShards(runId, samples, shardSize, WITH_SCORE),
    },
    deps,
  );
  const r = await drainLocal({ queue, deps, impl, concurrency: localConcurrency(WITH_SCORE, { llmShards: 3, executeShards: 1 }) });
  assert.deepEqual(r.deadLetters, []);
  assert.equal((await deps.state.getRun('run1'))?.status, 'done');

  const shards = await deps.state.listShards('run1');
  const score = shards.filter((s) => s.stage === 'score');
  assert.deepEqual(score.map((s) => s.shard).sort(), ['g00000', 'g00001', 'g00002', 'g00003', 'g00004', 'g00005']);
  // backtranslate read score's output: every record it saw went through score
  const survivors = Array.from({ length: samples }, (_, i) => 100 + i).filter((v) => v % 7 !== 0);
  assert.deepEqual(backtranslated.map((x) => x.v).sort((a, b) => a - b), survivors);
  assert.ok(backtranslated.every((x) => x.scored));
  assert.equal(parseJsonl<Rec>((await deps.blobs.get(keys.survivors('run1', 'score', 'g00000')))!.toString()).length, 4);

  // stats (with the between-stage conservation check), card and progress know the stage, in order
  const stats = computeStats(shards, WITH_SCORE);
  assert.equal(stats.conservation.ok, true, stats.conservation.problems.join('\n'));
  assert.deepEqual(Object.keys(stats.stages), ['ingest', 'unify', 'generate', 'execute', 'filter', 'dedup', 'score', 'backtranslate']);
  const card = datasetCard({ runId: 'run1', mode: 'full', samples: 0, codegen: 0, models: {}, stats, spec: WITH_SCORE, files: [] });
  assert.match(card, /\| score \| a difficulty score per program \(pass-through here\) \| 20 \| 20 /);
  const progress = summarize(shards, { seeds: 9, samples, mode: 'full' }, WITH_SCORE);
  assert.deepEqual(progress.stages.find((p) => p.stage === 'score'), { stage: 'score', done: 20, total: 20, kept: 20, rejected: 0, failed: 0 });
  db.close();
});

test('an extra stage declared in the spec is routed in the synthesized stack', () => {
  const layerDir = mkdtempSync(join(tmpdir(), 'layer-'));
  // A layer built by the Node the functions run (the stack refuses another major).
  writeFileSync(join(layerDir, 'manifest.json'), JSON.stringify({ node: `${NODE_MAJOR}.0.0` }));
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, outdir: mkdtempSync(join(tmpdir(), 'cdk-')) });
  const stack = new CacoStack(app, 'SpecTest', {
    projectRoot: fileURLToPath(new URL('../../', import.meta.url)),
    apiKeySecretName: 'caco/k',
    pyodideLayerDir: layerDir,
    spec: WITH_SCORE,
  });
  const t = Template.fromStack(stack).toJSON();
  const queueRoutes = (fn: string) => {
    const id = stack.getLogicalId(stack.stages[fn]!.fn.node.defaultChild as never);
    return JSON.stringify(t.Resources[id].Properties.Environment.Variables.CACO_QUEUES);
  };
  const filterQueue = stack.getLogicalId(stack.stages.filter!.queue.node.defaultChild as never);
  const btQueue = stack.getLogicalId(stack.stages.backtranslate!.queue.node.defaultChild as never);
  // the function hosting dedup and score may send score's messages (to its own queue) and backtranslate's
  const routes = queueRoutes('filter');
  assert.match(routes, new RegExp(`\\\\"score\\\\":\\\\"",\\{"Ref":"${filterQueue}"`));
  assert.match(routes, new RegExp(`\\\\"backtranslate\\\\":\\\\"",\\{"Ref":"${btQueue}"`));
});
