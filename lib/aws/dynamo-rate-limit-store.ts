// Global LLM limits on DynamoDB: one item per (key, window) in the stack's table, claimed with one
// conditional UpdateItem (ADD requests and tokens, on condition that both stay within their
// limits). DynamoDB applies conditional writes to one item one at a time, so the counters never
// pass a limit, whatever the number of Lambda instances. Items expire by TTL an hour after their
// window. A refused claim is a failed conditional write: billed as a write like a granted one; it
// asks for the item as it was (ReturnValuesOnConditionCheckFailure, no extra charge), so the
// limiter can claim exactly what is left instead of guessing (dynalite returns none: it then
// falls back to a one-call claim).
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ClaimResult, RateClaim, RateLimitStore } from '../llm/rate-limit-store.ts';
import { isConditionFailed, keys, TTL_ATTRIBUTE } from './table.ts';

/**
 * Requests per claim on DynamoDB. One write per 16 calls: 2.8M calls per 1M candidates cost 175k
 * writes, $0.11 at $0.625 per million (more if windows are contended: see DESIGN "Global LLM
 * limits"). Bigger leases cost fewer writes but leave up to (lease - 1) requests per instance
 * unsent in a window's tail.
 */
export const DEFAULT_RATE_LEASE = 16;

/** How long a window's item outlives its window before TTL may delete it. */
const KEEP_SECONDS = 3600;

export class DynamoRateLimitStore implements RateLimitStore {
  /** Conditional writes sent (granted or refused): the billed writes. */
  writes = 0;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    readonly leaseRequests: number = DEFAULT_RATE_LEASE,
  ) {}

  async claim(c: RateClaim): Promise<ClaimResult> {
    if (c.requests > c.maxRequests || c.tokens > c.maxTokens) return { granted: false, used: null };
    const conditions: string[] = [];
    const values: Record<string, number> = {
      ':r': c.requests,
      ':t': c.tokens,
      ':exp': Math.ceil(((c.window + 1) * c.windowMs) / 1000) + KEEP_SECONDS,
    };
    // Infinity is no limit (and not a number DynamoDB takes).
    if (Number.isFinite(c.maxRequests)) {
      conditions.push('(attribute_not_exists(#r) OR #r <= :rmax)');
      values[':rmax'] = c.maxRequests - c.requests;
    }
    if (Number.isFinite(c.maxTokens)) {
      conditions.push('(attribute_not_exists(#t) OR #t <= :tmax)');
      values[':tmax'] = c.maxTokens - c.tokens;
    }
    this.writes++;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.rateWindow(c.scope, c.window),
          UpdateExpression: 'ADD #r :r, #t :t SET #ttl = :exp',
          ...(conditions.length ? { ConditionExpression: conditions.join(' AND ') } : {}),
          ExpressionAttributeNames: { '#r': 'requests', '#t': 'tokens', '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { granted: true };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      return { granted: false, used: countersOf((err as { Item?: Record<string, unknown> }).Item) };
    }
  }
}

/** The counters of the item a refused write returned (plain numbers or DynamoDB's {N: "..."}). */
export function countersOf(item: Record<string, unknown> | undefined): { requests: number; tokens: number } | null {
  if (!item) return null;
  const num = (v: unknown) => {
    const n = typeof v === 'object' && v !== null && 'N' in v ? Number((v as { N: string }).N) : Number(v ?? 0);
    return Number.isFinite(n) ? n : NaN;
  };
  const used = { requests: num(item.requests), tokens: num(item.tokens) };
  return Number.isNaN(used.requests) || Number.isNaN(used.tokens) ? null : used;
}
