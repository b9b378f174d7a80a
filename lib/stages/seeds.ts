// A seed problem for `unify`: a question with its worked solution (GSM8K `... #### 72` or MATH
// `\boxed{}`) or an explicit gold answer. Lines without an id get a stable one from the question.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { describeZodError } from '../schema.ts';
import { goldFromGsm8k, goldFromMath } from '../answer/extract.ts';

export const SeedLineSchema = z
  .object({
    id: z.union([z.string().min(1), z.number().int()]).optional(),
    question: z.string().trim().min(1, 'question must be a non-empty string'),
    /** The worked solution, GSM8K style (`#### N` last) or MATH style (`\boxed{}`). */
    answer: z.string().optional(),
    /** Alternative name some datasets use for the worked solution. */
    solution: z.string().optional(),
    /** An explicit gold answer; wins over the one in the solution. */
    gold: z.union([z.string(), z.number()]).optional(),
    source: z.string().optional(),
  })
  .passthrough()
  .refine((s) => s.answer !== undefined || s.solution !== undefined || s.gold !== undefined, {
    message: 'a seed needs a worked solution (`answer` or `solution`) or a `gold` answer',
  });
export type SeedLine = z.input<typeof SeedLineSchema>;

/** A validated seed as ingest writes it (the unify stage's input records). */
export const SeedSchema = z.object({
  id: z.string().min(1),
  question: z.string().min(1),
  /** The worked solution shown to the unify prompt ('' when only a gold answer was given). */
  solution: z.string(),
  gold: z.string().min(1),
  source: z.string().optional(),
});
export type Seed = z.infer<typeof SeedSchema>;

/** `seed-` + the first 16 hex digits of sha256(question): the same question gets the same id. */
export function seedIdFor(question: string): string {
  return `seed-${createHash('sha256').update(question.trim()).digest('hex').slice(0, 16)}`;
}

/** The gold answer inside a worked solution: GSM8K `#### N` first, else MATH's last `\boxed{}`. */
export function goldFromSolution(solution: string): string | null {
  return goldFromGsm8k(solution) ?? goldFromMath(solution);
}

export type SeedParse = { ok: true; seed: Seed } | { ok: false; reason: 'invalid_seed' | 'no_gold'; detail: string };

/** Validate one parsed JSON line as a seed; never throws. */
export function parseSeed(value: unknown): SeedParse {
  const r = SeedLineSchema.safeParse(value);
  if (!r.success) return { ok: false, reason: 'invalid_seed', detail: describeZodError(r.error) };
  const line = r.data;
  const solution = line.answer ?? line.solution ?? '';
  const gold = line.gold !== undefined ? String(line.gold).trim() : goldFromSolution(solution);
  if (!gold) return { ok: false, reason: 'no_gold', detail: 'no `#### N`, \\boxed{} or "The answer is" in the solution, and no `gold` field' };
  const seed: Seed = {
    id: line.id !== undefined ? String(line.id) : seedIdFor(line.question),
    question: line.question.trim(),
    solution,
    gold,
  };
  if (line.source) seed.source = line.source;
  return { ok: true, seed };
}
