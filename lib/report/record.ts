// One record as the report's sample browser shows it: a dataset sample or a rejected or failed
// record of any stage, flattened to the fields a reader compares (problem, Code CoT, its output,
// the NL solution, the extracted answer, the verdict and its reason). Stages file different
// shapes under `record` (lib/stages/*): this reads each by what it carries, not by stage name.
import { answerShape, type AnswerShape } from './shape.ts';

export type Verdict = 'kept' | 'rejected' | 'failed';

export interface ReportRecord {
  id: string;
  stage: string;
  verdict: Verdict;
  reason: string;
  detail?: string;
  /** Seeds this record comes from: its own seed (unify branch) or its few-shot examples. */
  seeds?: string[];
  shape: AnswerShape;
  problem?: string;
  code?: string;
  /** Python's str() of the program's output (or its stdout). */
  output?: string;
  /** The program's error, `Type: message`. */
  error?: string;
  /** Sandbox status and duration of the first run. */
  status?: string;
  ms?: number;
  solution?: string;
  answer?: string;
  gold?: string;
  /** An LLM reply that did not become code or a problem (unify, reverse). */
  reply?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Longest text kept per field: the page is for reading, the dataset keeps the whole text. */
export const FIELD_LIMIT = 20_000;
const cap = (s: string | undefined) => (s !== undefined && s.length > FIELD_LIMIT ? `${s.slice(0, FIELD_LIMIT)}\n… [${s.length - FIELD_LIMIT} more characters in the dataset]` : s);

function seedsOf(r: Obj | undefined): string[] | undefined {
  if (!r) return undefined;
  const prov = isObj(r.provenance) ? r.provenance : undefined;
  const ex = Array.isArray(r.examples) ? r.examples : Array.isArray(prov?.examples) ? prov.examples : undefined;
  if (ex) return ex.filter((x): x is string => typeof x === 'string');
  const seed = str(prov?.seedId);
  return seed ? [seed] : undefined;
}

interface ExecFields {
  output?: string;
  error?: string;
  status?: string;
  ms?: number;
}

function execOf(program: Obj | undefined): ExecFields {
  const exec = program && isObj(program.exec) ? program.exec : undefined;
  if (!exec) return {};
  const value = isObj(exec.output) ? str(exec.output.str) : undefined;
  const err = isObj(exec.error) ? `${str(exec.error.type) ?? 'Error'}: ${str(exec.error.message) ?? ''}` : undefined;
  return {
    output: value ?? (str(exec.stdout) || undefined),
    error: err,
    status: str(exec.status),
    ms: typeof exec.durationMs === 'number' ? Math.round(exec.durationMs * 10) / 10 : undefined,
  };
}

/** A dataset sample (dataset/data parts): kept at the end of the pipeline. */
export function fromSample(s: Obj): ReportRecord {
  return clean({
    id: String(s.id),
    stage: 'dataset',
    verdict: 'kept',
    reason: 'kept',
    seeds: seedsOf(s),
    shape: answerShape(str(s.code_output)),
    problem: str(s.instruction),
    code: str(s.code),
    output: str(s.code_output),
    solution: str(s.output),
    answer: str(s.answer),
  });
}

/** A verified unified Code CoT of the CodeGen set (the unify branch's survivors). */
export function fromCodegen(rec: Obj): ReportRecord {
  const exec = execOf(rec);
  return clean({
    id: String(rec.id),
    stage: 'codegen',
    verdict: 'kept',
    reason: 'kept',
    seeds: seedsOf(rec),
    shape: answerShape(exec.output),
    problem: str(rec.question),
    code: str(rec.code),
    ...exec,
    gold: str(rec.gold),
  });
}

/** A rejected or failed record (rejected/<stage>/*, failed/<stage>/*) in any stage's shape. */
export function fromRejection(rej: Obj, verdict: 'rejected' | 'failed', stageOfFile: string): ReportRecord {
  const rec = isObj(rej.record) ? rej.record : undefined;
  // backtranslate: {variant, program, problem, solveReply, answer}; unify: {seed, reply} or the
  // seed; filter/dedup/execute: the (executed) Code CoT; ingest: the raw input line.
  const program = rec && isObj(rec.program) ? rec.program : rec && typeof rec.code === 'string' ? rec : undefined;
  const seed = rec && isObj(rec.seed) ? rec.seed : rec && typeof rec.question === 'string' && !program ? rec : undefined;
  const exec = execOf(program);
  const seeds = seedsOf(program) ?? (seed ? [str(seed.id) ?? String(rej.id)] : undefined);
  const problem = str(rec?.problem) ?? str(program?.question) ?? str(seed?.question);
  const seedSolution = seed ? str(seed.solution) ?? str(seed.answer) : undefined;
  return clean({
    id: String(rej.id),
    stage: stageOfFile,
    verdict,
    reason: String(rej.reason ?? 'unknown'),
    detail: str(rej.detail),
    seeds,
    shape: program ? answerShape(exec.output) : 'no output',
    problem,
    code: str(program?.code),
    ...exec,
    solution: str(rec?.solveReply) ?? seedSolution,
    answer: str(rec?.answer),
    gold: str(program?.gold) ?? str(seed?.gold),
    reply: str(rec?.reply) ?? (rec?.solveReply === undefined ? str(rec?.reverseReply) : undefined),
  });
}

function clean(r: ReportRecord): ReportRecord {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = typeof v === 'string' ? cap(v) : v;
  }
  return out as unknown as ReportRecord;
}

/** The text a search looks in. */
export function searchText(r: ReportRecord): string {
  return [r.id, r.reason, r.detail, r.problem, r.code, r.output, r.error, r.solution, r.answer, r.reply].filter(Boolean).join('\n').toLowerCase();
}
