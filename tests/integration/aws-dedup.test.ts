// DynamoDedupIndex against dynalite: the DedupIndex contract (one writer per run, shards in order),
// and the one default threshold it shares with the run config and the SQLite index.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTable, startAwsEmulators, type AwsEmulators } from '../helpers/aws-emulators.ts';
import { DynamoDedupIndex } from '../../lib/aws/dynamo-dedup-index.ts';
import { SqliteDedupIndex } from '../../lib/store/sqlite-dedup-index.ts';
import { DedupConfigSchema } from '../../lib/codecot/filter-config.ts';
import { dedupIndexContract, randomSignature, variant } from '../contract/dedup-index.contract.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let emu: AwsEmulators;
before(async () => {
  emu = await startAwsEmulators();
  await createTable(emu, 'caco-dedup');
});
after(async () => emu?.stop());

// The shared DedupIndex contract (threshold 0.85, 16 bands), against dynalite.
dedupIndexContract('DynamoDedupIndex', async () => ({
  index: new DynamoDedupIndex(emu.clients.doc, 'caco-dedup', { threshold: 0.85, bands: 16 }),
}));

test('without options both indexes use the run config default threshold (one default, not 0.8 here and 0.85 there)', async () => {
  assert.equal(DedupConfigSchema.parse({}).threshold, 0.85);
  const base = randomSignature(77);
  // 24 of 128 values differ: J ~ 0.81, a duplicate at 0.8 but not at 0.85.
  const claims = [{ id: 'a', hash: null, signature: base }, { id: 'b', hash: null, signature: variant(base, 24, 9, 0) }];
  const sqlite = new SqliteDedupIndex(join(mkdtempSync(join(tmpdir(), 'dd-')), 'd.sqlite'));
  const want = [{ kind: 'kept' }, { kind: 'kept' }];
  assert.deepEqual(await sqlite.claim('t', claims), want);
  assert.deepEqual(await new DynamoDedupIndex(emu.clients.doc, 'caco-dedup').claim('t-default', claims), want);
  sqlite.close();
});
