// Streams JSONL input line by line without ever holding an over-long line in memory. Every line
// comes out either parsed or as a quarantine entry with its line number and reason: bad input
// never stops a run.

export type LineResult =
  | { kind: 'value'; line: number; value: unknown }
  | { kind: 'quarantine'; line: number; reason: 'line_too_long' | 'invalid_utf8' | 'bad_json'; detail: string; text?: string };

const NEWLINE = 0x0a;
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Splits a byte stream into JSON values; blank lines are skipped (they are not records). */
export async function* readJsonLines(
  source: AsyncIterable<Uint8Array>,
  maxLineBytes = 8 * 1024 * 1024,
): AsyncGenerator<LineResult> {
  let parts: Uint8Array[] = [];
  let size = 0;
  let lineNo = 0;
  let tooLong = false;

  function* finish(): Generator<LineResult> {
    lineNo++;
    if (tooLong) {
      yield { kind: 'quarantine', line: lineNo, reason: 'line_too_long', detail: `longer than ${maxLineBytes} bytes` };
    } else {
      const bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      yield* parseLine(bytes, lineNo);
    }
    parts = [];
    size = 0;
    tooLong = false;
  }

  for await (const chunk of source) {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl === -1 ? chunk.length : nl;
      if (!tooLong) {
        size += end - start;
        if (size > maxLineBytes) {
          tooLong = true;
          parts = [];
        } else if (end > start) {
          parts.push(chunk.subarray(start, end));
        }
      }
      if (nl === -1) break;
      yield* finish();
      start = nl + 1;
    }
  }
  if (size > 0 || tooLong) yield* finish();
}

function* parseLine(bytes: Uint8Array, line: number): Generator<LineResult> {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    yield { kind: 'quarantine', line, reason: 'invalid_utf8', detail: 'the line is not valid UTF-8' };
    return;
  }
  if (text.trim() === '') return;
  try {
    yield { kind: 'value', line, value: JSON.parse(text) };
  } catch (err) {
    yield { kind: 'quarantine', line, reason: 'bad_json', detail: (err as Error).message, text: text.slice(0, 1000) };
  }
}

/** JSONL text for an array of records (one per line, trailing newline). */
export function toJsonl(records: readonly unknown[]): string {
  return records.map((r) => JSON.stringify(r) + '\n').join('');
}

/** Parses a JSONL blob written by `toJsonl`; a bad line is an error naming `where` and the line. */
export function parseJsonl<T = unknown>(text: string, where = 'JSONL blob'): T[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l, i) => {
      try {
        return JSON.parse(l) as T;
      } catch (err) {
        throw new Error(`${where} line ${i + 1} is not JSON: ${(err as Error).message}`);
      }
    });
}
