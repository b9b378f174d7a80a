// The demo's "model": a pure function from an LLM request to the authored reply it asks for, so a
// fake OpenAI-compatible server can serve the demo as a rule (and record the demo cassette).
// It recognizes the prompt kind by its system message (lib/stages/prompts.ts), then:
//   unify    -> by the seed question in the prompt
//   generate -> by sample index: `sampleIndex`, else the body's `seed` minus `seedBase` (set
//               `seed` on the generate endpoint so the wire carries seed = base + sample index)
//   reverse  -> by the program in the prompt
//   solve    -> by the problem text
//   judge    -> always the consistent verdict
// A completions request (unconditional CodeGen, empty prompt) gets the generated program as bare
// code, by sample index. A request it does not know is an error naming what it looked for.
import { extractCodeBlock } from '../../lib/codecot/extract.ts';
import { cleanProblem } from '../../lib/stages/backtranslate.ts';
import type { ChatMessage } from '../../lib/stages/llm-port.ts';
import { H_PROBLEM, H_SOLUTION, promptKindOf } from '../../lib/stages/prompts.ts';
import { GENERATED, JUDGE_REPLY, UNIFY } from './responses.ts';

export interface DemoRequest {
  messages?: ChatMessage[];
  prompt?: string;
  /** The wire `seed` (the fake server's request body carries it when the endpoint sets one). */
  seed?: number;
  sampleIndex?: number;
}

export interface DemoReply {
  content: string;
  finishReason: 'stop' | 'length';
}

export class DemoResponderMiss extends Error {
  constructor(message: string) {
    super(`demo responder: ${message}`);
    this.name = 'DemoResponderMiss';
  }
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
const programKey = (code: string) => code.replace(/\s+$/gm, '').trim();

// Lookup tables, built once from the authored content.
const byProgram = new Map<string, (typeof GENERATED)[number]>();
const byProblem = new Map<string, (typeof GENERATED)[number]>();
for (const g of GENERATED) {
  const code = extractCodeBlock(g.reply.content);
  if (code !== null && g.problem !== undefined && !byProgram.has(programKey(code))) byProgram.set(programKey(code), g);
  if (g.problem !== undefined) byProblem.set(squash(cleanProblem(g.problem)), g);
}

function sampleOf(req: DemoRequest, seedBase: number): number {
  const i = req.sampleIndex ?? (req.seed !== undefined ? req.seed - seedBase : undefined);
  if (i === undefined || !Number.isInteger(i) || i < 0) {
    throw new DemoResponderMiss('a generate request needs its sample index (set `seed` on the generate endpoint so the request carries it)');
  }
  return i % GENERATED.length;
}

function lastUser(messages: ChatMessage[]): string {
  return [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
}

export function demoRespond(req: DemoRequest, opts: { seedBase?: number } = {}): DemoReply {
  const seedBase = opts.seedBase ?? 0;
  if (req.messages === undefined) {
    // completions API: an unconditional CodeGen writes the program alone
    const g = GENERATED[sampleOf(req, seedBase)];
    const code = extractCodeBlock(g.reply.content);
    return { content: code ?? g.reply.content, finishReason: g.reply.finishReason ?? 'stop' };
  }
  const kind = promptKindOf(req.messages);
  const user = lastUser(req.messages);
  switch (kind) {
    case 'unify': {
      const start = user.indexOf(H_PROBLEM);
      const end = user.indexOf(H_SOLUTION);
      const question = start >= 0 && end > start ? user.slice(start + H_PROBLEM.length, end).trim() : '';
      const u = UNIFY.find((e) => question.startsWith(e.q));
      if (!u) throw new DemoResponderMiss(`no unify reply for the question ${JSON.stringify(question.slice(0, 80))}`);
      return { content: u.reply.content, finishReason: u.reply.finishReason ?? 'stop' };
    }
    case 'generate': {
      const g = GENERATED[sampleOf(req, seedBase)];
      return { content: g.reply.content, finishReason: g.reply.finishReason ?? 'stop' };
    }
    case 'reverse': {
      const code = extractCodeBlock(user);
      const g = code === null ? undefined : byProgram.get(programKey(code));
      if (!g) throw new DemoResponderMiss(`no reverse reply for the program ${JSON.stringify((code ?? user).slice(0, 120))}`);
      return { content: g.problem!, finishReason: 'stop' };
    }
    case 'solve': {
      const g = byProblem.get(squash(user));
      if (!g || g.solution === undefined) throw new DemoResponderMiss(`no solve reply for the problem ${JSON.stringify(user.slice(0, 120))}`);
      return { content: g.solution, finishReason: 'stop' };
    }
    case 'judge':
      return { content: JUDGE_REPLY, finishReason: 'stop' };
    default:
      throw new DemoResponderMiss(`unknown prompt (system message ${JSON.stringify(req.messages.find((m) => m.role === 'system')?.content?.slice(0, 60) ?? null)})`);
  }
}

/**
 * The responder as a rule for the fake OpenAI-compatible server (tests/helpers/fake-openai-server.ts) (`startFakeServer({ respond: demoRule() })`):
 * it reads the HTTP body the server received. `seedBase` is the generate endpoint's `seed`.
 */
export function demoRule(opts: { seedBase?: number } = {}): (req: { body: Record<string, any> }) => DemoReply {
  return (req) => demoRespond({ messages: req.body.messages, prompt: req.body.prompt, seed: req.body.seed }, opts);
}
