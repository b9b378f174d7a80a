// Copies the first GSM8K train problems into the committed seed files (run once, re-runnable):
//   npx tsx examples/seeds/make-seeds.ts [path/to/gsm8k-train.jsonl]
// gsm8k-demo.jsonl (40, the offline demo), gsm8k-train-200.jsonl (examples), and
// gsm8k-train-1000.jsonl (the decontamination false-positive sample in tests/unit).
// Each line: { id: "gsm8k-train-0001", question, answer } with answer the worked solution ending "#### N".
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const source = process.argv[2] ?? here('../../../shared/data/seeds/gsm8k-train.jsonl');
const rows = readFileSync(source, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l, i) => {
    const r = JSON.parse(l) as { question?: unknown; answer?: unknown };
    if (typeof r.question !== 'string' || typeof r.answer !== 'string' || !/\n#### .+$/.test(r.answer.trim())) {
      throw new Error(`${source}:${i + 1}: expected {question, answer ending "#### N"}`);
    }
    return { id: `gsm8k-train-${String(i + 1).padStart(4, '0')}`, question: r.question, answer: r.answer };
  });
for (const [name, count] of [['gsm8k-demo.jsonl', 40], ['gsm8k-train-200.jsonl', 200], ['gsm8k-train-1000.jsonl', 1000]] as const) {
  writeFileSync(here(name), rows.slice(0, count).map((r) => JSON.stringify(r)).join('\n') + '\n');
  console.log(`wrote ${count} problems to examples/seeds/${name}`);
}
