import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODEGEN_END_MARKER, exportCodegen, splitPlainText } from '../../lib/llm/codegen-export.ts';
import { validateChatJsonl } from '../../lib/llm/finetune.ts';

const prog = (n: number) => `input = {"n": ${n}}\ndef f(n):\n    # double it\n    return 2 * n\noutput = f(input["n"])\nprint(output)`;

test('chat JSONL: empty user prompt, the program as the assistant message', () => {
  const ex = exportCodegen([{ code: prog(1) + '\n\n' }, { code: prog(2) }]);
  const lines = ex.chatJsonl.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(ex.count, 2);
  assert.deepEqual(lines[0], { messages: [{ role: 'user', content: '' }, { role: 'assistant', content: prog(1) }] });
  assert.equal(validateChatJsonl(ex.chatJsonl), 2);
});

test('plain text: programs separated by the end marker and split back exactly', () => {
  const ex = exportCodegen([{ code: prog(1) }, { code: prog(2) }]);
  assert.ok(ex.plainText.endsWith(`\n${CODEGEN_END_MARKER}\n`));
  assert.deepEqual(splitPlainText(ex.plainText), [prog(1), prog(2)]);
});

test('duplicates, empty code and programs containing the marker are left out and counted', () => {
  const ex = exportCodegen([{ code: prog(1) }, { code: prog(1) + '   ' }, { code: '' }, {}, { code: `x = "${CODEGEN_END_MARKER}"` }, { code: prog(3) }]);
  assert.equal(ex.count, 2);
  assert.deepEqual(ex.skipped, { duplicate: 1, no_code: 2, contains_marker: 1 });
});

test('the chat JSONL check refuses Code CoT records and empty files with a hint', () => {
  assert.throws(() => validateChatJsonl(JSON.stringify({ id: 'a', code: 'x=1' }) + '\n', 'cots.jsonl'), /cots.jsonl line 1 is not a chat example.*exportCodegen/);
  assert.throws(() => validateChatJsonl('\n'), /empty/);
});
