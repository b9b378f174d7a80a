// The demo's authored model replies, in one import: unify replies per seed, generated programs by
// sample index with their reverse (problem) and solve (solution) replies, and the judge's reply.
export { UNIFY, type UnifyEntry } from './unify-responses.ts';
export { GENERATED, type GeneratedEntry } from './generate-responses.ts';
export type { AuthoredReply } from './authoring.ts';

/** The judge's reply (every demo sample that reaches the judge follows the program's reasoning). */
export const JUDGE_REPLY =
  'The solution identifies the same given quantities as the program and carries out the same steps in the same order, reaching the same result.\n\nVerdict: CONSISTENT';

import { UNIFY as U } from './unify-responses.ts';
import { GENERATED as G } from './generate-responses.ts';

/**
 * What the demo should show, as `<stage>:<reason>` -> count (plus `kept` for the unify branch's
 * verified Code CoTs and the dataset's samples), from the `expect` field of every authored reply.
 * Assumes the default filter rules with execute re-runs on (for `nondeterministic`).
 */
export function demoExpectations(): { unify: Record<string, number>; generate: Record<string, number> } {
  const count = (xs: string[]) => xs.reduce<Record<string, number>>((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {});
  return { unify: count(U.map((u) => u.expect)), generate: count(G.map((g) => g.expect)) };
}
