// The batch store's contract on both backends (SQLite locally, DynamoDB on dynalite): a round is
// claimed once, a live holder keeps it, a stale or dead holder's claim is taken over, state moves
// only from the states a writer expects, and the open rounds are listed (DynamoDB: through the
// open-run index, which empties once a run has nothing open).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTable, startAwsEmulators, type AwsEmulators } from '../helpers/aws-emulators.ts';
import { DynamoBatchStore } from '../../lib/aws/dynamo-batch-store.ts';
import { SqliteBatchStore } from '../../lib/llm/batch/sqlite-store.ts';
import { openStateDb } from '../../lib/store/sqlite-state.ts';
import type { BatchStore, RoundKey } from '../../lib/llm/batch/store.ts';

let emu: AwsEmulators;
before(async () => {
  emu = await startAwsEmulators();
  await createTable(emu, 'batch-store');
});
after(async () => {
  await emu?.stop();
});

const backends: [string, () => BatchStore][] = [
  ['sqlite', () => new SqliteBatchStore(openStateDb(join(mkdtempSync(join(tmpdir(), 'bs-')), 'state.db')))],
  ['dynamodb', () => new DynamoBatchStore(emu.clients.doc, 'batch-store')],
];

for (const [name, make] of backends) {
  test(`${name}: claim, takeover, transitions and open rounds`, async () => {
    const store = make();
    const run = `run-${name}-${Date.now()}`;
    const k: RoundKey = { runId: run, stage: 'unify', shard: 'u00000', round: 1 };
    const a = await store.claim(k, 'a#1', 1_000, 60_000);
    assert.equal(a?.state, 'claimed');
    assert.equal(await store.claim(k, 'b#1', 2_000, 60_000), null, 'a live claim is kept');
    assert.equal(await store.claim(k, 'b#1', 2_000, 60_000, (h) => h === 'x#9'), null, 'takeOver is asked about the holder');
    const b = await store.claim(k, 'b#1', 2_000, 60_000, (h) => h === 'a#1');
    assert.equal(b?.owner, 'b#1', 'a dead holder is taken over');
    const c = await store.claim(k, 'c#1', 70_000, 60_000);
    assert.equal(c?.owner, 'c#1', 'a stale claim is taken over');

    const submitted = { ...c!, planned: 1, state: 'submitted' as const, parts: [{ part: 0, batchId: 'batch_1', baseURL: 'http://x/v1', apiKeyEnv: 'K', requests: 3, status: 'in_progress' as const, counts: { total: 3, completed: 0, failed: 0 }, createdAt: 1 }] };
    assert.equal(await store.transition(submitted, ['claimed']), true);
    assert.equal(await store.claim(k, 'd#1', 999_999, 1), null, 'a submitted round is never claimed again');
    assert.equal(await store.transition({ ...submitted, state: 'ended' }, ['claimed']), false, 'only from the expected state');
    const k2 = { ...k, shard: 'u00001' };
    await store.claim(k2, 'a#2', 1_000, 60_000);
    assert.deepEqual((await store.listOpen(run)).map((r) => `${r.shard}:${r.state}`), ['u00000:submitted', 'u00001:claimed']);
    assert.equal((await store.rounds(run, 'unify', 'u00000'))[0]!.parts[0]!.batchId, 'batch_1');

    assert.equal(await store.transition({ ...submitted, state: 'collected' }, ['submitted', 'ended']), true);
    assert.equal(await store.transition({ ...(await store.rounds(run, 'unify', 'u00001'))[0]!, state: 'collected' }, ['claimed']), true);
    assert.deepEqual(await store.listOpen(run), []);
    assert.ok(!(await store.listOpen()).some((r) => r.runId === run), 'nothing of the run is listed as open');
    // A new round of the run lists it again (DynamoDB: the index item comes back with the claim).
    await store.claim({ ...k, round: 2 }, 'a#3', 3_000, 60_000);
    assert.deepEqual((await store.listOpen()).filter((r) => r.runId === run).map((r) => r.round), [2]);
  });
}
