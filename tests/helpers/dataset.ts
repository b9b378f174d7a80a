// Reads a dataset folder (the Hub layout assemble writes) back in tests: a config's rows from its
// Parquet parts in order, with hyparquet (the reader of the writer the product uses). The real
// loaders (Python datasets, pyarrow) are exercised by tests/e2e/dataset-loaders.test.ts.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Row = Record<string, any>;

/** The folder of a config: `data/` for default, else its own name. */
export const folderOf = (config: string) => (config === 'default' ? 'data' : config);

/** A config's part files, in order (`train-00000.parquet`, ...). */
export function partsOf(dir: string, config: string, ext = 'parquet'): string[] {
  return readdirSync(join(dir, folderOf(config)))
    .filter((f) => /^train-\d{5}\./.test(f) && f.endsWith(`.${ext}`))
    .sort()
    .map((f) => join(dir, folderOf(config), f));
}

export async function readConfig(dir: string, config: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const file of partsOf(dir, config)) rows.push(...(await parquetReadObjects({ file: await asyncBufferFromFile(file) })));
  return rows;
}

/** Every file under `dir`, relative, sorted. */
export function filesUnder(dir: string, base = ''): string[] {
  return readdirSync(join(dir, base), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(dir, join(base, e.name)) : [join(base, e.name)]))
    .sort();
}
