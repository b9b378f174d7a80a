// The bench's "model", served by the fake OpenAI-compatible server (tests/helpers/fake-openai-server.ts):
//   generate -> a templated, varied, valid Caco Code CoT for the sample index (the request's
//               `seed` minus the generate endpoint's seed), with a schedule of bad ones so every
//               stage does real work: exact duplicates, renamed near copies, a crash, a program
//               too short for the line rule;
//   reverse  -> a problem that embeds a hidden tag (a hash of the program) and remembers the
//               program's output under it; some problems leak code (rejected by backtranslate);
//   solve    -> finds the tag and answers \boxed{output}; some answers are wrong (rejected by
//               the answer check).
// Stateful only in the tag -> answer map, which lives in the bench process with the server.
import { createHash } from 'node:crypto';
import { GENERATE_SYSTEM, H_CODE, H_OUTPUT, REVERSE_SYSTEM, SOLVE_SYSTEM } from '../../../lib/stages/prompts.ts';
import { mulberry32 } from '../../../lib/util/random.ts';

const NOUNS = ['apples', 'boxes', 'tickets', 'coins', 'pages', 'laps', 'bricks', 'seeds', 'cups', 'stamps', 'tiles', 'shells', 'cards', 'eggs', 'nails', 'pens'];
const VERBS = ['combine', 'share out', 'set aside', 'scale up', 'regroup', 'count', 'pack', 'split', 'add back', 'trim'];

/** One reasoning step on the running value `acc` (and sometimes an input), as code lines. */
const STEPS: ((r: () => number, key: () => string) => string)[] = [
  (r, k) => `acc = acc + input["${k()}"] * ${2 + Math.floor(r() * 9)}`,
  (r, k) => `acc = acc - input["${k()}"] + ${10 + Math.floor(r() * 90)}`,
  (r) => `acc = acc * ${2 + Math.floor(r() * 5)}`,
  (r) => `acc = acc // ${2 + Math.floor(r() * 4)} + ${Math.floor(r() * 50)}`,
  (r) => `acc = acc % ${97 + Math.floor(r() * 900)} + ${1 + Math.floor(r() * 20)}`,
  (r, k) => `acc = max(acc, input["${k()}"] * ${3 + Math.floor(r() * 7)})`,
  (r, k) => `acc = min(acc + ${Math.floor(r() * 400)}, input["${k()}"] * ${20 + Math.floor(r() * 80)})`,
  (r) => `parts = [acc // ${2 + Math.floor(r() * 3)}, acc % ${3 + Math.floor(r() * 5)}]\n    acc = sum(parts) + ${Math.floor(r() * 30)}`,
  (r) => `acc = math.gcd(acc, ${12 + Math.floor(r() * 500)}) + acc // ${2 + Math.floor(r() * 6)}`,
  (r, k) => `acc = acc + sum(range(input["${k()}"] % ${5 + Math.floor(r() * 10)}))`,
];

function validProgram(i: number): string {
  const r = mulberry32(i * 2654435761 + 12345);
  const nKeys = 2 + Math.floor(r() * 3);
  const keys = Array.from({ length: nKeys }, (_, j) => `${NOUNS[Math.floor(r() * NOUNS.length)]}_${j}`);
  let used = 0;
  const key = () => keys[used++ % keys.length];
  const lines: string[] = ['import math', '', 'input = {'];
  for (const k of keys) lines.push(`    "${k}": ${1 + Math.floor(r() * 200)},`);
  lines.push('}', '', 'def solve(input):', `    # Step 1: start from the ${keys[0].split('_')[0]}`, `    acc = input["${key()}"]`);
  const nSteps = 3 + Math.floor(r() * 4);
  for (let s = 0; s < nSteps || used < keys.length; s++) {
    lines.push(`    # Step ${s + 2}: ${VERBS[Math.floor(r() * VERBS.length)]} the ${NOUNS[Math.floor(r() * NOUNS.length)]}`);
    lines.push(`    ${STEPS[Math.floor(r() * STEPS.length)](r, key)}`);
  }
  lines.push('    return acc', '', 'output = solve(input)', 'print(output)');
  return lines.join('\n');
}

