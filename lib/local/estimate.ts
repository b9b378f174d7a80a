// `caco estimate`: what a run will cost before it is paid for. Calls per role follow from the
// config (mode, samples, variants, judge) and the input's size; prompt sizes come from the real
// prompts built over a sample of the input; completion sizes, yields and latency are assumptions,
// each printed with where it comes from. Dollars are the config's prices (a missing price is
// reported as missing, never as $0) plus AWS from the cost model (lib/aws/cost.ts).
import { createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { resolveEndpoint, rolesUsed, type RunConfig } from '../config.ts';
import { estimateAwsCost, loadPrices } from '../aws/cost.ts';
import { inputValidator } from '../pipeline/registry.ts';
import { generateFewshotPrompt, reversePrompt, solvePrompt, unifyPrompt, judgePrompt } from '../stages/prompts.ts';
import type { ChatMessage } from '../stages/llm-port.ts';
import type { LlmRole } from '../stages/llm-port.ts';

export interface EstimateOptions {
  /** Input lines read to measure prompt sizes (default 50). */
  sample?: number;
  /** Completion speed of the endpoint, tokens per second per call (default 40). */
  tokensPerSecond?: number;
  /** Seconds before the first token of each call (default 1). */
  firstTokenS?: number;
}

export interface RoleEstimate {
  role: LlmRole;
  model: string;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  /** Dollars interactively, or null when the config sets no price for this endpoint. */
  usd: number | null;
  /** The same tokens through the Batch API (price x batchFactor), or null without a price. */
  batchUsd: number | null;
  /** The config sends this role through the Batch API (its run cost is then `batchUsd`). */
  batch: boolean;
  /** Wall time of the role's calls alone, seconds. */
  wallS: number;
}

export interface Estimate {
  inputLines: number;
  validRecords: number;
  candidates: number;
  samples: number;
  roles: RoleEstimate[];
  /** Dollars of the priced roles; `unpriced` lists the models without a price. */
  llmUSD: number;
  unpriced: string[];
  awsUSD: number;
  wallS: number;
  sandboxS: number;
  assumptions: string[];
}

/** About four characters a token for English and code (the OpenAI rule of thumb). */
const CHARS_PER_TOKEN = 4;
const tokensOf = (messages: ChatMessage[]) => Math.ceil(messages.reduce((a, m) => a + m.content.length, 0) / CHARS_PER_TOKEN) + 4 * messages.length;
const mean = (xs: number[], fallback: number) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : fallback);

/** Assumed sizes and yields (each printed): calibrated on the demo and the paper. */
const CODE_PER_SOLUTION_CHAR = 2; // demo: Code CoTs of ~606 chars from GSM8K solutions of ~295
const MIN_CODE_CHARS = 400;
const SOLUTION_PER_PROBLEM_CHAR = 3; // a step-by-step solution ending in \boxed{}: ~3x its problem
const SURVIVE_TO_BACKTRANSLATE = 0.85; // execute + filter + dedup (paper 5.3M -> 4.6M = 0.87; demo 34/40)
const SAMPLE_YIELD = 0.28; // backtranslate's answer check (paper: 4.6M -> 1.3M)
const SANDBOX_MS_PER_RUN = 60; // a typical program in the warm pool, incl. SymPy's share (DESIGN: bench:sandbox)

