// The shape of a final answer, judged on Python's str() of the program's output: the same text a
// dataset sample keeps as `code_output`, so a sample and its rejected siblings classify alike.
export const ANSWER_SHAPES = ['integer', 'decimal', 'fraction', 'symbolic', 'tuple', 'list', 'set', 'bool', 'text', 'none', 'no output'] as const;
export type AnswerShape = (typeof ANSWER_SHAPES)[number];

const INTEGER = /^[-+]?\d+$/;
const DECIMAL = /^[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?\d+[eE][-+]?\d+$|^[-+]?(inf|nan)$/;
const FRACTION = /^[-+]?\d+\/\d+$/;
// SymPy's str(): sqrt(2)/2, 3*pi, x**2 + 1, E, oo, I ...
const SYMBOLIC = /\b(sqrt|pi|oo|E|I|log|exp|sin|cos|tan|Rational|[a-z])\b|\*\*/;

export function answerShape(str: string | null | undefined): AnswerShape {
  if (str === null || str === undefined) return 'no output';
  const s = str.trim();
  if (s === '') return 'no output';
  if (s === 'None') return 'none';
  if (s === 'True' || s === 'False') return 'bool';
  if (INTEGER.test(s)) return 'integer';
  if (DECIMAL.test(s)) return 'decimal';
  if (FRACTION.test(s)) return 'fraction';
  if (s.startsWith('(') && s.endsWith(')') && s.includes(',')) return 'tuple';
  if (s.startsWith('[') && s.endsWith(']')) return 'list';
  if ((s.startsWith('{') && s.endsWith('}')) || /^(frozen)?set\(/.test(s)) return 'set';
  if (/^[-+*/()\d\s.]+$/.test(s) || (s.length <= 80 && SYMBOLIC.test(s) && !/\s[a-z]+\s[a-z]+/i.test(s))) return 'symbolic';
  return 'text';
}
