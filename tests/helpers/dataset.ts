// Reads a dataset folder (the Hub layout assemble writes) back in tests, with the product's own
// reader (hyparquet). The real loaders (Python datasets, pyarrow) are exercised by
// tests/e2e/dataset-loaders.test.ts.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { partFiles, readConfigRows } from '../../lib/pipeline/dataset-read.ts';
import type { ConfigName } from '../../lib/pipeline/dataset-layout.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Row = Record<string, any>;

/** A config's part files, in order (`train-00000.parquet`, ...); `data` names the default config. */
export const partsOf = (dir: string, config: string, ext: 'parquet' | 'jsonl' = 'parquet') => partFiles(dir, (config === 'data' ? 'default' : config) as ConfigName, ext);

export const readConfig = (dir: string, config: string): Promise<Row[]> => readConfigRows(dir, (config === 'data' ? 'default' : config) as ConfigName);

/** Every file under `dir`, relative, sorted. */
export function filesUnder(dir: string, base = ''): string[] {
  return readdirSync(join(dir, base), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(dir, join(base, e.name)) : [join(base, e.name)]))
    .sort();
}

/**
 * The files two dataset folders share byte for byte: the configs of records (data, sft, rlvr,
 * codegen) and the card. Rejected records carry execution times and random outputs, and the
 * report page holds times too, so those are compared by the caller where it matters.
 */
export function recordFiles(dir: string): string[] {
  return filesUnder(dir).filter((f) => /^(data|sft|rlvr|codegen)\//.test(f) || f === 'README.md');
}

/** The (id, stage, outcome, reason) of every rejected row: what must agree between two runs. */
export async function verdicts(dir: string): Promise<string[]> {
  return (await readConfig(dir, 'rejected')).map((x) => [x.id, x.stage, x.outcome, x.reason].join(' '));
}
