// bench:batch — Lambda time of the LLM functions, interactive vs batch mode, on the emulated stack.
// The demo runs twice against the fake OpenAI-compatible server: interactively, where every
// completion takes `--latency` ms (a model's latency, scaled down), and in batch mode, where the
// shards submit batches and end, and the batch poller (every 100 ms here, every minute deployed)
// resumes them. Prints GB-s and invocations per function from each run's cost ledger, the poller's
// ticks, and the ratio batch/interactive for the LLM functions (the baseline is measured in the
// same run). What it does not cover: a real model's latency distribution, the poller's own time
// (it serves all runs and is not booked to one; ~1 query per tick when idle).
//
//   npx tsx tests/bench/batch.bench.ts [--latency 500]
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../../lib/local/run-local.ts';
import { DEMO_CONFIG, DEMO_INPUT } from '../../lib/cli/demo.ts';
import { CostLedger } from '../../lib/aws/cost-ledger.ts';
import { DynamoStateStore } from '../../lib/aws/dynamo-state-store.ts';
import { resolveTarget, submitRun } from '../../lib/aws/remote.ts';
import { demoRule } from '../../examples/demo/responder.ts';
import { startAwsEmulators } from '../helpers/aws-emulators.ts';
import { captureOutput, createEmulatedStack, driveStack } from '../helpers/emulated-stack.ts';
import { startFakeServer } from '../helpers/fake-openai-server.ts';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'CacoBench';

const { values: args } = parseArgs({ options: { latency: { type: 'string', default: '500' } } });
const latencyMs = Number(args.latency);
const work = mkdtempSync(join(tmpdir(), 'caco-bench-batch-'));
const demo = loadConfigFile(DEMO_CONFIG) as Record<string, any>;
const emu = await startAwsEmulators();
const server = await startFakeServer({ respond: demoRule({ seedBase: demo.llm.generate.seed }), latencyMs });
const LLM_FUNCTIONS = ['generate', 'backtranslate'];

async function measure(name: string, batch: boolean) {
  const c = structuredClone(demo);
  c.llm.default.baseURL = server.baseURL;
  c.llm.cassette = { mode: 'live' };
  if (batch) c.llm.default.batch = true;
  const file = join(work, `${name}.json`);
  writeFileSync(file, JSON.stringify(c));
  const stack = await createEmulatedStack(emu, name, { visibilityTimeoutSeconds: 60, maxReceiveCount: 4 });
  const target = await resolveTarget({ bucket: stack.bucket, table: stack.table, clientOptions: emu.clientOptions });
  const { result } = await captureOutput(async () => {
    const submitted = await submitRun(target, DEMO_INPUT, file);
    const drive = await driveStack(emu, stack, { timeoutMs: 600_000, batchPollMs: batch ? 100 : undefined });
    return { submitted, drive };
  });
  await stack.close();
  const runId = result.submitted.runId;
  const run = await new DynamoStateStore(emu.clients.doc, stack.table).getRun(runId);
  if (run?.status !== 'done') throw new Error(`${name}: the run did not finish (${run?.status})`);
  const ledger = await new CostLedger(emu.clients.doc, stack.table).list(runId);
  const rows = Object.fromEntries(
    ledger.map((u) => [u.function, { invocations: u.invocations, gbs: (u.durationMs / 1000) * (u.memoryMb / 1024) }]),
  ) as Record<string, { invocations: number; gbs: number }>;
  return { rows, wallMs: result.drive.wallMs, polls: result.drive.batchPolls };
}

try {
  const interactive = await measure('interactive', false);
  const batch = await measure('batch', true);
  const fns = [...new Set([...Object.keys(interactive.rows), ...Object.keys(batch.rows)])];
  console.log(`demo on the emulated stack, completion latency ${latencyMs} ms (interactive), batch poller every 100 ms`);
  console.log('function        interactive GB-s (inv)     batch GB-s (inv)');
  for (const f of fns) {
    const i = interactive.rows[f];
    const b = batch.rows[f];
    console.log(`${f.padEnd(14)} ${(i ? `${i.gbs.toFixed(2)} (${i.invocations})` : '-').padStart(20)} ${(b ? `${b.gbs.toFixed(2)} (${b.invocations})` : '-').padStart(20)}`);
  }
  const llm = (r: typeof interactive) => LLM_FUNCTIONS.reduce((n, f) => n + (r.rows[f]?.gbs ?? 0), 0);
  console.log(`LLM functions: interactive ${llm(interactive).toFixed(2)} GB-s, batch ${llm(batch).toFixed(2)} GB-s, ratio ${(llm(batch) / llm(interactive)).toFixed(2)}`);
  console.log(`wall: interactive ${(interactive.wallMs / 1000).toFixed(1)} s, batch ${(batch.wallMs / 1000).toFixed(1)} s (${batch.polls} poller ticks)`);
} finally {
  await server.close();
  await emu.stop();
}
