// The run config: one validated object that says everything a run does. It is parsed before any
// work; a bad config gets one message naming each bad field and what it allows. Unknown fields
// are errors (a typo must not silently fall back to a default).
import { z } from 'zod';
import { FilterConfigSchema } from './codecot/filter-config.ts';
import { DecontamConfigSchema } from './decontam/index.ts';
import { LlmEndpointConfigSchema, type LlmEndpointConfig, type LlmEndpointConfigInput } from './llm/config.ts';
import { SandboxOptionsSchema } from './sandbox/config.ts';
import type { LlmRole } from './stages/llm-port.ts';

/**
 * An endpoint's fields, all optional and WITHOUT their defaults: `llm.unify: {model: 'x'}` must
 * not reset a `max_tokens` set in `llm.default` (zod's .partial() would fill in the defaults).
 */
const EndpointPatch = z
  .object(
    Object.fromEntries(
      Object.entries(LlmEndpointConfigSchema.shape).map(([k, s]) => [k, (s instanceof z.ZodDefault ? s.unwrap() : s).optional()]),
    ),
  )
  .strict() as unknown as z.ZodType<Partial<LlmEndpointConfigInput>>;

export const LLM_ROLES: LlmRole[] = ['unify', 'generate', 'reverse', 'solve', 'judge'];

/** Paper defaults per role, under whatever `llm.default` and `llm.<role>` set. */
const PAPER_SAMPLING: Record<LlmRole, Partial<LlmEndpointConfig>> = {
  unify: { temperature: 0.6 },
  generate: { temperature: 0.9, max_tokens: 1024 },
  reverse: { temperature: 0.7, top_p: 0.8 },
  solve: { temperature: 0.6, max_tokens: 2048 },
  judge: { temperature: 0, max_tokens: 512 },
};

