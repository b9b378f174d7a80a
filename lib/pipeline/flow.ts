// How shards move between stages: which blob a stage reads, what it enqueues next, and which
// fan-in a stage completes. Two branches: `u` shards (unify: seeds -> verified Code CoTs) and `g`
// shards (generate: new Code CoTs -> back-translated samples). Shard ids carry the branch prefix.
import type { ShardMessage, StageName } from '../store/ports.ts';

export type Branch = 'unify' | 'generate';

export function branchOf(shard: string): Branch {
  if (shard.startsWith('u')) return 'unify';
  if (shard.startsWith('g')) return 'generate';
  throw new Error(`shard id without a branch prefix: ${shard}`);
}

export function shardId(branch: Branch, index: number): string {
  return `${branch === 'unify' ? 'u' : 'g'}${String(index).padStart(5, '0')}`;
}

export const keys = {
  config: (runId: string) => `runs/${runId}/config.json`,
  output: (runId: string, stage: StageName, shard: string) => `runs/${runId}/${stage}/${shard}.jsonl`,
  rejected: (runId: string, stage: StageName, shard: string) => `runs/${runId}/rejected/${stage}/${shard}.jsonl`,
  failed: (runId: string, stage: StageName, shard: string) => `runs/${runId}/failed/${stage}/${shard}.jsonl`,
  checkpoint: (runId: string, stage: StageName, shard: string) => `runs/${runId}/checkpoint/${stage}/${shard}.json`,
  pool: (runId: string) => `runs/${runId}/pool/input.jsonl`,
  dataset: (runId: string, file: string) => `runs/${runId}/dataset/${file}`,
};

/** The blob a stage reads for a shard (null: the stage makes its own input, like generate). */
export function inputKeyOf(runId: string, stage: StageName, shard: string): string | null {
  switch (stage) {
    case 'unify':
      return keys.output(runId, 'ingest', shard);
    case 'generate':
      return null;
    case 'execute':
      return keys.output(runId, branchOf(shard) === 'unify' ? 'unify' : 'generate', shard);
    case 'filter':
      return keys.output(runId, 'execute', shard);
    case 'backtranslate':
      return keys.output(runId, 'filter', shard);
    default:
      return null;
  }
}

/** The message(s) to send once a stage has written a shard's output. */
export function nextOf(msg: ShardMessage): ShardMessage[] {
  const to = (stage: StageName): ShardMessage[] => [{ runId: msg.runId, stage, shard: msg.shard }];
  switch (msg.stage) {
    case 'unify':
    case 'generate':
      return to('execute');
    case 'execute':
      return to('filter');
    case 'filter':
      return branchOf(msg.shard) === 'generate' ? to('backtranslate') : [];
    default:
      return [];
  }
}

/** The fan-in a finished shard counts toward, if this stage ends its branch. */
export function completesBranch(stage: StageName, shard: string): Branch | null {
  if (stage === 'filter' && branchOf(shard) === 'unify') return 'unify';
  if (stage === 'backtranslate') return 'generate';
  return null;
}
