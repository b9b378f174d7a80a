// An estimate of a DynamoDB item's billed size: attribute names plus each value as JSON (sets as
// arrays). A little over DynamoDB's own count (quotes, brackets), never under by much.
export function itemSizeEstimate(item: Record<string, unknown>): number {
  const json = (v: unknown) => JSON.stringify(v, (_k, x) => (x instanceof Set ? [...x] : x instanceof Uint8Array ? Buffer.from(x).toString('base64') : x)) ?? '';
  return Object.entries(item).reduce((a, [k, v]) => a + Buffer.byteLength(k) + Buffer.byteLength(json(v)), 0);
}
