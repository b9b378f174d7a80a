// The filter rules, datatrove style: a rule is a name and one check that returns null (keep) or
// a verdict {reason, detail}. Rules see the record and a context that tokenizes the code at most
// once, however many rules ask for static facts.
import type { ExecutedRecord, ExecutionStatus, PyValue } from '../schema.ts';
import type { FilterConfig, RuleName } from './filter-config.ts';
import { RULE_NAMES } from './filter-config.ts';
import { staticFacts, type StaticFacts } from './static-facts.ts';
import { answerShapeProblem, maxIntDigitsIn } from './answer-shape.ts';

export interface RuleVerdict {
  reason: string;
  detail?: string;
}

export interface RuleContext {
  cfg: FilterConfig;
  /** Static facts of `record.code`, computed on first use. */
  facts(): StaticFacts;
}

export interface FilterRule {
  name: RuleName;
  /** Every reason this rule can give (for summaries and docs). */
  reasons: readonly string[];
  check(record: ExecutedRecord, ctx: RuleContext): RuleVerdict | null;
}

export function ruleContext(record: ExecutedRecord, cfg: FilterConfig): RuleContext {
  let facts: StaticFacts | undefined;
  return { cfg, facts: () => (facts ??= staticFacts(record.code)) };
}

const STATUS_REASON: Record<Exclude<ExecutionStatus, 'ok'>, string> = {
  error: 'exec_error',
  timeout: 'timeout',
  memory: 'memory',
  output_limit: 'output_limit',
  missing_module: 'missing_module',
};

/** The keys of a dict-valued PyValue, or null when it is not a dict. */
export function dictKeys(v: PyValue | null): string[] | null {
  if (!v) return null;
  const j = v.json as unknown;
  if (j === null || typeof j !== 'object' || Array.isArray(j)) return null;
  const keys = Object.keys(j);
  if (keys.length === 1 && keys[0] === '$dict') {
    const pairs = (j as { $dict: unknown }).$dict;
    return Array.isArray(pairs) ? pairs.map((kv) => (Array.isArray(kv) && typeof kv[0] === 'string' ? kv[0] : JSON.stringify(kv?.[0]))) : null;
  }
  if (keys.length === 1 && keys[0].startsWith('$')) return null; // a tagged non-dict value
  return keys;
}

/** An output that says nothing: empty or blank text. `None` is a value, judged by answer_type. */
function isEmptyValue(v: PyValue): boolean {
  const j = v.json;
  if (typeof j === 'string') return j.trim() === '';
  return v.repr.trim() === '';
}

export const codeLength: FilterRule = {
  name: 'code_length',
  reasons: ['code_too_long'],
  check: (r, { cfg }) => (r.code.length > cfg.maxCodeChars ? { reason: 'code_too_long', detail: `${r.code.length} chars > ${cfg.maxCodeChars}` } : null),
};

export const execOk: FilterRule = {
  name: 'exec_ok',
  reasons: Object.values(STATUS_REASON),
  check: (r) => {
    if (r.exec.status === 'ok') return null;
    const e = r.exec.error;
    const detail = e ? `${e.type}: ${e.message}${e.module ? ` (${e.module})` : ''}`.slice(0, 300) : r.exec.status;
    return { reason: STATUS_REASON[r.exec.status], detail };
  },
};

export const hasInput: FilterRule = {
  name: 'has_input',
  reasons: ['no_input'],
  check: (r) => {
    const v = r.exec.input;
    if (!v) return { reason: 'no_input', detail: 'no global input' };
    const keys = dictKeys(v);
    if (keys === null) return { reason: 'no_input', detail: `input is a ${v.type}, not a dict` };
    if (keys.length === 0) return { reason: 'no_input', detail: 'input is an empty dict' };
    return null;
  },
};

export const hasOutput: FilterRule = {
  name: 'has_output',
  reasons: ['no_output'],
  check: (r, { cfg }) => {
    const v = r.exec.output;
    if (!v) return { reason: 'no_output', detail: 'no global output and nothing printed' };
    if (r.exec.outputSource === 'stdout' && !cfg.allowStdoutOutput) return { reason: 'no_output', detail: 'no global output (only stdout)' };
    if (isEmptyValue(v)) return { reason: 'no_output', detail: `output is empty (${v.repr.slice(0, 40)})` };
    return null;
  },
};