/** Renames the program's own names and rewrites its comments: a near copy dedup must catch. */
function renamed(code: string): string {
  return code.replace(/\bacc\b/g, 'running_total').replace(/\bparts\b/g, 'pieces').replace(/# Step (\d+): .*/g, '# Stage $1 of the computation');
}

export type SampleKind = 'valid' | 'duplicate' | 'near_duplicate' | 'crash' | 'too_short';

/** The schedule of bad samples, by index (out of every 50: 1 copy, 1 near copy, 1 crash, 1 short). */
export function sampleKind(i: number): SampleKind {
  switch (i % 50) {
    case 7:
      return 'duplicate';
    case 19:
      return 'near_duplicate';
    case 23:
      return 'crash';
    case 31:
      return 'too_short';
    default:
      return 'valid';
  }
}

/** The program the "model" writes for sample `i`. */
export function benchProgram(i: number): string {
  switch (sampleKind(i)) {
    case 'duplicate':
      return validProgram(i - 5);
    case 'near_duplicate':
      return renamed(validProgram(i - 3));
    case 'crash':
      return validProgram(i).replace('    return acc', '    acc = acc // (acc - acc)\n    return acc');
    case 'too_short':
      return `input = {"n_${i}": ${i}}\noutput = input["n_${i}"] * 2\nprint(output)`;
    default:
      return validProgram(i);
  }
}

/** A few Code CoTs for the synthesize input (few-shot examples). */
export function exampleRecords(n = 4): { id: string; code: string }[] {
  return Array.from({ length: n }, (_, j) => ({ id: `example-${j}`, code: validProgram(1_000_000 + j) }));
}

const tagOf = (code: string) => createHash('sha256').update(code.trim()).digest('hex').slice(0, 12);

type Msg = { role: string; content: string };

/** The rule for `startFakeServer({ respond })`. `seedBase` is `llm.generate.seed`. */
export function benchRule(opts: { seedBase: number }) {
  const answers = new Map<string, string>();
  return (req: { body: Record<string, any> }): string => {
    const messages = (req.body.messages ?? []) as Msg[];
    const system = messages.find((m) => m.role === 'system')?.content;
    const user = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    if (system === GENERATE_SYSTEM) {
      const i = Number(req.body.seed) - opts.seedBase;
      if (!Number.isInteger(i) || i < 0) throw new Error('bench rule: a generate request needs `seed` (set llm.generate.seed)');
      return 'Here is a new program.\n\n```python\n' + benchProgram(i) + '\n```';
    }
    if (system === REVERSE_SYSTEM) {
      const code = /```python\n([\s\S]*?)```/.exec(user.slice(user.indexOf(H_CODE)))?.[1] ?? '';
      const output = user.slice(user.lastIndexOf(H_OUTPUT) + H_OUTPUT.length).split('\n')[0].trim();
      const tag = tagOf(code);
      answers.set(tag, output);
      const h = parseInt(tag.slice(0, 6), 16);
      if (h % 40 === 1) return 'Run this:\n```python\nprint(1)\n```';
      return `Ledger ${tag}: a clerk follows a fixed routine with a handful of counted items and records one final tally. What tally does the clerk record?`;
    }
    if (system === SOLVE_SYSTEM) {
      const tag = /Ledger ([0-9a-f]{12})/.exec(user)?.[1];
      const output = tag ? answers.get(tag) : undefined;
      if (output === undefined) throw new Error(`bench rule: no answer for the problem ${JSON.stringify(user.slice(0, 80))}`);
      const wrong = parseInt(tag!.slice(6, 12), 16) % 20 === 3;
      const answer = wrong && /^-?\d+$/.test(output) ? String(BigInt(output) + 1n) : output;
      return `Following the routine step by step gives the tally.\n\nThe final answer is $\\boxed{${answer}}$.`;
    }
    throw new Error(`bench rule: unknown prompt (system ${JSON.stringify(system?.slice(0, 60))})`);
  };
}
