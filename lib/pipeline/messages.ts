// zod schemas of what crosses a process boundary between stages: the shard message (an SQS body,
// a SQLite queue row) and the blobs a stage reads (its input records, a checkpoint). A bad one is
// a RecordError naming the field (and the blob and line), raised where it is read, never a crash
// deeper down. Records are checked, not rewritten: what the stage gets is what was written.
import { z } from 'zod';
import { describeZodError, RecordError, RejectionSchema } from '../schema.ts';
import type { ShardMessage } from '../store/ports.ts';
import { CACO, stageNames, type PipelineSpec } from './spec.ts';

export function shardMessageSchema(spec: PipelineSpec = CACO) {
  const names = stageNames(spec);
  return z
    .object({
      runId: z.string().min(1, 'runId must be a non-empty string'),
      stage: z.string().refine((s) => names.includes(s), { message: `stage must be one of ${names.join(', ')}` }),
      shard: z.string().min(1, 'shard must be a non-empty string'),
    })
    .strict();
}

/** A shard message, or a RecordError naming each bad field. */
export function parseShardMessage(value: unknown, spec: PipelineSpec = CACO): ShardMessage {
  const r = shardMessageSchema(spec).safeParse(value);
  if (!r.success) throw new RecordError(`not a shard message {runId, stage, shard}: ${describeZodError(r.error)}`);
  return r.data;
}

export const CheckpointSchema = z.object({
  done: z.number().int().nonnegative(),
  out: z.object({
    kept: z.array(z.unknown()),
    rejected: z.array(RejectionSchema),
    failed: z.array(RejectionSchema),
    counters: z.record(z.string(), z.number()),
  }),
});
export type Checkpoint = z.infer<typeof CheckpointSchema>;

/** Checks every record of a blob against `schema`; the error names the blob, the line and the field. */
export function checkRecords(records: readonly unknown[], schema: z.ZodTypeAny, where: string): void {
  records.forEach((rec, i) => {
    const r = schema.safeParse(rec);
    if (!r.success) throw new RecordError(`invalid record in ${where} line ${i + 1}: ${describeZodError(r.error)}`);
  });
}

/** Parses a checkpoint blob, or a RecordError naming the field. */
export function parseCheckpoint(text: string, where: string): Checkpoint {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new RecordError(`checkpoint ${where} is not JSON: ${(err as Error).message}`);
  }
  const r = CheckpointSchema.safeParse(v);
  if (!r.success) throw new RecordError(`invalid checkpoint ${where}: ${describeZodError(r.error)}`);
  return v as Checkpoint; // checked, not rewritten (zod would reorder the rejections' keys)
}
