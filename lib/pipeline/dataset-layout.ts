// The dataset's configs and their one schema each (Parquet and, when asked, the same rows in
// JSONL). `default` (data/) holds the samples; `sft`, `rlvr`, `codegen` and `rejected` are the
// exports, each its own config in the card so `load_dataset(dir, "sft")` works.
//  - sft: chat `messages`, the assistant turn ending with the boxed answer.
//  - rlvr: verl's RL schema (data_source, prompt as a chat list, ability, reward_model {style,
//    ground_truth}, extra_info) plus TRL's `solution` column (read by trl.rewards.accuracy_reward).
import { answersEqual } from '../answer/equal.ts';
import { readBraceGroup } from '../answer/extract.ts';
import type { ExecutedRecord, Rejection } from '../schema.ts';
import type { BacktranslatedRecord } from '../stages/backtranslate.ts';
import type { Field } from './parquet-parts.ts';

export const CONFIGS = ['default', 'sft', 'rlvr', 'codegen', 'rejected'] as const;
export type ConfigName = (typeof CONFIGS)[number];

/** The folder of a config's files (the Hub's convention: the default config under data/). */
export const configDir = (c: ConfigName): string => (c === 'default' ? 'data' : c);

const str = (name: string, optional = false): Field => ({ name, type: 'string', optional });
const int = (name: string, optional = false): Field => ({ name, type: 'int', optional });
const chat: Field = { name: 'messages', list: { name: 'element', struct: [str('role'), str('content')] } };

/** Every field is present in every row (null when unknown): one shape in Parquet and JSONL alike. */
export interface DatasetProvenance {
  source: string;
  runId: string;
  seedId: string | null;
  model: string | null;
  sample: number | null;
  variant: number | null;
  /** The ids of the few-shot examples the program was sampled from. */
  examples: string[] | null;
  models: { reverse: string | null; solve: string | null; judge: string | null } | null;
  /** Any other provenance fields (from imported records), as JSON. */
  extra: string | null;
}

/** A sample as the dataset stores it: the backtranslated record with its provenance flattened to one struct. */
export type DataRow = Omit<BacktranslatedRecord, 'provenance'> & { provenance: DatasetProvenance };

const PROVENANCE: Field = {
  name: 'provenance',
  struct: [
    str('source'),
    str('runId'),
    str('seedId', true),
    str('model', true),
    int('sample', true),
    int('variant', true),
    { name: 'examples', list: str('element'), optional: true },
    { name: 'models', struct: [str('reverse', true), str('solve', true), str('judge', true)], optional: true },
    str('extra', true),
  ],
};

export const FIELDS: Record<ConfigName, Field[]> = {
  default: [str('id'), str('instruction'), str('output'), str('answer'), str('code'), str('code_output'), PROVENANCE],
  sft: [str('id'), chat],
  rlvr: [
    str('data_source'),
    { name: 'prompt', list: { name: 'element', struct: [str('role'), str('content')] } },
    str('ability'),
    { name: 'reward_model', struct: [str('style'), str('ground_truth')] },
    { name: 'extra_info', struct: [int('index'), str('id'), str('split'), str('answer'), str('code_output')] },
    str('solution'),
  ],
  codegen: [str('id'), chat],
  rejected: [str('id'), str('stage'), str('outcome'), str('reason'), str('detail', true), str('record', true)],
};

const KNOWN_PROVENANCE = new Set(['source', 'runId', 'seedId', 'model', 'sample', 'variant', 'examples', 'models']); // runId: replaced by this run's

/** A finished sample as the dataset stores it: provenance with one fixed shape in both formats. */
export function dataRow(r: BacktranslatedRecord, runId: string): DataRow {
  const p = r.provenance as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  const m = p.models && typeof p.models === 'object' ? (p.models as Record<string, unknown>) : null;
  const extra = Object.fromEntries(Object.entries(p).filter(([k]) => !KNOWN_PROVENANCE.has(k)));
  const prov: DatasetProvenance = {
    source: String(p.source ?? 'import'),
    runId,
    seedId: text(p.seedId),
    model: text(p.model),
    sample: num(p.sample),
    variant: num(p.variant),
    examples: Array.isArray(p.examples) ? p.examples.map(String) : null,
    models: m ? { reverse: text(m.reverse), solve: text(m.solve), judge: text(m.judge) } : null,
    extra: Object.keys(extra).length ? JSON.stringify(extra) : null,
  };
  return { id: r.id, instruction: r.instruction, output: r.output, answer: r.answer, code: r.code, code_output: r.code_output, provenance: prov };
}

/** The instruction every RL prompt ends with (verl's own for MATH): where the final answer goes. */
export const BOXED_INSTRUCTION = "Let's think step by step and output the final answer within \\boxed{}.";

/** True when `text` ends with a \boxed{} (only closing math delimiters or a period after it). */
export function endsWithBoxed(text: string): boolean {
  const i = text.lastIndexOf('\\boxed{');
  const g = i < 0 ? null : readBraceGroup(text, i + '\\boxed'.length);
  return g !== null && /^(?:\s|\$|\.|\\\]|\\\))*$/.test(text.slice(g.end));
}

/** The SFT target: the solution, ending with its answer in \boxed{} (appended when it does not). */
export function sftAnswerTurn(r: DataRow): string {
  return endsWithBoxed(r.output) ? r.output : `${r.output}\n\nThe final answer is $\\boxed{${r.answer}}$.`;
}

/**
 * The RL ground truth: the program's output (Python's str()) when the answer checker (lib/answer)
 * accepts the verified answer against that text, else the verified answer itself (a form the
 * checker read as equal to the program's output value when the sample was kept).
 */
export function groundTruth(r: Pick<DataRow, 'answer' | 'code_output'>): string {
  return answersEqual(r.answer, r.code_output).equal ? r.code_output : r.answer;
}

export function sftRow(r: DataRow): { id: string; messages: { role: string; content: string }[] } {
  return { id: r.id, messages: [{ role: 'user', content: r.instruction }, { role: 'assistant', content: sftAnswerTurn(r) }] };
}

export function rlvrRow(r: DataRow, index: number) {
  return {
    data_source: 'caco',
    prompt: [{ role: 'user', content: `${r.instruction}\n\n${BOXED_INSTRUCTION}` }],
    ability: 'math',
    reward_model: { style: 'rule', ground_truth: groundTruth(r) },
    extra_info: { index, id: r.id, split: 'train', answer: r.answer, code_output: r.code_output },
    // TRL's accuracy_reward parses the gold `solution` as LaTeX: the verified answer, boxed.
    solution: `\\boxed{${r.answer}}`,
  };
}

/** The CodeGen set: the program alone with an empty prompt (as the paper trained CodeGen). */
export function codegenRow(r: ExecutedRecord): { id: string; messages: { role: string; content: string }[] } {
  return { id: r.id, messages: [{ role: 'user', content: '' }, { role: 'assistant', content: r.code }] };
}

export interface RejectedRow {
  id: string;
  stage: string;
  outcome: 'rejected' | 'failed';
  reason: string;
  detail: string | null;
  /** The record as the stage received it, as JSON (records differ by stage). */
  record: string | null;
}

export function rejectedRow(rej: Rejection, outcome: 'rejected' | 'failed'): RejectedRow {
  return { id: rej.id, stage: rej.stage, outcome, reason: rej.reason, detail: rej.detail ?? null, record: rej.record === undefined ? null : JSON.stringify(rej.record) };
}
