// Reads a dataset folder (the layout assemble writes, lib/pipeline/dataset-layout.ts) back: a
// config's rows from its Parquet parts, in order. For commands that take the dataset as input
// (`caco finetune` reads the codegen config) and for tests.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { configDir, type ConfigName } from './dataset-layout.ts';

/** A config's Parquet (or, with ext 'jsonl', JSONL) parts in `dir`, in order; [] when it has none. */
export function partFiles(dir: string, config: ConfigName, ext: 'parquet' | 'jsonl' = 'parquet'): string[] {
  const folder = join(dir, configDir(config));
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((f) => /^train-\d{5}\./.test(f) && f.endsWith(`.${ext}`))
    .sort()
    .map((f) => join(folder, f));
}

/** The rows of Parquet files, in order. */
export async function readParquetRows(files: string[]): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for (const file of files) rows.push(...(await parquetReadObjects({ file: await asyncBufferFromFile(file) })));
  return rows;
}

export async function readConfigRows(dir: string, config: ConfigName): Promise<Record<string, unknown>[]> {
  return readParquetRows(partFiles(dir, config));
}
