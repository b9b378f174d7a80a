// Every prompt of the pipeline, in one place. Each is a pure function of its inputs returning chat
// messages, so a cassette replay sends byte-identical requests. Sampling settings (temperature,
// top_p, max_tokens) live in the run config's per-role endpoint, not here.
import type { ChatMessage } from './llm-port.ts';

/** The Caco Code CoT format, shown to the unify prompt (and described to the few-shot prompt). */
export const CODE_COT_FORMAT = `- A module-level dict named \`input\` holding every given quantity of the problem, with descriptive keys.
- One function that takes \`input\` and carries out the reasoning; write each step as a comment followed by the code for that step.
- The function's result assigned to a module-level variable named \`output\`, then \`print(output)\`.
- Only the Python standard library (math, fractions, itertools, ...) or sympy. No input(), files, network or randomness.
- \`output\` is the final answer itself (a number, fraction, tuple or expression), never a sentence.`;

export const CODE_COT_EXAMPLE = `\`\`\`python
input = {
    "price_per_kg": 3.5,
    "kilograms": 4,
    "discount_percent": 10,
}

def solve(input):
    # Step 1: the cost before the discount
    cost = input["price_per_kg"] * input["kilograms"]
    # Step 2: the amount taken off
    discount = cost * input["discount_percent"] / 100
    # Step 3: the price actually paid
    return cost - discount

output = solve(input)
print(output)
\`\`\``;

// The system messages double as markers: the demo responder and the fake server tell the prompt
// kinds apart by them.
export const UNIFY_SYSTEM = 'You turn worked math solutions into executable Python programs that follow a fixed format.';
export const GENERATE_SYSTEM = 'You write new math reasoning programs in Python, in the same format as the examples you are shown.';
export const REVERSE_SYSTEM = 'You write math word problems. Given a program that solves a problem, you write the problem it solves.';
export const SOLVE_SYSTEM = 'Please reason step by step, and put your final answer within \\boxed{}.';
export const JUDGE_SYSTEM = 'You check whether a step-by-step solution follows the same reasoning as a reference program.';

export const PROMPT_SYSTEMS = {
  unify: UNIFY_SYSTEM,
  generate: GENERATE_SYSTEM,
  reverse: REVERSE_SYSTEM,
  solve: SOLVE_SYSTEM,
  judge: JUDGE_SYSTEM,
} as const;
export type PromptKind = keyof typeof PROMPT_SYSTEMS;

/** Which prompt a chat request was built by (from its system message), or null. */
export function promptKindOf(messages: readonly ChatMessage[] | undefined): PromptKind | null {
  const sys = messages?.find((m) => m.role === 'system')?.content;
  for (const [kind, text] of Object.entries(PROMPT_SYSTEMS)) if (sys === text) return kind as PromptKind;
  return null;
}

// Section headers of the user messages; the responder reads the parts back by them.
export const H_PROBLEM = 'Problem:';
export const H_SOLUTION = 'Worked solution:';
export const H_INPUT = 'Input:';
export const H_OUTPUT = 'Output:';
export const H_CODE = 'Program:';

/** unify: a seed problem and its worked solution -> one Code CoT in the Caco format. */
export function unifyPrompt(question: string, solution: string): ChatMessage[] {
  const user = `Convert the worked solution of the math problem below into a Python program that carries out the same reasoning step by step.

Follow this format exactly:
${CODE_COT_FORMAT}

For example:
${CODE_COT_EXAMPLE}

${H_PROBLEM}
${question.trim()}

${H_SOLUTION}
${solution.trim() || '(only the final answer is known)'}

Reply with the program in a single \`\`\`python code block.`;
  return [
    { role: 'system', content: UNIFY_SYSTEM },
    { role: 'user', content: user },
  ];
}

/** generate (fewshot): k verified Code CoTs as examples -> a new and different one. */
export function generateFewshotPrompt(examples: readonly string[]): ChatMessage[] {
  const shown = examples.map((code, i) => `Example ${i + 1}:\n\`\`\`python\n${code.trim()}\n\`\`\``).join('\n\n');
  const user = `Here are ${examples.length} programs, each solving a math problem step by step in a fixed format:
${CODE_COT_FORMAT}

${shown}

Write ONE new program in exactly this format for a NEW math problem: a different topic and different quantities from every example (for instance fractions, percentages, ratios, rates, ages, counting, geometry, money). Do not state the problem in words; the \`input\` dict and the commented steps carry it. Reply with the program in a single \`\`\`python code block.`;
  return [
    { role: 'system', content: GENERATE_SYSTEM },
    { role: 'user', content: user },
  ];
}

/** generate (unconditional): a fine-tuned CodeGen continues an empty prompt (completions API). */
export function generateUnconditionalPrompt(): string {
  return '';
}

/** reverse: a program plus its input and output -> the natural-language problem it solves. */
export function reversePrompt(code: string, inputRepr: string, outputStr: string): ChatMessage[] {
  const user = `Below is a Python program that solves a math word problem, with the values of its \`input\` dict and of its \`output\`.

${H_CODE}
\`\`\`python
${code.trim()}
\`\`\`

${H_INPUT} ${inputRepr}
${H_OUTPUT} ${outputStr}

Write the word problem this program solves. The problem must:
- state every given quantity from the input, in words and numbers a person would use;
- ask for exactly the quantity the program computes;
- be self-contained and read naturally;
- not mention Python, code, programs, variables, functions or the input dict;
- not reveal the answer.

Reply with the problem only.`;
  return [
    { role: 'system', content: REVERSE_SYSTEM },
    { role: 'user', content: user },
  ];
}

/** solve: the problem alone -> a step-by-step solution ending in \boxed{}. */
export function solvePrompt(problem: string): ChatMessage[] {
  return [
    { role: 'system', content: SOLVE_SYSTEM },
    { role: 'user', content: problem.trim() },
  ];
}

/** judge: problem + NL solution + program -> an explanation and a `Verdict: CONSISTENT|INCONSISTENT` line. */
export function judgePrompt(problem: string, solution: string, code: string): ChatMessage[] {
  const user = `${H_PROBLEM}
${problem.trim()}

Solution:
${solution.trim()}

Reference ${H_CODE}
\`\`\`python
${code.trim()}
\`\`\`

Does the solution solve the problem with the same reasoning as the program, and reach the same result? Explain briefly, then end with exactly one line: \`Verdict: CONSISTENT\` or \`Verdict: INCONSISTENT\`.`;
  return [
    { role: 'system', content: JUDGE_SYSTEM },
    { role: 'user', content: user },
  ];
}

/** The judge's verdict: the last CONSISTENT/INCONSISTENT word in the reply, or null. */
export function parseJudgeVerdict(text: string): 'CONSISTENT' | 'INCONSISTENT' | null {
  const all = [...text.matchAll(/\b(INCONSISTENT|CONSISTENT)\b/g)];
  return all.length ? (all[all.length - 1][1] as 'CONSISTENT' | 'INCONSISTENT') : null;
}
