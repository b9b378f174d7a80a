// Public API of the answer checker: take the final answer out of a solution, and decide whether
// it equals a gold answer or a program's output.
export { goldFromGsm8k, goldFromMath, lastBoxed } from './extract.ts';
export { extractAnswer, extractFinalAnswer, STATED_RULES, type Extraction, type ExtractRule, type ExtractOptions } from './final.ts';
export { answersEqual, type EqualOptions, type EqualReason, type EqualResult } from './equal.ts';
export { comparePairLine, compareStream, compareFile, type PairResult, type BatchCounts, type CompareOptions } from './batch.ts';
export { REL_TOL } from './number.ts';
