// Cassettes: record real responses over HTTP, replay them with no network (byte-identical),
// a clear error for a request that was never recorded, and the fake server serving a cassette.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeServer } from '../helpers/fake-openai-server.ts';
import { LlmClient } from '../../lib/llm/client.ts';
import { Cassette, CassetteMissError } from '../../lib/llm/cassette.ts';
import { FileBlobStore } from '../../lib/store/file-blob-store.ts';

const ask = (content: string) => ({ messages: [{ role: 'system' as const, content: 'You write Python.' }, { role: 'user' as const, content }] });
const prompts = ['two apples', 'three pears', 'a train leaves at 9', 'sum of 1..100'];

async function recordCassette(path: string) {
  let n = 0;
  const s = await startFakeServer({ respond: () => `answer #${++n}` });
  const c = new LlmClient('backtranslate', { baseURL: s.baseURL, model: 'qwen3-8b', temperature: 0.7, top_p: 0.8 }, { mode: 'record', cassette: new Cassette(path) });
  const recorded = await Promise.all(prompts.map((p) => c.complete(ask(p))));
  c.close();
  await s.close();
  return recorded;
}

test('record then replay with no server: the same answers, byte-identical across replays', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'cas-')), 'demo.jsonl');
  const recorded = await recordCassette(path);
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  assert.equal(lines.length, prompts.length);
  assert.deepEqual(Object.keys(JSON.parse(lines[0])).sort(), ['key', 'request', 'response', 'stage']);

  const replay = async () => {
    // The server is closed: any HTTP attempt would fail. The base URL is the recorded one.
    const baseURL = JSON.parse(lines[0]).request.baseURL;
    const c = new LlmClient('backtranslate', { baseURL, model: 'qwen3-8b', temperature: 0.7, top_p: 0.8 }, { mode: 'replay', cassette: new Cassette(path) });
    const out = [];
    for (const p of prompts) out.push(await c.complete(ask(p)));
    c.close();
    return out;
  };
  const a = await replay();
  const b = await replay();
  assert.deepEqual(a.map((r) => r.content), recorded.map((r) => r.content));
  assert.ok(a.every((r) => r.source === 'cassette' && r.cached));
  assert.equal(JSON.stringify(a), JSON.stringify(b));
});

test('a request missing from the cassette is a clear error naming the stage and the difference', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'cas-')), 'demo.jsonl');
  await recordCassette(path);
  const baseURL = JSON.parse(readFileSync(path, 'utf8').split('\n')[0]).request.baseURL;
  const c = new LlmClient('backtranslate', { baseURL, model: 'qwen3-8b', temperature: 0.7, top_p: 0.8 }, { mode: 'replay', cassette: new Cassette(path) });
  await assert.rejects(c.complete(ask('two apples and a pear')), (e: Error) => {
    assert.ok(e instanceof CassetteMissError);
    assert.match(e.message, /'backtranslate' request/);
    assert.match(e.message, /messages\[1\]\.content differs at char 10/);
    return true;
  });
  const hot = new LlmClient('backtranslate', { baseURL, model: 'qwen3-8b', temperature: 1.0, top_p: 0.8 }, { mode: 'replay', cassette: new Cassette(path) });
  await assert.rejects(hot.complete(ask('two apples')), /temperature: recorded 0.7, requested 1/);
  const empty = new LlmClient('x', { baseURL, model: 'm' }, { mode: 'replay', cassette: new Cassette(join(tmpdir(), 'no-such-cassette.jsonl')) });
  await assert.rejects(empty.complete(ask('a')), /cassette is empty/);
});

test('record mode also records answers that came from the cache', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cas-'));
  const blobs = new FileBlobStore(join(dir, 'blobs'));
  const s = await startFakeServer();
  t.after(() => s.close());
  const cfg = { baseURL: s.baseURL, model: 'm' };
  await new LlmClient('unify', cfg, { blobs }).complete(ask('cached one'));
  const cas = new Cassette(join(dir, 'c.jsonl'));
  const r = await new LlmClient('unify', cfg, { blobs, mode: 'record', cassette: cas }).complete(ask('cached one'));
  assert.equal(r.source, 'cache');
  assert.equal(s.stats.total, 1);
  assert.equal(new Cassette(join(dir, 'c.jsonl')).size, 1);
});

test('the fake server serves a cassette to a live client through the SDK', async (t) => {
  const path = join(mkdtempSync(join(tmpdir(), 'cas-')), 'demo.jsonl');
  const recorded = await recordCassette(path);
  const s = await startFakeServer({ cassette: path });
  t.after(() => s.close());
  // A different base URL (new port) but the same body: the server matches on the body.
  const c = new LlmClient('backtranslate', { baseURL: s.baseURL, model: 'qwen3-8b', temperature: 0.7, top_p: 0.8 });
  const live = await Promise.all(prompts.map((p) => c.complete(ask(p))));
  assert.deepEqual(live.map((r) => r.content), recorded.map((r) => r.content));
  await assert.rejects(c.complete(ask('never recorded')), /no recorded response/);
  c.close();
});
