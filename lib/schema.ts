// The contract between stages: every record, message and result that crosses a stage boundary
// is described here with zod. Parse with `parseRecord` to get one clear error naming the field.
import { z } from 'zod';

/** Where a record came from: a seed problem (unify) or a generated sample (synthesize). */
export const ProvenanceSchema = z
  .object({
    source: z.enum(['seed', 'generated', 'import']),
    runId: z.string().optional(),
    seedId: z.string().optional(),
    model: z.string().optional(),
    sample: z.number().int().nonnegative().optional(),
  })
  .passthrough();
export type Provenance = z.infer<typeof ProvenanceSchema>;

/** A Code CoT: a Python program in the Caco format (module globals `input` and `output`). */
export const CodeCotRecordSchema = z
  .object({
    id: z.string().min(1, 'id must be a non-empty string'),
    code: z.string().min(1, 'code must be a non-empty string'),
    provenance: ProvenanceSchema.optional(),
    /** For unify: the seed's gold answer the program's output must equal. */
    gold: z.string().optional(),
  })
  .passthrough();
export type CodeCotRecord = z.infer<typeof CodeCotRecordSchema>;

export const EXECUTION_STATUSES = ['ok', 'error', 'timeout', 'memory', 'output_limit', 'missing_module'] as const;
export const ExecutionStatusSchema = z.enum(EXECUTION_STATUSES);
export type ExecutionStatus = z.infer<typeof ExecutionStatusSchema>;

/**
 * A Python value carried out of the sandbox: `json` is a JSON-safe rendering (ints beyond 2^53,
 * Fractions, SymPy objects and the like are tagged objects, see lib/sandbox/pyvalue), `repr` and
 * `str` are Python's own text, `type` the Python type name.
 */
export const PyValueSchema = z.object({
  json: z.unknown(),
  repr: z.string(),
  str: z.string(),
  type: z.string(),
});
export type PyValue = z.infer<typeof PyValueSchema>;

export const ExecutionResultSchema = z.object({
  id: z.string(),
  status: ExecutionStatusSchema,
  /** The module global `input` after the run (null when absent). */
  input: PyValueSchema.nullable(),
  /** The module global `output`, or the captured stdout when `output` is absent (see outputSource). */
  output: PyValueSchema.nullable(),
  outputSource: z.enum(['global', 'stdout']).nullable(),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean(),
  error: z
    .object({
      type: z.string(),
      message: z.string(),
      /** For missing_module: the module that could not be imported. */
      module: z.string().optional(),
      /** For malformed input lines: the 1-based line number. */
      line: z.number().int().optional(),
    })
    .nullable(),
  durationMs: z.number().nonnegative(),
});
export type ExecutionResult = z.infer<typeof ExecutionResultSchema>;

/** A Code CoT together with its execution results (first run, and the determinism re-run). */
export const ExecutedRecordSchema = CodeCotRecordSchema.extend({
  exec: ExecutionResultSchema,
  rerun: ExecutionResultSchema.optional(),
});
export type ExecutedRecord = z.infer<typeof ExecutedRecordSchema>;

/** A record a stage did not keep, with a machine-readable reason (e.g. `timeout`, `too_short`). */
export const RejectionSchema = z.object({
  id: z.string(),
  stage: z.string(),
  reason: z.string(),
  detail: z.string().optional(),
  record: z.unknown().optional(),
});
export type Rejection = z.infer<typeof RejectionSchema>;

/** Turns a zod error into one line naming each bad field: `code: Required; id: Expected string`. */
export function describeZodError(err: z.ZodError): string {
  return err.issues
    .map((i) => {
      const path = i.path.length ? i.path.join('.') : '(root)';
      return `${path}: ${i.message}`;
    })
    .join('; ');
}

export class RecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordError';
  }
}

/** Parse `value` with `schema`, throwing a RecordError whose message names every bad field. */
export function parseRecord<T extends z.ZodTypeAny>(schema: T, value: unknown, what = 'record'): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new RecordError(`invalid ${what}: ${describeZodError(r.error)}`);
  return r.data;
}
