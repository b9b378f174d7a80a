// The dataset card (README.md with Hugging Face front matter): what the data is, how it was made,
// which models made it, and the yield of every stage.
import { CACO, type PipelineSpec } from './spec.ts';
import type { RunStats } from './stats.ts';
import { CONFIGS, configDir } from './dataset-layout.ts';
import type { WrittenFile } from './parquet-parts.ts';

export interface CardInput {
  runId: string;
  mode: string;
  samples: number;
  codegen: number;
  models: Record<string, string>;
  stats: RunStats;
  /** The pipeline's shape: each stage's one-line text (default: Caco's). */
  spec?: PipelineSpec;
  /** Every file of every config, as written (Parquet parts, and JSONL ones when asked). */
  files: WrittenFile[];
}

function sizeCategory(n: number): string {
  if (n < 1_000) return 'n<1K';
  if (n < 10_000) return '1K<n<10K';
  if (n < 100_000) return '10K<n<100K';
  if (n < 1_000_000) return '100K<n<1M';
  return '1M<n<10M';
}

/** The `configs:` front matter: each config's Parquet parts, listed by name (no globs to surprise). */
function configsYaml(files: WrittenFile[]): string {
  return CONFIGS.map((c) => {
    const parts = files.filter((f) => f.path.startsWith(`${configDir(c)}/`) && f.path.endsWith('.parquet'));
    return `- config_name: ${c}\n  data_files:\n  - split: train\n    path:\n${parts.map((f) => `    - ${f.path}`).join('\n')}`;
  }).join('\n');
}

export function datasetCard(c: CardInput): string {
  const text = new Map((c.spec ?? CACO).stages.map((s) => [s.name, s.text]));
  const rows = Object.entries(c.stats.stages).map(([stage, s]) => {
    const rej = Object.entries(s.rejected)
      .sort((a, b) => b[1] - a[1])
      .map(([r, n]) => `${r} ${n}`)
      .join(', ');
    const failed = Object.values(s.failed).reduce((a, b) => a + b, 0);
    const pct = s.in ? ((100 * s.kept) / s.in).toFixed(1) : '-';
    return `| ${stage} | ${text.get(stage) ?? ''} | ${s.in} | ${s.kept} (${pct}%) | ${rej || '-'} | ${failed} |`;
  });
  const models = Object.entries(c.models)
    .map(([role, m]) => `- ${role}: \`${m}\``)
    .join('\n');
  return `---
license: other
language:
- en
task_categories:
- text-generation
- question-answering
tags:
- math
- synthetic
- code-assisted-chain-of-thought
- caco
size_categories:
- ${sizeCategory(c.samples)}
configs:
${configsYaml(c.files)}
---

# Caco synthetic reasoning data (run \`${c.runId}\`)

${c.samples} verified math problems with natural-language solutions, made by the Caco method
(Lin et al., 2025, "Scaling Code-Assisted Chain-of-Thoughts and Instructions for Model Reasoning")
with Caco Serverless in \`${c.mode}\` mode. Every sample's answer was checked against the output
of the Python program (the Code CoT) it was back-translated from.

## Fields

- \`instruction\`: the problem, written by the reverse model from the program.
- \`output\`: the step-by-step solution by the solve model, which saw only the problem.
- \`answer\`: the final answer of \`output\` (its last \`\\boxed{}\`), equal to the program's output.
- \`code\`: the Code CoT; \`code_output\`: what it computed.
- \`provenance\`: run, models, and the seed or sample the program came from (a struct in Parquet,
  an object in JSONL, one shape).

## Configs

Load one with \`datasets.load_dataset("<this folder>", "<config>", split="train")\`:

- \`default\` (\`data/\`): the samples, with the fields above.
- \`sft\`: chat \`messages\` (user: the problem; assistant: the solution, ending with its answer in \`\\boxed{}\`).
- \`rlvr\`: verl's RL schema: \`data_source\`, \`prompt\` (a chat list asking for the final answer in
  \`\\boxed{}\`), \`ability\`, \`reward_model\` (\`style: rule\`, \`ground_truth\`: the program's output as
  the answer checker reads it), \`extra_info\`; and \`solution\` (the answer, boxed) for TRL's
  \`accuracy_reward\`.
- \`codegen\`: ${c.codegen} verified Code CoTs, the program alone with an empty prompt, as the paper trained CodeGen.
- \`rejected\`: every record a stage rejected or failed, with \`stage\`, \`outcome\`, \`reason\`, \`detail\`
  and the \`record\` as the stage received it (JSON).

## Files

| file | rows |
|---|---|
${c.files.map((f) => `| \`${f.path}\` | ${f.rows} |`).join('\n')}
| \`stats.json\` | run statistics |
| \`README.md\` | this card |
| \`report/\` | the run report page |

## Models

${models || '- (none)'}

## Yield of every stage

| stage | what it does | in | kept | rejected (by reason) | failed |
|---|---|---|---|---|---|
${rows.join('\n')}

Conservation (in = kept + rejected + failed, for every stage and shard): ${c.stats.conservation.ok ? 'holds' : 'VIOLATED'}.

## Decontamination

Problems (and seeds) sharing a 13-gram of normalized words with a test problem of GSM8K, MATH-500,
SVAMP, ASDiv, MAWPS, AIME24, AMC23, Minerva, CollegeMath, OlympiadBench, Gaokao2023en, MMLU-STEM,
SAT, TheoremQA or DeepMind Mathematics were removed (\`contaminated:<benchmark>\` above).
`;
}
