// LLM calls in flight per role in one Lambda invocation, shared by the runtime (what runs) and the
// cost model (`caco cost`, which must assume what runs).
import { resolveEndpoint, rolesUsed, type RunConfig } from '../config.ts';
import type { LlmRole } from '../stages/llm-port.ts';

/** The stack's CACO_LLM_CONCURRENCY when it is not set otherwise (lib/infra/caco-stack.ts). */
export const STACK_LLM_CONCURRENCY = 64;

/**
 * LLM calls in flight per role in one invocation: the function's CACO_LLM_CONCURRENCY (what its
 * memory and the cost model are sized for), lowered by a concurrency the run sets explicitly for
 * the role or in llm.default (a provider's limit). Without the variable: the run's setting.
 */
export function llmConcurrencyOnLambda(cfg: RunConfig, role: LlmRole, cap: number | undefined): number {
  if (!cap) return resolveEndpoint(cfg, role).concurrency;
  const explicit = cfg.llm[role]?.concurrency ?? cfg.llm.default?.concurrency;
  return explicit ? Math.min(explicit, cap) : cap;
}

/** The calls in flight the cost model assumes for a run: the lowest of its roles' (a run waits longest there). */
export function runCallsInFlight(cfg: RunConfig, cap = STACK_LLM_CONCURRENCY): number {
  const roles = rolesUsed(cfg);
  return roles.length ? Math.min(...roles.map((r) => llmConcurrencyOnLambda(cfg, r, cap))) : cap;
}
