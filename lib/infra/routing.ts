// Which functions exist on AWS and which queues each may send to (least privilege), derived from
// the pipeline spec (lib/pipeline/spec.ts): a function per distinct `host`, one queue per function.
// A function may send: its own stages (a checkpoint re-enqueues the shard), their successors on
// every branch (an ordered successor too: the gate may start it), and at a branch's end the next
// branch's first stage and the fan-in. The source stage starts every branch or the fan-in.
import type { StageName } from '../store/ports.ts';
import { BRANCHES, CACO, fanInStage, firstOf, type PipelineSpec } from '../pipeline/spec.ts';

export type StageFunctionName = string;

export interface Routing {
  /** The functions, in pipeline order of their first stage. */
  functions: StageFunctionName[];
  /** The function (and queue) that handles each stage's messages. */
  queueOf: Record<StageName, StageFunctionName>;
  /** Stages whose messages each function sends. */
  sendsTo: Record<StageFunctionName, StageName[]>;
  /** Functions that call an LLM (read the API key secret, use the LLM response cache). */
  llmFunctions: StageFunctionName[];
  /** Functions that run programs (carry the sandbox layer). */
  sandboxFunctions: StageFunctionName[];
}

export function routingOf(spec: PipelineSpec): Routing {
  const queueOf: Record<string, string> = Object.fromEntries(spec.stages.map((s) => [s.name, s.host]));
  const functions = [...new Set(spec.stages.map((s) => s.host))];
  const sends = new Map<string, Set<string>>(functions.map((f) => [f, new Set()]));
  const fanIn = fanInStage(spec);
  for (const s of spec.stages) {
    const out = sends.get(s.host)!;
    if (s.kind === 'source') {
      for (const b of BRANCHES) out.add(firstOf(spec, b));
      out.add(fanIn);
      continue;
    }
    out.add(s.name);
    for (const b of BRANCHES) {
      const list = spec.branches[b].stages;
      const i = list.indexOf(s.name);
      if (i < 0) continue;
      if (i + 1 < list.length) out.add(list[i + 1]!);
      else {
        const then = spec.branches[b].then;
        if (then) out.add(firstOf(spec, then));
        out.add(fanIn);
      }
    }
  }
  const order = new Map(spec.stages.map((s, i) => [s.name, i]));
  const sendsTo = Object.fromEntries(functions.map((f) => [f, [...sends.get(f)!].sort((a, b) => order.get(a)! - order.get(b)!)]));
  const hostsWhere = (pred: (s: PipelineSpec['stages'][number]) => boolean) => [...new Set(spec.stages.filter(pred).map((s) => s.host))];
  return {
    functions,
    queueOf,
    sendsTo,
    llmFunctions: hostsWhere((s) => (s.llmRoles?.length ?? 0) > 0),
    sandboxFunctions: hostsWhere((s) => s.sandbox === true),
  };
}

const caco = routingOf(CACO);
export const STAGE_FUNCTIONS = caco.functions;
export const QUEUE_OF = caco.queueOf;
export const SENDS_TO = caco.sendsTo;
export const LLM_FUNCTIONS = caco.llmFunctions;