export const hugeInt: FilterRule = {
  name: 'huge_int',
  reasons: ['huge_int'],
  check: (r, ctx) => {
    const max = ctx.cfg.maxIntDigits;
    const where: [string, number][] = [
      ['output', r.exec.output ? maxIntDigitsIn(r.exec.output.json) : 0],
      ['input', r.exec.input ? maxIntDigitsIn(r.exec.input.json) : 0],
    ];
    for (const [what, digits] of where) if (digits > max) return { reason: 'huge_int', detail: `${what} has an integer of ${digits} digits > ${max}` };
    // A literal in the code is cheap to spot only after tokenizing; a length bound skips that for most programs.
    if (r.code.length > max) {
      const d = ctx.facts().longestIntDigits;
      if (d > max) return { reason: 'huge_int', detail: `code has an integer literal of ${d} digits > ${max}` };
    }
    return null;
  },
};

export const answerType: FilterRule = {
  name: 'answer_type',
  reasons: ['bad_answer_type'],
  check: (r, { cfg }) => {
    if (!r.exec.output) return null; // has_output decides
    const p = answerShapeProblem(r.exec.output, cfg);
    return p ? { reason: 'bad_answer_type', detail: p } : null;
  },
};

function sameValue(a: PyValue | null, b: PyValue | null): boolean {
  if (a === null || b === null) return a === b;
  return a.repr === b.repr && a.type === b.type && JSON.stringify(a.json) === JSON.stringify(b.json);
}

export const deterministic: FilterRule = {
  name: 'deterministic',
  reasons: ['nondeterministic'],
  check: (r, { cfg }) => {
    const again = r.rerun;
    if (!again) return cfg.requireRerun ? { reason: 'nondeterministic', detail: 'no re-run to compare' } : null;
    if (again.status !== r.exec.status) return { reason: 'nondeterministic', detail: `re-run status ${again.status}` };
    if (!sameValue(r.exec.output, again.output)) {
      return { reason: 'nondeterministic', detail: `output ${r.exec.output?.repr.slice(0, 40)} then ${again.output?.repr.slice(0, 40)}` };
    }
    if (!sameValue(r.exec.input, again.input)) return { reason: 'nondeterministic', detail: 'input differs between runs' };
    return null;
  },
};

export const minLines: FilterRule = {
  name: 'min_lines',
  reasons: ['too_short'],
  check: (r, ctx) => {
    const n = ctx.facts().meaningfulLines;
    return n < ctx.cfg.minLines ? { reason: 'too_short', detail: `${n} meaningful lines < ${ctx.cfg.minLines}` } : null;
  },
};

export const inputKeysUsed: FilterRule = {
  name: 'input_keys_used',
  reasons: ['unused_input_key'],
  check: (r, ctx) => {
    const keys = dictKeys(r.exec.input);
    if (!keys) return null; // has_input decides
    const used = ctx.facts().usesOutsideInputLiteral;
    const unused = keys.filter((k) => !used.has(k));
    return unused.length ? { reason: 'unused_input_key', detail: `unused: ${unused.slice(0, 5).join(', ')}` } : null;
  },
};

/** All rules in their fixed order (cheap first: fields of the record, then PyValues, then tokens). */
export const ALL_RULES: readonly FilterRule[] = [codeLength, execOk, hasInput, hasOutput, hugeInt, answerType, deterministic, minLines, inputKeysUsed];

// Keep the order list in filter-config.ts and this array in step.
if (ALL_RULES.map((r) => r.name).join() !== RULE_NAMES.join()) throw new Error('rules.ts: ALL_RULES out of step with RULE_NAMES');

/** The enabled rules, in order. */
export function enabledRules(cfg: FilterConfig): FilterRule[] {
  return ALL_RULES.filter((r) => cfg.rules[r.name]);
}

/** The first rule `record` fails, or null when it passes them all. */
export function firstFailure(record: ExecutedRecord, cfg: FilterConfig, rules = enabledRules(cfg)): (RuleVerdict & { rule: RuleName }) | null {
  const ctx = ruleContext(record, cfg);
  for (const rule of rules) {
    const v = rule.check(record, ctx);
    if (v) return { rule: rule.name, ...v };
  }
  return null;
}
