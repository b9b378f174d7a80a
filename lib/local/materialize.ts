// Turns a run's dataset in a blob store (local files or S3) into the folder users read, the same
// files on both transports: assemble wrote the whole folder under runs/<id>/dataset/ (the
// configs' Parquet parts, stats.json, README.md, report/), so this copies that tree as it is,
// a bounded number of objects at a time.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { BlobStore } from '../store/ports.ts';
import { keys } from '../pipeline/keys.ts';
import { mapBounded } from '../stages/map-bounded.ts';

/** Objects fetched at once: enough to hide S3's latency, few enough for the largest parts in memory. */
export const COPY_CONCURRENCY = 8;

/** Copies every blob under `prefix` to `dest`, keeping the relative paths; returns the files written. */
export async function copyTree(blobs: BlobStore, keyList: string[], prefix: string, dest: string, concurrency = COPY_CONCURRENCY): Promise<string[]> {
  const root = resolve(dest);
  const under = keyList.filter((k) => k.startsWith(prefix));
  return mapBounded(under, concurrency, async (k) => {
    const file = resolve(root, k.slice(prefix.length));
    if (relative(root, file).startsWith('..')) throw new Error(`refusing to write outside ${dest}: ${k}`);
    const body = await blobs.get(k);
    if (!body) throw new Error(`${k} was listed but could not be read`);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, body);
    return join(dest, k.slice(prefix.length));
  });
}

/**
 * Writes the run's dataset folder to `dir`, replacing an earlier copy of the same run's dataset
 * (so no part of an older assemble is left behind); refuses any other non-empty folder.
 */
export async function downloadDataset(blobs: BlobStore, runId: string, dir: string): Promise<string[]> {
  const prefix = keys.dataset(runId);
  const all = await blobs.list(prefix);
  if (all.length === 0) throw new Error(`run ${runId} has no dataset yet (nothing under ${prefix})`);
  await clearEarlierCopy(dir, runId);
  return copyTree(blobs, all, prefix, dir);
}

async function clearEarlierCopy(dir: string, runId: string): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  if (entries.length === 0) return;
  const stats = await readFile(join(dir, 'stats.json'), 'utf8').catch(() => null);
  let earlier: string | undefined;
  try {
    earlier = stats ? (JSON.parse(stats) as { runId?: string }).runId : undefined;
  } catch {
    earlier = undefined;
  }
  if (earlier !== runId) throw new Error(`refusing to write the dataset of run ${runId} into ${dir}: it is not empty and holds no earlier copy of that run's dataset`);
  await rm(dir, { recursive: true, force: true });
}

/** The local run's dataset folder: <out>/dataset/. */
export async function materializeDataset(blobs: BlobStore, runId: string, outDir: string): Promise<string> {
  const dir = join(outDir, 'dataset');
  // caco's own folder inside the output: an earlier run's copy here is always replaced.
  await rm(dir, { recursive: true, force: true });
  await downloadDataset(blobs, runId, dir);
  return dir;
}
