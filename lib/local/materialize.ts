// Turns a run's dataset parts in a blob store (local files or S3) into the folder users read:
// data.jsonl, parquet/, sft.jsonl, rlvr.jsonl, codegen.jsonl, stats.json, README.md,
// rejected/<stage>.jsonl and report/ (the run report page, copied as assemble wrote it). Streams part by part, so a million-sample run needs no more memory
// than its largest shard.
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import type { BlobStore } from '../store/ports.ts';
import { keys } from '../pipeline/keys.ts';

async function concat(blobs: BlobStore, keys: string[], file: string): Promise<number> {
  const out = createWriteStream(file);
  let bytes = 0;
  for (const k of keys) {
    const b = await blobs.get(k);
    if (!b || b.length === 0) continue;
    bytes += b.length;
    if (!out.write(b)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}

/** Copies every blob under `prefix` to `dest`, keeping the relative paths. */
export async function copyTree(blobs: BlobStore, keys: string[], prefix: string, dest: string): Promise<number> {
  let n = 0;
  for (const k of keys) {
    if (!k.startsWith(prefix)) continue;
    const file = join(dest, k.slice(prefix.length));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, (await blobs.get(k))!);
    n++;
  }
  return n;
}

export async function materializeDataset(blobs: BlobStore, runId: string, outDir: string): Promise<string> {
  const dir = join(outDir, 'dataset');
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'parquet'), { recursive: true });
  await mkdir(join(dir, 'rejected'), { recursive: true });
  const base = keys.dataset(runId);
  const all = await blobs.list(base);
  const under = (sub: string, ext: string) => all.filter((k) => k.startsWith(base + sub + '/') && k.endsWith(ext));

  await concat(blobs, under('data', '.jsonl'), join(dir, 'data.jsonl'));
  await concat(blobs, under('sft', '.jsonl'), join(dir, 'sft.jsonl'));
  await concat(blobs, under('rlvr', '.jsonl'), join(dir, 'rlvr.jsonl'));
  await concat(blobs, under('codegen', '.jsonl'), join(dir, 'codegen.jsonl'));
  for (const k of under('data', '.parquet')) {
    await writeFile(join(dir, 'parquet', k.slice(k.lastIndexOf('/') + 1)), (await blobs.get(k))!);
  }
  for (const f of ['stats.json', 'README.md']) {
    const b = await blobs.get(base + f);
    if (b) await writeFile(join(dir, f), b);
  }
  await copyTree(blobs, all, base + 'report/', join(dir, 'report'));
  // Rejected and failed records, one file per stage, each line with its reason.
  const rejectedKeys = await blobs.list(keys.allRejected(runId));
  const failedKeys = await blobs.list(keys.allFailed(runId));
  const stages = new Set([...rejectedKeys, ...failedKeys].map((k) => k.split('/')[3]));
  for (const stage of stages) {
    await concat(blobs, rejectedKeys.filter((k) => k.split('/')[3] === stage), join(dir, 'rejected', `${stage}.jsonl`));
    const failed = failedKeys.filter((k) => k.split('/')[3] === stage);
    if (failed.length) await concat(blobs, failed, join(dir, 'rejected', `${stage}.failed.jsonl`));
  }
  return dir;
}
