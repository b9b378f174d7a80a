// Which stage functions exist on AWS and which queues each may send to (least privilege). It
// mirrors lib/pipeline/flow.ts and the runner: every stage may re-enqueue its own shard (checkpoint
// near the time limit); ingest starts unify, generate or assemble; a finished unify branch starts
// generate (full mode) or assemble; a finished generate branch starts assemble.
// `unify` shares the generate function and queue: both are LLM stages under one concurrency cap.
import type { StageName } from '../store/ports.ts';

export const STAGE_FUNCTIONS = ['ingest', 'generate', 'execute', 'filter', 'backtranslate', 'assemble'] as const;
export type StageFunctionName = (typeof STAGE_FUNCTIONS)[number];

/** The function (and queue) that handles each pipeline stage's messages. */
export const QUEUE_OF: Record<StageName, StageFunctionName> = {
  ingest: 'ingest',
  unify: 'generate',
  generate: 'generate',
  execute: 'execute',
  filter: 'filter',
  dedup: 'filter',
  backtranslate: 'backtranslate',
  assemble: 'assemble',
};

/** Stages whose messages each function sends. */
export const SENDS_TO: Record<StageFunctionName, StageName[]> = {
  ingest: ['unify', 'generate', 'assemble'],
  generate: ['unify', 'generate', 'execute'],
  execute: ['execute', 'filter'],
  filter: ['filter', 'dedup', 'backtranslate', 'generate', 'assemble'],
  backtranslate: ['backtranslate', 'assemble'],
  assemble: ['assemble'],
};

/** Functions that call an LLM (read the API key secret, use the LLM response cache). */
export const LLM_FUNCTIONS: StageFunctionName[] = ['generate', 'backtranslate'];
