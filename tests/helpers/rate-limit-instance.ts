// One "Lambda instance" for tests/integration/llm-rate-limit-store.test.ts, in a process of its
// own (its own event loop, DynamoDB client, and for each phase a fresh LlmClient and lease),
// forked by `forkInstances`. It warms its HTTP path up on a throwaway server, says ready, and on
// each phase message sends that phase's calls and reports.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { LlmClient } from '../../lib/llm/client.ts';
import { makeClients, type ClientOptions } from '../../lib/aws/clients.ts';
import { DynamoRateLimitStore } from '../../lib/aws/dynamo-rate-limit-store.ts';
import type { LlmEndpointConfigInput } from '../../lib/llm/config.ts';
import type { LimiterStats } from '../../lib/llm/global-limiter.ts';

export interface InstanceConfig {
  id: number;
  warmURL: string;
  dynamo: ClientOptions;
  table: string;
}

export interface Phase {
  endpoint: LlmEndpointConfigInput;
  windowMs: number;
  guardMs: number;
  calls: number;
}

export interface InstanceReport {
  id: number;
  writes: number;
  stats: LimiterStats;
  lease: number;
  /** Calls this instance sent, by the window its ticket was for (the client-side count). */
  ticketsPerWindow: Record<string, number>;
  /** When each call's HTTP request left (epoch ms), by its prompt: with the server's arrival time,
   * the time a call spent between the client and the server. */
  sentAt: Record<string, number>;
}

/** Forks one process per config; resolves once every one is ready; `run(phase)` runs a phase in all at once. */
export async function forkInstances(configs: InstanceConfig[]): Promise<{ run(phase: Phase): Promise<InstanceReport[]>; kill(): void }> {
  const children: ChildProcess[] = configs.map((c) =>
    fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, CACO_TEST_INSTANCE: JSON.stringify(c) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  await Promise.all(children.map((ch) => once(ch, 'message')));
  return {
    async run(phase) {
      const reports = children.map((ch) => once(ch, 'message').then(([m]) => m as InstanceReport));
      for (const ch of children) ch.send(phase);
      return Promise.all(reports);
    },
    kill() {
      for (const ch of children) if (ch.exitCode === null) ch.kill('SIGKILL');
    },
  };
}

async function main(c: InstanceConfig) {
  const warm = new LlmClient('warm', { baseURL: c.warmURL, model: 'warm' });
  await warm.complete({ messages: [{ role: 'user', content: `warm ${c.id}` }] });
  warm.close();
  const aws = makeClients(c.dynamo);
  const store = new DynamoRateLimitStore(aws.doc, c.table);
  process.on('message', (phase: Phase) => void runPhase(c, store, phase));
  process.on('disconnect', () => process.exit(0)); // the test is over (or died)
  process.send!('ready');
}

// The openai SDK calls the global fetch: note when each completion request leaves.
const sentAt: Record<string, number> = {};
const realFetch = globalThis.fetch;
globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
  if (typeof init?.body === 'string' && init.body.includes('"messages"')) sentAt[JSON.parse(init.body).messages[0].content] = Date.now();
  return realFetch(input, init);
}) as typeof fetch;

async function runPhase(c: InstanceConfig, store: DynamoRateLimitStore, phase: Phase) {
  for (const k of Object.keys(sentAt)) delete sentAt[k];
  // Open the connections to this phase's server first (keep-alive), as a warm instance has them.
  const origin = new URL(String(phase.endpoint.baseURL)).origin;
  await Promise.all(Array.from({ length: phase.endpoint.concurrency ?? 8 }, () => realFetch(`${origin}/health`).then((r) => r.arrayBuffer()).catch(() => null)));
  const client = new LlmClient('generate', phase.endpoint, { rateLimits: store, rateWindowMs: phase.windowMs, rateGuardMs: phase.guardMs });
  const writesBefore = store.writes;
  const ticketsPerWindow: Record<string, number> = {};
  const limiter = client.limiter!;
  const acquire = limiter.acquire.bind(limiter);
  limiter.acquire = async (tokens) => {
    const t = await acquire(tokens);
    ticketsPerWindow[t.window] = (ticketsPerWindow[t.window] ?? 0) + 1;
    return t;
  };
  await Promise.all(Array.from({ length: phase.calls }, (_, j) => client.complete({ messages: [{ role: 'user', content: `instance ${c.id} call ${j}` }] })));
  client.close();
  const report: InstanceReport = { id: c.id, writes: store.writes - writesBefore, stats: limiter.stats, lease: limiter.lease, ticketsPerWindow, sentAt };
  process.send!(report);
}

if (process.env.CACO_TEST_INSTANCE && process.send) {
  main(JSON.parse(process.env.CACO_TEST_INSTANCE) as InstanceConfig).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
