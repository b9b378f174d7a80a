// The Caco pipeline as data: which stages exist, in which order each branch runs them, which one
// is ordered (dedup) and where a branch ends. Read top to bottom, this is the method:
//
//   ingest -> unify -> execute -> filter -> dedup                      (seeds -> verified Code CoTs)
//             generate -> execute -> filter -> dedup -> backtranslate  (new programs -> samples)
//   -> assemble (fan-in: the dataset, the CodeGen set, stats and card)
//
// Everything that depends on the shape derives from this one object: which blob a stage reads and
// what it sends next (lib/pipeline/flow.ts), the runner's fan-in, the local scheduler's order,
// progress totals, the card's and summary's stage order and text, the AWS queues each function
// may send to (lib/infra/routing.ts) and the blob keys of "the verified Code CoTs" and "the
// samples" (lib/pipeline/keys.ts). A new stage is one entry in `stages` and one name in a branch
// (see `withStage`), plus its implementation.
import type { LlmRole } from '../stages/llm-port.ts';

export type Branch = 'unify' | 'generate';
export const BRANCHES: readonly Branch[] = ['unify', 'generate'];

export interface StageDecl {
  name: string;
  /** One line for the dataset card and the docs. */
  text: string;
  /**
   * `source`: started by the input itself, not by a message (ingest); `shard`: one message per
   * shard; `fanIn`: one message per run, once every branch has finished (assemble).
   */
  kind: 'source' | 'shard' | 'fanIn';
  /** The AWS function (and its queue) that runs this stage; several stages may share one. */
  host: string;
  /**
   * The stage's shards start only after the previous stage has finished every shard of the branch
   * and the stage's branch-wide tasks ran (run-wide dedup: lib/pipeline/runner.ts, BarrierImpl).
   */
  barrier?: boolean;
  /** The stage makes its own input (generate: sample indices) instead of reading a blob. */
  makesInput?: boolean;
  /** LLM roles the stage calls: its host needs the API key and the response cache. */
  llmRoles?: LlmRole[];
  /** The stage runs programs: its host carries the sandbox layer. */
  sandbox?: boolean;
  /** Shards in flight locally: `llm` and `sandbox` follow config.local, `one` is a single shard. */
  local: 'llm' | 'sandbox' | 'one';
  /** The run config section the stage reads (documentation; the registry hands it that slice). */
  config?: string;
}

export interface BranchDecl {
  /** Shard ids of this branch start with it (u00003, g00012). */
  prefix: string;
  /** The shard stages of the branch, in order; the last one ends the branch (counts toward fan-in). */
  stages: string[];
  /** The branch a finished one may start (full mode: the verified pool feeds generation). */
  then?: Branch;
}

export interface PipelineSpec {
  /** Every stage, in pipeline order (the order of stats, the card and progress). */
  stages: StageDecl[];
  branches: Record<Branch, BranchDecl>;
}

export const CACO: PipelineSpec = {
  stages: [
    { name: 'ingest', kind: 'source', host: 'ingest', local: 'one', text: 'input lines validated (bad lines quarantined), seeds decontaminated' },
    { name: 'unify', kind: 'shard', host: 'generate', local: 'llm', llmRoles: ['unify'], text: 'seed problems rewritten as Code CoTs by an LLM' },
    {
      name: 'generate',
      kind: 'shard',
      host: 'generate',
      local: 'llm',
      llmRoles: ['generate'],
      makesInput: true,
      config: 'generate',
      text: 'new Code CoTs sampled from the LLM (few-shot from the verified pool, or a fine-tuned CodeGen)',
    },
    { name: 'execute', kind: 'shard', host: 'execute', local: 'sandbox', sandbox: true, config: 'execute', text: 'programs run in the Pyodide sandbox (twice, for determinism)' },
    { name: 'filter', kind: 'shard', host: 'filter', local: 'one', config: 'filter', text: "Caco's rules and ours, determinism (and the gold check for seeds)" },
    {
      name: 'dedup',
      kind: 'shard',
      host: 'filter',
      local: 'one',
      barrier: true,
      config: 'filter.dedup',
      text: 'exact and near-duplicate removal across the whole run (MinHash LSH), earliest record wins',
    },
    {
      name: 'backtranslate',
      kind: 'shard',
      host: 'backtranslate',
      local: 'llm',
      llmRoles: ['reverse', 'solve', 'judge'],
      config: 'backtranslate',
      text: 'problem written from code, solved separately, answer verified against the program',
    },
    { name: 'assemble', kind: 'fanIn', host: 'assemble', local: 'one', text: 'dataset, CodeGen set, stats and card written' },
  ],
  branches: {
    unify: { prefix: 'u', stages: ['unify', 'execute', 'filter', 'dedup'], then: 'generate' },
    generate: { prefix: 'g', stages: ['generate', 'execute', 'filter', 'dedup', 'backtranslate'] },
  },
};

/** A copy of `spec` with `stage` inserted after `after` in the given branches (and in pipeline order). */
export function withStage(spec: PipelineSpec, stage: StageDecl, after: string, branches: Branch[]): PipelineSpec {
  const stages = [...spec.stages];
  stages.splice(stages.findIndex((s) => s.name === after) + 1, 0, stage);
  const out: PipelineSpec = { stages, branches: { ...spec.branches } };
  for (const b of branches) {
    const list = [...spec.branches[b].stages];
    const i = list.indexOf(after);
    if (i < 0) throw new Error(`stage ${after} is not on branch ${b}`);
    list.splice(i + 1, 0, stage.name);
    out.branches[b] = { ...spec.branches[b], stages: list };
  }
  checkSpec(out);
  return out;
}

/** Names must be unique and every branch stage declared as a shard stage. */
export function checkSpec(spec: PipelineSpec): void {
  const names = new Set<string>();
  for (const s of spec.stages) {
    if (names.has(s.name)) throw new Error(`stage ${s.name} is declared twice`);
    names.add(s.name);
  }
  for (const [b, decl] of Object.entries(spec.branches)) {
    for (const name of decl.stages) {
      if (stageOf(spec, name).kind !== 'shard') throw new Error(`branch ${b}: ${name} is not a shard stage`);
    }
  }
  if (spec.stages.filter((s) => s.kind === 'source').length !== 1 || spec.stages.filter((s) => s.kind === 'fanIn').length !== 1) {
    throw new Error('a pipeline has exactly one source stage and one fan-in stage');
  }
}
checkSpec(CACO);

export function stageOf(spec: PipelineSpec, name: string): StageDecl {
  const s = spec.stages.find((x) => x.name === name);
  if (!s) throw new Error(`unknown stage ${name}`);
  return s;
}

export const stageNames = (spec: PipelineSpec): string[] => spec.stages.map((s) => s.name);
export const sourceStage = (spec: PipelineSpec): string => spec.stages.find((s) => s.kind === 'source')!.name;
export const fanInStage = (spec: PipelineSpec): string => spec.stages.find((s) => s.kind === 'fanIn')!.name;
/** The stage whose survivors end a branch: the verified Code CoTs (unify), the samples (generate). */
export const lastOf = (spec: PipelineSpec, branch: Branch): string => spec.branches[branch].stages.at(-1)!;
export const firstOf = (spec: PipelineSpec, branch: Branch): string => spec.branches[branch].stages[0]!;
/** The AWS functions, in pipeline order of their first stage. */
export const hosts = (spec: PipelineSpec): string[] => [...new Set(spec.stages.map((s) => s.host))];
