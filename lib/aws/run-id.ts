// Where the config that goes with an input dropped into the bucket lives (`caco submit` writes it,
// the ingest Lambda reads it). The run id itself is lib/hosts/run-id.ts, shared with `caco run`.

/** The config that goes with an input: incoming/<name>.jsonl -> incoming/<name>.config.json. */
export function configKeyFor(inputKey: string): string {
  return inputKey.replace(/\.jsonl$/, '.config.json');
}
