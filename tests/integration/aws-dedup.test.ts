// DynamoDedupIndex against dynalite: exact claims and near-duplicate claims under racing shards.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTable, startAwsEmulators, type AwsEmulators } from '../helpers/aws-emulators.ts';
import { DynamoDedupIndex, estimatedJaccard } from '../../lib/aws/dynamo-dedup-index.ts';
import { dedupIndexContract } from '../contract/dedup-index.contract.ts';

let emu: AwsEmulators;
before(async () => {
  emu = await startAwsEmulators();
  await createTable(emu, 'caco-dedup');
});
after(async () => emu?.stop());

/** A deterministic pseudo-random signature; `variant` changes `changed` of its 64 values. */
function signature(seed: number, changed = 0, variant = 0): Uint32Array {
  const sig = new Uint32Array(64);
  let x = seed * 2654435761;
  for (let i = 0; i < sig.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    sig[i] = x;
  }
  for (let i = 0; i < changed; i++) sig[(i * 7 + variant) % 64] = (variant * 7919 + i * 104729 + 1) >>> 0;
  return sig;
}

test('claimExact: the first id wins, retries and racers get the winner', async () => {
  const idx = new DynamoDedupIndex(emu.clients.doc, 'caco-dedup');
  const racers = await Promise.all(['r1', 'r2', 'r3', 'r4'].map((id) => idx.claimExact('run1', 'h1', id)));
  const winner = racers[0]!;
  assert.ok(['r1', 'r2', 'r3', 'r4'].includes(winner));
  assert.deepEqual(new Set(racers), new Set([winner]));
  assert.equal(await idx.claimExact('run1', 'h1', winner), winner, 'a retry by the winner gets itself');
  assert.equal(await idx.claimExact('run1', 'h2', 'r2'), 'r2');
  assert.equal(await idx.claimExact('run2', 'h1', 'r9'), 'r9', 'runs are separate');
});

test('claimNear: new, near duplicate, distinct, and retries give the same answer', async () => {
  const idx = new DynamoDedupIndex(emu.clients.doc, 'caco-dedup', { threshold: 0.8, bands: 16 });
  const a = signature(1);
  const nearA = signature(1, 4, 1); // 60/64 equal
  assert.ok(estimatedJaccard(a, nearA) >= 0.8);
  assert.equal(await idx.claimNear('n1', 'a', a), null);
  assert.equal(await idx.claimNear('n1', 'b', nearA), 'a');
  assert.equal(await idx.claimNear('n1', 'c', signature(2)), null);
  // below the threshold although it shares bands with a: kept
  const farA = signature(1, 20, 3); // 44/64 equal
  assert.ok(estimatedJaccard(a, farA) < 0.8);
  assert.equal(await idx.claimNear('n1', 'd', farA), null);
  // retries
  assert.equal(await idx.claimNear('n1', 'a', a), null);
  assert.equal(await idx.claimNear('n1', 'b', nearA), 'a');
  assert.equal(await idx.claimNear('n2', 'b', nearA), null, 'runs are separate');
});

test('claimNear: racing near duplicates -> exactly one survivor per group, also with duplicated calls', async () => {
  const idx = new DynamoDedupIndex(emu.clients.doc, 'caco-dedup', { threshold: 0.8, bands: 16 });
  const groups = 3;
  const perGroup = 4;
  const calls: Array<{ id: string; group: number; p: Promise<string | null> }> = [];
  for (let v = 0; v < perGroup; v++) {
    for (let g = 0; g < groups; g++) {
      const id = `g${g}-v${v}`;
      const sig = signature(100 + g, 3, v); // variants of one base: all pairwise >= 58/64 equal
      calls.push({ id, group: g, p: idx.claimNear('race', id, sig) });
      calls.push({ id, group: g, p: idx.claimNear('race', id, sig) }); // the same message delivered twice
    }
  }
  const results = await Promise.all(calls.map((c) => c.p));
  const byId = new Map<string, (string | null)[]>();
  calls.forEach((c, i) => byId.set(c.id, [...(byId.get(c.id) ?? []), results[i]!]));
  for (const [id, answers] of byId) assert.equal(answers[0], answers[1], `${id}: both deliveries agree`);
  for (let g = 0; g < groups; g++) {
    const ids = [...byId.keys()].filter((id) => id.startsWith(`g${g}-`));
    const survivors = ids.filter((id) => byId.get(id)![0] === null);
    assert.equal(survivors.length, 1, `group ${g}: one survivor, got ${survivors.join(',')}`);
    for (const id of ids) {
      const dupOf = byId.get(id)![0];
      if (dupOf !== null) assert.ok(dupOf.startsWith(`g${g}-`), `${id} is a duplicate of its own group`);
    }
  }
});

test('claimNear: a crashed holder does not block forever (lease)', async () => {
  const idx = new DynamoDedupIndex(emu.clients.doc, 'caco-dedup', { leaseMs: 300, bands: 16 });
  const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
  const { keys } = await import('../../lib/aws/table.ts');
  const { bandKeys } = await import('../../lib/dedup/minhash.ts');
  const sig = signature(7);
  const bucket = keys.nearBucket('lease', 0, String(bandKeys(sig, 16)[0]));
  await emu.clients.doc.send(
    new UpdateCommand({
      TableName: 'caco-dedup',
      Key: bucket,
      UpdateExpression: 'SET lockOwner = :o, lockUntil = :u',
      ExpressionAttributeValues: { ':o': 'crashed', ':u': Date.now() + 300 },
    }),
  );
  const t0 = Date.now();
  assert.equal(await idx.claimNear('lease', 'x', sig), null);
  assert.ok(Date.now() - t0 >= 250, 'waited for the lease');
});

// The shared DedupIndex contract (threshold 0.85, 16 bands), against dynalite.
dedupIndexContract('DynamoDedupIndex', async () => ({
  index: new DynamoDedupIndex(emu.clients.doc, 'caco-dedup', { threshold: 0.85, bands: 16 }),
}));