export async function estimateRun(inputPath: string, cfg: RunConfig, o: EstimateOptions = {}): Promise<Estimate> {
  const sampleSize = o.sample ?? 50;
  const tps = o.tokensPerSecond ?? 40;
  const firstTokenS = o.firstTokenS ?? 1;
  const validate = inputValidator(cfg);
  const sample: Record<string, unknown>[] = [];
  let lines = 0;
  let sampledLines = 0;
  for await (const line of createInterface({ input: createReadStream(inputPath), crlfDelay: Infinity })) {
    if (!line.trim()) continue;
    lines++;
    if (sampledLines >= sampleSize) continue;
    sampledLines++;
    try {
      const v = validate(JSON.parse(line));
      if (v.ok) sample.push(v.record as Record<string, unknown>);
    } catch {
      // a bad line is quarantined by the run: not counted
    }
  }
  const validShare = sampledLines ? sample.length / sampledLines : 0;
  const validRecords = Math.round(lines * validShare);
  const assumptions: string[] = [
    `input: ${lines.toLocaleString('en-US')} lines; ${sample.length} of the first ${sampledLines} are valid (${(validShare * 100).toFixed(0)}%), so ~${validRecords.toLocaleString('en-US')} records`,
    `tokens: ~${CHARS_PER_TOKEN} characters a token; prompts are built with the pipeline's own prompt templates`,
  ];

  // Sizes, from the sample where it can tell.
  const str = (r: Record<string, unknown>, k: string) => (typeof r[k] === 'string' ? (r[k] as string) : '');
  const questions = sample.map((r) => str(r, 'question')).filter(Boolean);
  const solutions = sample.map((r) => str(r, 'solution') || str(r, 'answer'));
  const codes = sample.map((r) => str(r, 'code')).filter(Boolean);
  const codeChars =
    cfg.mode === 'synthesize'
      ? mean(codes.map((c) => c.length), 800)
      : Math.max(MIN_CODE_CHARS, CODE_PER_SOLUTION_CHAR * mean(solutions.map((s) => s.length), 300));
  const problemChars = mean(questions.map((q) => q.length), 300);
  const solutionChars = SOLUTION_PER_PROBLEM_CHAR * problemChars;
  assumptions.push(
    cfg.mode === 'synthesize'
      ? `Code CoT: ~${Math.round(codeChars)} characters (the input's mean)`
      : `Code CoT: ~${Math.round(codeChars)} characters (${CODE_PER_SOLUTION_CHAR}x the mean worked solution of the sample, at least ${MIN_CODE_CHARS}; the demo's ratio)`,
    `back-translated problem: ~${Math.round(problemChars)} characters (${questions.length ? 'the mean seed question' : 'assumed'}); NL solution: ${SOLUTION_PER_PROBLEM_CHAR}x that, up to max_tokens (a thinking model writes far more)`,
  );

  const code = 'x'.repeat(Math.round(codeChars));
  const problem = 'x'.repeat(Math.round(problemChars));
  const solution = 'x'.repeat(Math.round(solutionChars));
  const unified = cfg.mode === 'synthesize' ? 0 : validRecords;
  const candidates = cfg.mode === 'unify' ? unified : cfg.generate.samples;
  const survivors = cfg.mode === 'unify' ? 0 : Math.round(cfg.generate.samples * SURVIVE_TO_BACKTRANSLATE);
  const backtranslated = survivors * cfg.backtranslate.variants;
  const samples = Math.round(backtranslated * SAMPLE_YIELD);
  if (cfg.mode !== 'unify') {
    assumptions.push(
      `${(SURVIVE_TO_BACKTRANSLATE * 100).toFixed(0)}% of generated programs survive execute, filter and dedup (the paper: 5.3M -> 4.6M; the demo: 34 of 40)`,
      `${(SAMPLE_YIELD * 100).toFixed(0)}% of back-translated programs become samples (the paper: 4.6M -> 1.3M; the demo's authored replies: 31 of 34)`,
    );
  }

  const perCall: Record<LlmRole, { calls: number; prompt: number; completion: number }> = {
    unify: {
      calls: unified,
      prompt: mean(sample.map((r) => tokensOf(unifyPrompt(str(r, 'question'), str(r, 'solution') || str(r, 'answer')))), tokensOf(unifyPrompt(problem, ''))),
      completion: codeChars / CHARS_PER_TOKEN,
    },
    generate: {
      calls: cfg.generate.samples,
      prompt: cfg.generate.mode === 'fewshot' ? tokensOf(generateFewshotPrompt(Array.from({ length: cfg.generate.k }, () => code))) : 0,
      completion: codeChars / CHARS_PER_TOKEN,
    },
    reverse: { calls: backtranslated, prompt: tokensOf(reversePrompt(code, '{...}', '42')), completion: problemChars / CHARS_PER_TOKEN },
    solve: { calls: backtranslated, prompt: tokensOf(solvePrompt(problem)), completion: solutionChars / CHARS_PER_TOKEN },
    judge: { calls: backtranslated, prompt: tokensOf(judgePrompt(problem, solution, code)), completion: 200 },
  };

  const roles: RoleEstimate[] = [];
  const unpriced: string[] = [];
  let llmUSD = 0;
  for (const role of rolesUsed(cfg)) {
    const e = resolveEndpoint(cfg, role);
    const p = perCall[role];
    const calls = p.calls * (role === 'generate' ? 1 : e.n);
    const completionPerCall = Math.min(e.max_tokens, Math.ceil(p.completion));
    const promptTokens = Math.round(calls * p.prompt);
    const completionTokens = Math.round(calls * completionPerCall);
    const usd = e.price ? (promptTokens * e.price.inputPerMTok + completionTokens * e.price.outputPerMTok) / 1e6 : null;
    if (usd === null) unpriced.push(`${e.model} (${role})`);
    else llmUSD += usd;
    // Calls in flight: the endpoint's concurrency cap, under its requests-per-minute limit (per key
    // across every instance; roles are modelled one after another, so roles sharing a key do not
    // compete here).
    const latencyS = firstTokenS + completionPerCall / tps;
    let wallS = (calls * latencyS) / e.concurrency;
    if (e.rpm > 0) wallS = Math.max(wallS, (calls / e.rpm) * 60);
    const batchUsd = usd === null || !e.price ? null : usd * e.price.batchFactor;
    roles.push({ role, model: e.model, calls, promptTokens, completionTokens, usd, batchUsd, batch: e.batch, wallS });
  }
  assumptions.push(
    `LLM latency: ${firstTokenS} s to the first token, then ${tps} tokens/s per call; calls in flight: each endpoint's concurrency (rpm limits applied); roles run one after another (an upper bound: generate and back-translation overlap)`,
  );

  const programs = unified + (cfg.mode === 'unify' ? 0 : cfg.generate.samples);
  const workers = cfg.sandbox.workers ?? availableParallelism();
  const sandboxS = (programs * (cfg.execute.rerun ? 2 : 1) * SANDBOX_MS_PER_RUN) / 1000 / workers;
  assumptions.push(`sandbox: ${SANDBOX_MS_PER_RUN} ms per program run, ${cfg.execute.rerun ? 'each run twice' : 'run once'}, ${workers} workers`);

  const llmCalls = roles.reduce((a, r) => a + r.calls, 0);
  const rateLimitedCalls = roles.filter((r) => { const e = resolveEndpoint(cfg, r.role); return !e.batch && (e.rpm > 0 || e.tpm > 0); }).reduce((a, r) => a + r.calls, 0);
  const aws = estimateAwsCost({ candidates: programs, llmCalls, rateLimitedCalls, llmLatencyS: mean(roles.map((r) => firstTokenS + r.completionTokens / Math.max(1, r.calls) / tps), 20) }, loadPrices());
  assumptions.push(...aws.assumptions);

  return {
    inputLines: lines,
    validRecords,
    candidates,
    samples,
    roles,
    llmUSD,
    unpriced,
    awsUSD: aws.total,
    wallS: roles.reduce((a, r) => a + r.wallS, 0) + sandboxS,
    sandboxS,
    assumptions,
  };
}
