// Two identical seeds, tried as a new user would: the model writes the same program for both,
// dedup keeps one, and everything downstream of "the verified Code CoTs" sees one: the CodeGen
// export has one row and the few-shot prompt can show only one example. (Before lib/pipeline/keys.ts
// both read filter's output, before deduplication, and carried both copies.)
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLocal } from '../../lib/local/run-local.ts';
import { DEMO_INPUT } from '../../lib/cli/demo.ts';
import { startFakeServer, type FakeRequest } from '../helpers/fake-openai-server.ts';
import { UNIFY } from '../../examples/demo/responses.ts';
import { readConfig } from '../helpers/dataset.ts';

const servers: { close(): Promise<void> }[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

const PROGRAM_START = 'input = {\n    "clips_april": 48,';

for (const shardSize of [1, 10]) {
  test(`identical seeds (shard size ${shardSize}) give one CodeGen row and one few-shot candidate`, { timeout: 180_000 }, async () => {
    const fewshotPrompts: string[] = [];
    const server = await startFakeServer({
      respond: (req: FakeRequest) => {
        const user = String(req.body.messages?.at(-1)?.content ?? '');
        if (user.includes('Natalia sold clips')) return UNIFY[0].reply.content; // unify: the same program twice
        fewshotPrompts.push(user);
        return 'No program this time.'; // generate: rejected (no_code_block), the run ends there
      },
    });
    servers.push(server);
    const dir = mkdtempSync(join(tmpdir(), 'caco-dupseeds-'));
    const seed = JSON.parse(readFileSync(DEMO_INPUT, 'utf8').split('\n')[0]);
    const input = join(dir, 'seeds.jsonl');
    writeFileSync(input, [{ ...seed, id: 'copy-a' }, { ...seed, id: 'copy-b' }].map((s) => JSON.stringify(s) + '\n').join(''));
    const config = {
      mode: 'full',
      shardSize,
      generate: { samples: 2, k: 3 },
      execute: { rerun: false },
      sandbox: { workers: 1, timeoutMs: 5000 },
      llm: { default: { baseURL: server.baseURL, model: 'm' } },
    };
    const r = await runLocal({ input, config, out: join(dir, 'out'), progress: 'quiet' });
    assert.equal(r.status, 'done', JSON.stringify(r.deadLetters));

    // Both copies pass the rules and the gold check; dedup rejects the later one.
    assert.equal(r.stats!.stages.filter!.kept, 2);
    assert.equal(r.stats!.stages.dedup!.kept, 1);
    assert.deepEqual(r.stats!.stages.dedup!.rejected, { duplicate: 1 });

    const codegen = await readConfig(r.datasetDir!, 'codegen');
    assert.equal(codegen.length, 1);
    assert.equal(r.stats!.codegen, 1);
    assert.ok(codegen[0].messages[1].content.startsWith(PROGRAM_START));

    // Every few-shot prompt (k=3) shows the program exactly once: the pool holds one candidate.
    assert.equal(fewshotPrompts.length, 2);
    for (const p of fewshotPrompts) assert.equal(p.split(PROGRAM_START).length - 1, 1, p);
  });
}
