// The filter stage's part of the run config. Every field has a default, so `FilterConfigSchema.parse({})`
// is the paper's rules plus ours, with near-duplicate removal at Jaccard 0.85.
import { z } from 'zod';

/** Names of the rules, in the order they run (cheap first). */
export const RULE_NAMES = [
  'code_length',
  'exec_ok',
  'has_input',
  'has_output',
  'huge_int',
  'answer_type',
  'deterministic',
  'min_lines',
  'input_keys_used',
] as const;
export type RuleName = (typeof RULE_NAMES)[number];

const ruleToggles = z
  .object(Object.fromEntries(RULE_NAMES.map((r) => [r, z.boolean().default(true)])) as Record<RuleName, z.ZodDefault<z.ZodBoolean>>)
  .strict()
  .prefault({});

/** The one default of the near-duplicate threshold and banding (config, SQLite and DynamoDB indexes). */
export const DEDUP_DEFAULTS = { threshold: 0.85, bands: 16 } as const;

export const DedupConfigSchema = z
  .object({
    exact: z.boolean().default(true),
    near: z.boolean().default(true),
    /** Jaccard similarity at or above which a program is a near duplicate. */
    threshold: z.number().gt(0).lte(1).default(DEDUP_DEFAULTS.threshold),
    /** MinHash signature length; must be bands * rows. */
    numPerm: z.number().int().min(8).max(1024).default(128),
    /** LSH bands (rows per band = numPerm / bands). 16x8 finds pairs at J=0.85 with p~0.994. */
    bands: z.number().int().min(1).default(DEDUP_DEFAULTS.bands),
    /** Tokens per shingle over the normalized token stream. */
    shingleSize: z.number().int().min(1).max(32).default(5),
    /** How an LSH candidate is confirmed: `exact` Jaccard of stored shingle sets (lib/dedup/claims.ts), or the MinHash `estimate`. */
    confirm: z.enum(['exact', 'estimate']).default('exact'),
    /**
     * Partitions of the run-wide dedup (lib/dedup/partitioned.ts): each is one parallel task holding
     * about 1/P of the run's LSH keys, and each reads every shard's keys blob. Default: one per
     * 500,000 records of the branch.
     */
    partitions: z.number().int().min(1).max(1024).optional(),
  })
  .strict()
  .refine((d) => d.numPerm % d.bands === 0, { message: 'numPerm must be a multiple of bands', path: ['bands'] });
export type DedupConfig = z.infer<typeof DedupConfigSchema>;

export const FilterConfigSchema = z
  .object({
    /** Turn single rules off: `{ rules: { deterministic: false } }`. */
    rules: ruleToggles,
    /** min_lines: meaningful lines (no blank, comment-only or import lines); the paper's 6. */
    minLines: z.number().int().min(0).default(6),
    /** huge_int: longest integer allowed in input, output or code, in decimal digits (the paper's 10,000). */
    maxIntDigits: z.number().int().min(1).default(10_000),
    /** code_length: characters of code. */
    maxCodeChars: z.number().int().min(1).default(6_000),
    /** answer_type: characters of the output's repr. */
    maxOutputChars: z.number().int().min(1).default(300),
    /** answer_type: characters of a string answer. */
    maxAnswerStringChars: z.number().int().min(1).default(100),
    /** answer_type: elements of a tuple/list/set answer (nested elements count). */
    maxAnswerElements: z.number().int().min(1).default(20),
    /** answer_type: accept True/False answers. */
    allowBool: z.boolean().default(true),
    /** answer_type: accept dict answers (hard to state and to compare as a final answer). */
    allowDict: z.boolean().default(false),
    /** has_output: accept printed stdout as the output when the program sets no global `output`. */
    allowStdoutOutput: z.boolean().default(true),
    /** deterministic: reject a record that has no re-run (otherwise it passes unchecked and is counted). */
    requireRerun: z.boolean().default(false),
    dedup: DedupConfigSchema.prefault({}),
  })
  .strict();
export type FilterConfig = z.infer<typeof FilterConfigSchema>;
export type FilterConfigInput = z.input<typeof FilterConfigSchema>;

export function defaultFilterConfig(): FilterConfig {
  return FilterConfigSchema.parse({});
}
