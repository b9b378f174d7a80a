// Records the offline demo's cassette: serves the authored demo replies (responder.ts) from the
// fake OpenAI-compatible server on the port the demo config names, runs the demo in `record`
// mode through the real client, and writes examples/demo/cassette.jsonl. Re-run it after a
// prompt or sampling setting changes (a replay miss names the difference).
//   npx tsx examples/demo/record-cassette.ts
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeServer } from '../../tests/helpers/fake-openai-server.ts';
import { runLocal } from '../../lib/local/run-local.ts';
import { demoRule } from './responder.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const config = JSON.parse(readFileSync(join(here, 'run.json'), 'utf8'));
const port = Number(new URL(config.llm.default.baseURL).port);
const target = join(here, 'cassette.jsonl');
const fresh = join(here, 'cassette.recording.jsonl');
rmSync(fresh, { force: true });

const server = await startFakeServer({ port, respond: demoRule({ seedBase: config.llm.generate.seed }) });
const out = mkdtempSync(join(tmpdir(), 'caco-demo-record-'));
try {
  const r = await runLocal({
    input: join(here, '..', 'seeds', 'gsm8k-demo.jsonl'),
    config: { ...config, llm: { ...config.llm, cassette: { mode: 'record', path: fresh } } },
    out,
    progress: 'lines',
  });
  if (r.status !== 'done') throw new Error(`recording run ${r.status}: ${JSON.stringify(r.deadLetters)}`);
  renameSync(fresh, target);
  console.log(`recorded ${server.stats.served} responses to ${target}; ${r.stats?.samples} samples`);
} finally {
  await server.close();
  rmSync(out, { recursive: true, force: true });
}
