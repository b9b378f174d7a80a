// The CodeGen training set, as the paper trained CodeGen: the program alone with an empty
// prompt, so the fine-tuned model samples new Code CoTs unconditionally. Two forms: chat JSONL
// for the OpenAI-style fine-tuning API, and plain text (programs separated by an end marker)
// for completion-style training elsewhere.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** Qwen's end-of-text token, the natural separator for a Qwen2.5-Coder base model. */
export const CODEGEN_END_MARKER = '<|endoftext|>';

export interface CodegenExport {
  /** `{"messages":[{"role":"user","content":""},{"role":"assistant","content":code}]}` per line. */
  chatJsonl: string;
  /** Programs separated by `\n<marker>\n`, ending with the marker. */
  plainText: string;
  count: number;
  /** Records left out, by reason (no_code, duplicate, contains_marker). */
  skipped: Record<string, number>;
}

export function codegenChatLine(code: string): string {
  return JSON.stringify({ messages: [{ role: 'user', content: '' }, { role: 'assistant', content: code }] });
}

/**
 * Builds both forms from verified Code CoT records (`{code}` objects, e.g. CodeCotRecord).
 * Programs are trimmed of trailing whitespace; exact duplicates are kept once, in input order.
 */
export function exportCodegen(records: Iterable<{ code?: unknown }>, marker = CODEGEN_END_MARKER): CodegenExport {
  const seen = new Set<string>();
  const chat: string[] = [];
  const plain: string[] = [];
  const skipped: Record<string, number> = {};
  const skip = (why: string) => (skipped[why] = (skipped[why] ?? 0) + 1);
  for (const r of records) {
    const code = typeof r?.code === 'string' ? r.code.replace(/\s+$/, '') : '';
    if (!code.trim()) {
      skip('no_code');
      continue;
    }
    if (code.includes(marker)) {
      skip('contains_marker'); // it would split the plain-text form in the wrong place
      continue;
    }
    if (seen.has(code)) {
      skip('duplicate');
      continue;
    }
    seen.add(code);
    chat.push(codegenChatLine(code));
    plain.push(`${code}\n${marker}\n`);
  }
  return { chatJsonl: chat.map((l) => l + '\n').join(''), plainText: plain.join(''), count: chat.length, skipped };
}

/** Reads a JSONL file of records (blank lines ignored; a bad line is an error naming it). */
export async function readJsonlRecords(path: string): Promise<{ code?: unknown }[]> {
  const out: { code?: unknown }[] = [];
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    n++;
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch (err) {
      throw new Error(`${path} line ${n}: not JSON (${(err as Error).message})`);
    }
  }
  return out;
}

/** Parses the text back into programs (for checks and for tools reading the plain form). */
export function splitPlainText(text: string, marker = CODEGEN_END_MARKER): string[] {
  return text
    .split(`\n${marker}\n`)
    .filter((p) => p.length > 0);
}
