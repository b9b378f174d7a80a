// The per-shard response cache (AWS): what a shard bought is written as a few part objects and
// never bought again when the shard is retried; one object per flush, not per request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlmClient } from '../../lib/llm/client.ts';
import { startFakeServer } from '../helpers/fake-openai-server.ts';
import { ShardResponseCache } from '../../lib/llm/shard-cache.ts';
import { FileBlobStore } from '../../lib/store/file-blob-store.ts';

const prefix = 'runs/r1/llm-cache/backtranslate/g00000/';
const ask = (client: LlmClient, cache: ShardResponseCache, i: number) =>
  client.complete({ messages: [{ role: 'user', content: `question ${i}` }], cache });

test('a retried shard reads its parts once and buys nothing twice; one object per flush', async () => {
  const server = await startFakeServer({ respond: (req) => `answer to ${req.body.messages.at(-1).content}` });
  try {
    const blobs = new FileBlobStore(mkdtempSync(join(tmpdir(), 'shard-cache-')));
    const client = new LlmClient('reverse', { baseURL: server.baseURL, model: 'm' });
    const first = await ShardResponseCache.open(blobs, prefix);
    const answers = await Promise.all([0, 1, 2, 3, 4].map((i) => ask(client, first, i)));
    assert.equal(server.stats.served, 5);
    await first.flush();
    await first.flush(); // nothing buffered: no empty part
    assert.equal((await blobs.list(prefix)).length, 1, 'five responses, one object');

    const retry = await ShardResponseCache.open(blobs, prefix);
    assert.equal(retry.size, 5);
    const again = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => ask(client, retry, i)));
    assert.equal(server.stats.served, 6, 'only the new question is bought');
    assert.deepEqual(again.slice(0, 5).map((r) => r.content), answers.map((r) => r.content));
    assert.ok(again.slice(0, 5).every((r) => r.cached && r.source === 'cache'));
    await retry.flush();
    assert.equal((await blobs.list(prefix)).length, 2);
    assert.equal((await ShardResponseCache.open(blobs, prefix)).size, 6);
  } finally {
    await server.close();
  }
});

test('buffered responses are flushed by the timer; unflushed ones are lost with a crash', async () => {
  const server = await startFakeServer({ respond: () => 'x' });
  try {
    const blobs = new FileBlobStore(mkdtempSync(join(tmpdir(), 'shard-cache-')));
    const client = new LlmClient('solve', { baseURL: server.baseURL, model: 'm' });
    const timed = await ShardResponseCache.open(blobs, prefix, 50);
    await ask(client, timed, 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await blobs.list(prefix)).length, 1, 'the timer wrote the part');
    const crashed = await ShardResponseCache.open(blobs, prefix, 60_000);
    await ask(client, crashed, 2); // never flushed: the process "dies" here
    assert.equal((await ShardResponseCache.open(blobs, prefix)).size, 1);
  } finally {
    await server.close();
  }
});
