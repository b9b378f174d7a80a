// Batch services for a host: the store it records rounds in, and one provider per endpoint: the
// OpenAI-compatible Batch API (key from the environment, as the interactive client), or the
// cassette when the run replays.
import type { Cassette } from '../cassette.ts';
import { CassetteBatchProvider } from './cassette-provider.ts';
import { OpenAiBatchProvider, type BatchProvider } from './provider.ts';
import type { BatchEndpointRef, BatchServices } from './shard-batch.ts';
import type { BatchStore } from './store.ts';

const LOOPBACK = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\//;

export interface BatchHostOptions {
  store: BatchStore;
  /** API keys by variable name. */
  secrets: (name: string) => string | undefined;
  /** Set when the run replays its cassette: every batch is answered from it. */
  replay?: Cassette;
  owner: string;
  staleMs: number;
  limits?: BatchServices['limits'];
}

export function batchServices(o: BatchHostOptions): BatchServices {
  const providers = new Map<string, BatchProvider>();
  const replay = o.replay ? new CassetteBatchProvider(o.replay) : null;
  return {
    store: o.store,
    owner: o.owner,
    staleMs: o.staleMs,
    limits: o.limits,
    provider(e: BatchEndpointRef): BatchProvider {
      if (replay) return replay;
      const k = `${e.baseURL}\0${e.apiKeyEnv}`;
      let p = providers.get(k);
      if (!p) {
        let apiKey = o.secrets(e.apiKeyEnv);
        if (!apiKey && LOOPBACK.test(e.baseURL + '/')) apiKey = 'none';
        if (!apiKey) throw new Error(`batch mode: environment variable ${e.apiKeyEnv} (apiKeyEnv) is not set; it must hold the API key for ${e.baseURL}`);
        providers.set(k, (p = new OpenAiBatchProvider({ baseURL: e.baseURL, apiKey })));
      }
      return p;
    },
  };
}
