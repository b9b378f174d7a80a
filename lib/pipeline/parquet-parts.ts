// Writes one dataset config (data, sft, rlvr, ...) as Hugging Face Hub style parts:
// `<config>/train-00000.parquet`, `train-00001.parquet`, ... Rows stream in; a part closes at
// `maxRows` rows or once its rows pass `maxBytes` (their JSON size, about their in-memory size),
// so a million-sample run gives a dozen files, not one per shard. Inside a part, row groups close
// at `rowGroupRows` rows or `rowGroupBytes`: the Hub's viewer refuses row groups over ~286 MiB in
// memory and reads the first rows from the first group. With `jsonl`, the same rows also go to
// `train-00000.jsonl` beside each Parquet part. Same rows in, same bytes out (assemble is retried).
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import type { BlobStore } from '../store/ports.ts';

/** A column of the dataset's schema: a scalar, a struct of fields, or a list of one element type. */
export type Field =
  | { name: string; type: 'string' | 'int' | 'bool'; optional?: boolean }
  | { name: string; struct: Field[]; optional?: boolean }
  | { name: string; list: Field; optional?: boolean };

export interface PartLimits {
  maxRows: number;
  maxBytes: number;
  rowGroupRows: number;
  rowGroupBytes: number;
}

export const HUB_LIMITS: PartLimits = { maxRows: 100_000, maxBytes: 256 * 2 ** 20, rowGroupRows: 10_000, rowGroupBytes: 64 * 2 ** 20 };

/** One file a writer put: its path relative to the dataset folder and its rows. */
export interface WrittenFile {
  path: string;
  rows: number;
}

const SCALAR: Record<'string' | 'int' | 'bool', Partial<SchemaElement>> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  int: { type: 'INT32' },
  bool: { type: 'BOOLEAN' },
};

function elements(f: Field, required = !f.optional): SchemaElement[] {
  const repetition_type = required ? 'REQUIRED' : 'OPTIONAL';
  if ('type' in f) return [{ name: f.name, repetition_type, ...SCALAR[f.type] } as SchemaElement];
  if ('struct' in f) return [{ name: f.name, repetition_type, num_children: f.struct.length }, ...f.struct.flatMap((c) => elements(c))];
  // The standard three-level LIST: <name> (LIST) > repeated group list > element.
  return [
    { name: f.name, repetition_type, converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    ...elements({ ...f.list, name: 'element' }, !f.list.optional),
  ];
}

/** The Parquet schema of a row type (its fields in order under the root). */
export function parquetSchema(fields: Field[]): SchemaElement[] {
  return [{ name: 'root', num_children: fields.length }, ...fields.flatMap((f) => elements(f))];
}

/**
 * A ByteWriter that moves what it wrote into exact-size 1 MB chunks instead of doubling one
 * buffer (a 120 MB part would sit in a 256 MB buffer, and copy itself at every doubling).
 */
class ChunkedWriter extends ByteWriter {
  readonly chunks: Buffer[] = [];

  override ensure(size: number): void {
    if (this.index > 2 ** 20) {
      this.chunks.push(Buffer.from(this.buffer.slice(0, this.index)));
      this.index = 0;
    }
    super.ensure(size);
  }

  /** The whole file. */
  bytes(): Buffer {
    return Buffer.concat([...this.chunks, Buffer.from(this.buffer, 0, this.index)]);
  }
}

export class PartWriter<Row extends object> {
  private readonly files: WrittenFile[] = [];
  private part = 0;
  private writer: { bytes: ChunkedWriter; parquet: ParquetWriter; jsonl: Buffer[]; rows: number; size: number } | null = null;
  private group: Row[] = [];
  private groupSize = 0;
  private total = 0;

  constructor(
    private readonly blobs: BlobStore,
    /** The blob key of a file of this config, from its name (`train-00000.parquet`). */
    private readonly keyOf: (file: string) => string,
    /** The folder the card names the files under (`data`, `sft`, ...). */
    private readonly dir: string,
    private readonly fields: Field[],
    /** `firstPart`: the number of the first part (a task of the parallel assemble writes part k alone). */
    private readonly opts: { jsonl: boolean; limits?: PartLimits; firstPart?: number },
  ) {
    this.part = opts.firstPart ?? 0;
  }

  private get limits(): PartLimits {
    return this.opts.limits ?? HUB_LIMITS;
  }

  async add(row: Row): Promise<void> {
    const line = JSON.stringify(row) + '\n';
    const size = Buffer.byteLength(line);
    if (!this.writer) this.open();
    const w = this.writer!;
    this.group.push(row);
    this.groupSize += size;
    if (this.opts.jsonl) w.jsonl.push(Buffer.from(line));
    w.rows++;
    w.size += size;
    this.total++;
    if (this.group.length >= this.limits.rowGroupRows || this.groupSize >= this.limits.rowGroupBytes) this.flushGroup();
    if (w.rows >= this.limits.maxRows || w.size >= this.limits.maxBytes) await this.closePart();
  }

  /** Closes the last part. A config with no rows still gets one empty part, so it always loads. */
  async close(): Promise<{ rows: number; files: WrittenFile[] }> {
    if (this.writer || this.files.length === 0) {
      if (!this.writer) this.open();
      await this.closePart();
    }
    return { rows: this.total, files: this.files };
  }

  private open(): void {
    const bytes = new ChunkedWriter();
    this.writer = { bytes, parquet: new ParquetWriter({ writer: bytes, schema: parquetSchema(this.fields), createdBy: 'caco-serverless' }), jsonl: [], rows: 0, size: 0 };
  }

  private flushGroup(): void {
    if (this.group.length === 0) return;
    const rows = this.group;
    const columnData = this.fields.map((f) => ({ name: f.name, data: rows.map((r) => (r as Record<string, unknown>)[f.name] ?? null) }));
    this.writer!.parquet.write({ columnData, rowGroupSize: rows.length });
    this.group = [];
    this.groupSize = 0;
  }

  private async closePart(): Promise<void> {
    this.flushGroup();
    const w = this.writer!;
    w.parquet.finish();
    const name = `train-${String(this.part).padStart(5, '0')}`;
    await this.blobs.put(this.keyOf(`${name}.parquet`), w.bytes.bytes());
    this.files.push({ path: `${this.dir}/${name}.parquet`, rows: w.rows });
    if (this.opts.jsonl) {
      await this.blobs.put(this.keyOf(`${name}.jsonl`), Buffer.concat(w.jsonl));
      this.files.push({ path: `${this.dir}/${name}.jsonl`, rows: w.rows });
    }
    this.writer = null;
    this.part++;
  }
}
