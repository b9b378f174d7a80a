// The demo's authored model replies, in one import: unify replies per seed, generated programs by
// sample index with their reverse (problem) and solve (solution) replies, and the judge's reply.
export { UNIFY, type UnifyEntry } from './unify-responses.ts';
export { GENERATED, type GeneratedEntry } from './generate-responses.ts';
export type { AuthoredReply } from './authoring.ts';

/** The judge's reply (every demo sample that reaches the judge follows the program's reasoning). */
export const JUDGE_REPLY =
  'The solution identifies the same given quantities as the program and carries out the same steps in the same order, reaching the same result.\n\nVerdict: CONSISTENT';
