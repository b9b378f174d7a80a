// Batch services for a host (caco run, a Lambda): the store it records rounds in, and per run and
// endpoint a provider: the OpenAI-compatible Batch API (key from the host's secrets, as the
// interactive client), or, when the run replays its cassette, the cassette. Cassette batch ids
// say so, so a poller reads them without the cassette.
import type { Cassette } from '../cassette.ts';
import type { BlobStore } from '../../store/ports.ts';
import { CassetteBatchProvider, isCassetteBatchId } from './cassette-provider.ts';
import { OpenAiBatchProvider, type BatchProvider } from './provider.ts';
import type { BatchEndpointRef, BatchServices } from './shard-batch.ts';
import type { BatchStore } from './store.ts';

const LOOPBACK = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\//;

export interface BatchHostOptions {
  store: BatchStore;
  blobs: BlobStore;
  /** API keys by variable name. */
  secrets: (name: string) => string | undefined;
  /** The run's cassette when the run replays it (its batches are answered from it), else null. */
  replayOf: (runId: string) => Promise<Cassette | null>;
  owner: string;
  staleMs: number;
  limits?: BatchServices['limits'];
}

export function batchServices(o: BatchHostOptions): BatchServices {
  const live = new Map<string, BatchProvider>();
  const cassette = new CassetteBatchProvider(o.blobs, o.replayOf);
  const liveFor = (e: BatchEndpointRef): BatchProvider => {
    const k = `${e.baseURL}\0${e.apiKeyEnv}`;
    let p = live.get(k);
    if (!p) {
      let apiKey = o.secrets(e.apiKeyEnv);
      if (!apiKey && LOOPBACK.test(e.baseURL + '/')) apiKey = 'none';
      if (!apiKey) throw new Error(`batch mode: environment variable ${e.apiKeyEnv} (apiKeyEnv) is not set; it must hold the API key for ${e.baseURL}`);
      live.set(k, (p = new OpenAiBatchProvider({ baseURL: e.baseURL, apiKey })));
    }
    return p;
  };
  return {
    store: o.store,
    owner: o.owner,
    staleMs: o.staleMs,
    limits: o.limits,
    provider(e: BatchEndpointRef, runId: string): BatchProvider {
      const replays = async () => (await o.replayOf(runId)) !== null;
      return {
        create: async (jsonl, endpoint, metadata) => ((await replays()) ? cassette : liveFor(e)).create(jsonl, endpoint, metadata),
        find: async (metadata, since) => ((await replays()) ? cassette : liveFor(e)).find(metadata, since),
        retrieve: (id) => (isCassetteBatchId(id) ? cassette : liveFor(e)).retrieve(id),
        fileText: (id) => (isCassetteBatchId(id) ? cassette : liveFor(e)).fileText(id),
      };
    },
  };
}
