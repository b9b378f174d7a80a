// A run's LLM clients, one per role it calls, built the same way by every host: the endpoint
// resolved from the config (paper defaults < llm.default < llm.<role>), the cassette when the run
// records or replays, and the host's ports (locally a per-request response cache; on AWS none:
// responses are cached per shard, see lib/pipeline/registry.ts).
import { resolveEndpoint, rolesUsed, type RunConfig } from '../config.ts';
import { Cassette } from '../llm/cassette.ts';
import { LlmClient, type LlmPorts } from '../llm/client.ts';
import type { LlmEndpointConfig } from '../llm/config.ts';
import type { RoleClients } from '../pipeline/llm-adapter.ts';
import type { LlmRole } from '../stages/llm-port.ts';

export interface ClientOptions {
  /** Where the cassette is (a host may have fetched it to a local file); default: the config's path. */
  cassettePath?: string;
  /** API keys by env var name. */
  env: Record<string, string | undefined>;
  /** Host ports other than mode, cassette and env (e.g. `blobs` for the per-request cache). */
  ports?: Omit<LlmPorts, 'mode' | 'cassette' | 'env'>;
  /** Adjusts a role's resolved endpoint (a host's concurrency cap). */
  endpoint?: (role: LlmRole, resolved: LlmEndpointConfig) => LlmEndpointConfig;
}

export function llmClientsFor(cfg: RunConfig, o: ClientOptions): RoleClients {
  const mode = cfg.llm.cassette.mode;
  const cassette = mode === 'live' ? undefined : new Cassette(o.cassettePath ?? cfg.llm.cassette.path!);
  const clients: RoleClients = {};
  for (const role of rolesUsed(cfg)) {
    const resolved = resolveEndpoint(cfg, role);
    clients[role] = new LlmClient(role, o.endpoint ? o.endpoint(role, resolved) : resolved, { ...o.ports, mode, cassette, env: o.env });
  }
  return clients;
}