export const RunConfigSchema = z
  .object({
    mode: z.enum(['unify', 'synthesize', 'full']).default('full'),
    /** Seeds the few-shot example choice (with shard and sample index): same seed, same requests. */
    seed: z.number().int().default(0),
    /** Records per shard: the unit of work, retry and checkpoint. */
    shardSize: z.number().int().min(1).max(10_000).default(100),
    generate: z
      .object({
        mode: z.enum(['fewshot', 'unconditional']).default('fewshot'),
        /** Candidate programs to sample in total. */
        samples: z.number().int().min(0).default(100),
        /** Verified examples per few-shot prompt. */
        k: z.number().int().min(1).max(16).default(3),
      })
      .strict()
      .prefault({}),
    backtranslate: z
      .object({
        /** Problems written per program. */
        variants: z.number().int().min(1).max(8).default(1),
        /** Ask the judge model whether each solution is consistent with its program. */
        judge: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    execute: z
      .object({
        /** Run every program twice (the determinism rule compares the two outputs). */
        rerun: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    sandbox: SandboxOptionsSchema.prefault({}),
    filter: FilterConfigSchema.prefault({}),
    decontam: DecontamConfigSchema.prefault({}),
    llm: z
      .object({
        /** Settings every role starts from (endpoint, model, limits, prices). */
        default: EndpointPatch.prefault({}),
        unify: EndpointPatch.prefault({}),
        generate: EndpointPatch.prefault({}),
        reverse: EndpointPatch.prefault({}),
        solve: EndpointPatch.prefault({}),
        judge: EndpointPatch.prefault({}),
        /** Batch mode, locally: seconds between checks of the open batches (on AWS a schedule checks them). */
        batchPollSeconds: z.number().positive().max(3600).default(30),
        /** live: call the endpoints; record: call and write the cassette; replay: cassette only. */
        cassette: z
          .object({ mode: z.enum(['live', 'record', 'replay']).default('live'), path: z.string().optional() })
          .strict()
          .refine((c) => c.mode === 'live' || c.path, { message: 'a cassette path is needed to record or replay', path: ['path'] })
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /** The dataset folder: Parquet parts always; the same rows as JSONL beside them when asked. */
    dataset: z
      .object({ jsonl: z.boolean().default(false) })
      .strict()
      .prefault({}),
    /** Local runs: shards in flight per stage (the LLM limits themselves live in llm.*). */
    local: z
      .object({
        llmShards: z.number().int().min(1).max(256).default(4),
        executeShards: z.number().int().min(1).max(8).default(1),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type RunConfig = z.infer<typeof RunConfigSchema>;
export type RunConfigInput = z.input<typeof RunConfigSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The schema under defaults, optionals and pipes (zod 4 internals: `_zod.def`). */
function unwrap(s: z.ZodType | undefined): z.ZodType | undefined {
  let cur = s as { _zod: { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } } } | undefined;
  while (cur) {
    const d = cur._zod.def;
    if (d.innerType && ['default', 'optional', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(d.type)) cur = d.innerType as never;
    else if (d.type === 'pipe' && d.in) cur = d.in as never;
    else break;
  }
  return cur as z.ZodType | undefined;
}

/** The field names an object in the schema allows at `path` ([] when it is not an object). */
export function knownFields(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s = unwrap(schema);
  const shapeOf = (x: z.ZodType | undefined) => (x as unknown as { _zod: { def: { type: string; shape?: Record<string, z.ZodType> } } } | undefined)?._zod.def;
  for (const p of path) {
    const d = shapeOf(s);
    if (d?.type !== 'object' || !d.shape) return [];
    s = unwrap(d.shape[String(p)]);
  }
  const d = shapeOf(s);
  return d?.type === 'object' && d.shape ? Object.keys(d.shape) : [];
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The known name closest to a mistyped one, if it is close enough to be what was meant. */
export function didYouMean(word: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = k.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== null && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

/** One line per problem, naming the field and, for enums, the allowed values. */
function describe(err: z.ZodError): string {
  return err.issues
    .map((i) => {
      const path = i.path.length ? i.path.join('.') : '(config)';
      if (i.code === 'unrecognized_keys') {
        const known = knownFields(RunConfigSchema, i.path);
        return `${path}: unknown field(s) ${i.keys
          .map((k) => {
            const m = didYouMean(k, known);
            return `"${k}"${m ? ` (did you mean "${m}"?)` : ''}`;
          })
          .join(', ')}${known.length ? `; known fields: ${known.join(', ')}` : ''}`;
      }
      return `${path}: ${i.message}`;
    })
    .join('\n  ');
}

export function parseRunConfig(value: unknown, where = 'run config'): RunConfig {
  const r = RunConfigSchema.safeParse(value ?? {});
  if (!r.success) throw new ConfigError(`invalid ${where}:\n  ${describe(r.error)}`);
  const cfg = r.data;
  // The endpoint of every role the run will call must resolve to a complete endpoint config.
  for (const role of rolesUsed(cfg)) resolveEndpoint(cfg, role, where);
  return cfg;
}

/** The roles a run calls, given its mode and options. */
export function rolesUsed(cfg: RunConfig): LlmRole[] {
  const roles: LlmRole[] = [];
  if (cfg.mode !== 'synthesize') roles.push('unify');
  if (cfg.mode !== 'unify') roles.push('generate', 'reverse', 'solve');
  if (cfg.mode !== 'unify' && cfg.backtranslate.judge) roles.push('judge');
  return roles;
}

/** paper defaults < llm.default < llm.<role>, validated as a complete endpoint. */
export function resolveEndpoint(cfg: RunConfig, role: LlmRole, where = 'run config'): LlmEndpointConfig {
  const merged = { ...PAPER_SAMPLING[role], ...stripUndefined(cfg.llm.default), ...stripUndefined(cfg.llm[role]) };
  if (role === 'generate' && cfg.generate.mode === 'unconditional' && cfg.llm.generate.api === undefined) merged.api = 'completions';
  const r = LlmEndpointConfigSchema.safeParse(merged);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `llm.${role}.${i.path.join('.')}: ${i.message} (set it in llm.${role} or llm.default)`).join('\n  ');
    throw new ConfigError(`invalid ${where}:\n  ${msg}`);
  }
  return r.data;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
