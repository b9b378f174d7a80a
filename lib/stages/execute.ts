// The execute stage: every Code CoT runs in the sandbox (twice with `rerun`, for the determinism
// rule). Execution failures are data, not losses: each record is kept with its result and the
// filter stage rejects it with a reason. `failed` is only for the sandbox itself breaking.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { CodeCotRecordSchema, describeZodError, type CodeCotRecord, type ExecutedRecord, type ExecutionResult } from '../schema.ts';
import type { SandboxPool } from '../sandbox/pool.ts';
import { addCounter, emptyOutput, type StageOutput } from './types.ts';

/** Buckets of the execution-time counters (upper bounds in ms): `exec_ms_le_<b>`, `exec_ms_over_10000`. */
export const EXEC_MS_BOUNDS = [1, 3, 10, 30, 100, 300, 1000, 3000, 10000] as const;
export function execMsCounter(ms: number): string {
  for (const b of EXEC_MS_BOUNDS) if (ms <= b) return `exec_ms_le_${b}`;
  return `exec_ms_over_${EXEC_MS_BOUNDS[EXEC_MS_BOUNDS.length - 1]}`;
}

/** A result that says the sandbox broke around the program (not that the program failed). */
export function isInfrastructureFailure(r: ExecutionResult): boolean {
  return r.status === 'error' && r.error?.type === 'SandboxCrash';
}

export async function executeShard(
  records: CodeCotRecord[],
  pool: SandboxPool,
  opts: { rerun: boolean },
): Promise<StageOutput<ExecutedRecord>> {
  const out = emptyOutput<ExecutedRecord>();
  const programs = records.map((r) => ({ id: r.id, code: r.code }));
  // Both passes are queued at once; the pool spreads them over its workers, so the second run of
  // a program usually lands in another interpreter (and always with a fresh `random` seed).
  const [first, second] = await Promise.all([
    pool.runMany(programs),
    opts.rerun ? pool.runMany([...programs].reverse()).then((r) => r.reverse()) : Promise.resolve(null),
  ]);
  records.forEach((record, i) => {
    const exec = first[i]!;
    const rerun = second?.[i];
    if (isInfrastructureFailure(exec) || (rerun && isInfrastructureFailure(rerun))) {
      const bad = isInfrastructureFailure(exec) ? exec : rerun!;
      out.failed.push({ id: record.id, stage: 'execute', reason: 'sandbox_failure', detail: bad.error?.message, record });
      addCounter(out.counters, 'sandbox_failure');
      return;
    }
    out.kept.push(rerun ? { ...record, exec, rerun } : { ...record, exec });
    addCounter(out.counters, `status_${exec.status}`);
    addCounter(out.counters, 'executed');
    // Execution time of the first run, as a histogram (the report's chart) and a total.
    addCounter(out.counters, execMsCounter(exec.durationMs));
    addCounter(out.counters, 'exec_ms_total', Math.round(exec.durationMs)); // whole ms: sums stay exact
    if (rerun) {
      addCounter(out.counters, 'reruns');
      if (rerun.status !== exec.status || rerun.output?.repr !== exec.output?.repr) addCounter(out.counters, 'rerun_differs');
    }
  });
  return out;
}

/** An error result for an input line that is not a usable {id, code} record. */
export function malformedLineResult(line: number, message: string, id?: string): ExecutionResult {
  return {
    id: id ?? `line-${line}`,
    status: 'error',
    input: null,
    output: null,
    outputSource: null,
    stdout: '',
    stderr: '',
    truncated: false,
    error: { type: 'MalformedInput', message, line },
    durationMs: 0,
  };
}

export interface JsonlExecuteCounts {
  lines: number;
  malformed: number;
  byStatus: Record<string, number>;
}

/**
 * Reads JSONL records ({id, code, ...}) and writes one ExecutionResult per non-blank line, in
 * input order, streaming with a bounded window (never the whole file in memory).
 */
export async function executeJsonl(
  input: Readable,
  output: Writable,
  pool: SandboxPool,
  onProgress?: (done: number) => void,
  window = 4096,
): Promise<JsonlExecuteCounts> {
  const counts: JsonlExecuteCounts = { lines: 0, malformed: 0, byStatus: {} };
  const pending: Promise<ExecutionResult>[] = [];
  let done = 0;
  const write = async (r: ExecutionResult) => {
    addCounter(counts.byStatus, r.status);
    done++;
    onProgress?.(done);
    if (!output.write(JSON.stringify(r) + '\n')) await new Promise<void>((res) => output.once('drain', () => res()));
  };
  let lineNo = 0;
  for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
    lineNo++;
    if (raw.trim() === '') continue;
    counts.lines++;
    let result: Promise<ExecutionResult>;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      value = undefined;
      counts.malformed++;
      result = Promise.resolve(malformedLineResult(lineNo, `line ${lineNo}: invalid JSON: ${(e as Error).message}`));
    }
    if (value !== undefined) {
      const parsed = CodeCotRecordSchema.safeParse(value);
      if (parsed.success) {
        result = pool.run({ id: parsed.data.id, code: parsed.data.code });
      } else {
        counts.malformed++;
        const id = typeof (value as { id?: unknown })?.id === 'string' ? (value as { id: string }).id : undefined;
        result = Promise.resolve(malformedLineResult(lineNo, `line ${lineNo}: ${describeZodError(parsed.error)}`, id));
      }
    }
    pending.push(result!);
    while (pending.length >= window) await write(await pending.shift()!);
  }
  while (pending.length) await write(await pending.shift()!);
  return counts;
}
