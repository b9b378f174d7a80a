// Text clean-up of an answer before it is split into parts and parsed: LaTeX spacing and sizing
// commands, dollars, \text{} units, percent and degree marks, thousands separators, `x =`.
import { readBraceGroup } from './extract.ts';

/** Whole-answer clean-up that does not depend on structure. */
export function cleanAnswer(raw: string): string {
  let s = raw.trim();
  s = s.replace(/^\$+|\$+$/g, '').trim();
  s = s
    .replace(/[\u2212\u2013]/g, '-')
    .replace(/\u00d7/g, '\\times ')
    .replace(/\u00f7/g, '\\div ')
    .replace(/\u03c0/g, '\\pi ')
    .replace(/\u221e/g, '\\infty ')
    .replace(/\u221a/g, '\\sqrt')
    .replace(/\u00b0/g, '^\\circ')
    .replace(/\\(?:displaystyle|textstyle|scriptstyle|limits)(?![a-zA-Z])/g, '')
    .replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big|bigg|Bigg)(?![a-zA-Z])\s*/g, '')
    .replace(/\\(?:left|right)(?=[(\[|.])/g, '')
    .replace(/(?<!\\)\\[!,;:]/g, '')
    .replace(/\\(?:quad|qquad)(?![a-zA-Z])/g, ' ')
    .replace(/(?<!\\)\\ /g, ' ')
    .replace(/~/g, ' ')
    .replace(/\{,\}/g, ',')
    .replace(/\\[dtc]frac(?![a-zA-Z])/g, '\\frac')
    .replace(/\\[dt]binom(?![a-zA-Z])/g, '\\binom')
    .replace(/\\(?:mbox|textbf|textit|textrm|mathrm|mathbf|mathit|operatorname|texttt|textsf)\s*\{/g, '\\text{')
    .replace(/\\%/g, '%')
    .replace(/\\\$/g, '')
    .replace(/\$/g, '')
    .replace(/\\(?:dots|ldots|cdots)(?![a-zA-Z])/g, '...')
    .replace(/\\le(?![a-zA-Z])/g, '\\leq')
    .replace(/\\ge(?![a-zA-Z])/g, '\\geq')
    .replace(/\\langle(?![a-zA-Z])/g, '(')
    .replace(/\\rangle(?![a-zA-Z])/g, ')');
  s = s.trim().replace(/[.,;]\s*$/, '').trim();
  // "x \in [-2, 7]" -> "[-2, 7]"
  s = s.replace(/^\\?[a-zA-Z]+\s*\\in\s*/, '');
  return s;
}

/** \frac12 -> \frac{1}{2}, \frac{270}7 -> \frac{270}{7}, \sqrt2 -> \sqrt{2} (recursively). */
export function rebrace(s: string): string {
  if (!/\\(?:frac|sqrt|binom)/.test(s)) return s;
  let out = '';
  let i = 0;
  const readArg = (j: number): { text: string; end: number } | null => {
    while (s[j] === ' ') j++;
    if (j >= s.length) return null;
    if (s[j] === '{') {
      const g = readBraceGroup(s, j);
      return g ? { text: rebrace(g.inner), end: g.end } : null;
    }
    if (s[j] === '\\') {
      const m = /^\\[a-zA-Z]+/.exec(s.slice(j));
      return m ? { text: m[0], end: j + m[0].length } : null;
    }
    if (/[0-9a-zA-Z]/.test(s[j])) return { text: s[j], end: j + 1 };
    return null;
  };
  while (i < s.length) {
    const m = /^\\(frac|sqrt|binom)(?![a-zA-Z])/.exec(s.slice(i));
    if (!m) {
      out += s[i++];
      continue;
    }
    const cmd = m[1];
    let j = i + m[0].length;
    let opt = '';
    if (cmd === 'sqrt') {
      while (s[j] === ' ') j++;
      if (s[j] === '[') {
        const close = s.indexOf(']', j);
        if (close < 0) return s;
        opt = s.slice(j, close + 1);
        j = close + 1;
      }
    }
    const nArgs = cmd === 'sqrt' ? 1 : 2;
    const args: string[] = [];
    for (let k = 0; k < nArgs; k++) {
      const a = readArg(j);
      if (!a) return s; // malformed: leave it to the parser to report
      args.push(a.text);
      j = a.end;
    }
    out += `\\${cmd}${opt}` + args.map((a) => `{${a}}`).join('');
    i = j;
  }
  return out;
}

/** \binom{n}{k} -> \frac{(n)!}{(k)!((n)-(k))!} (the engine has no \binom; exact for integers). */
export function binomToFactorials(s: string): string {
  let t = s;
  for (let guard = 0; guard < 20; guard++) {
    const i = t.indexOf('\\binom{');
    if (i < 0) break;
    const a = readBraceGroup(t, i + 6);
    const b = a && readBraceGroup(t, a.end);
    if (!a || !b) break;
    t = t.slice(0, i) + `\\frac{(${a.inner})!}{(${b.inner})!((${a.inner})-(${b.inner}))!}` + t.slice(b.end);
  }
  return t;
}

const UNITS = new Set(
  (
    'cm mm km m kg g mg lb lbs pound pounds oz ounce ounces ft feet foot in inch inches yd yard yards mi mile miles ' +
    's sec secs second seconds min mins minute minutes h hr hrs hour hours day days week weeks month months year years ' +
    'mph kph kmh l ml liter liters litre litres gallon gallons cup cups dollar dollars cent cents usd euro euros ' +
    'degree degrees deg rad radian radians unit units sq square cubic meter meters metre metres centimeter centimeters ' +
    'kilometer kilometers kilogram kilograms gram grams percent people students apples items times per each ' +
    'cm2 cm3 m2 m3 ft2 ft3 in2 in3 sqft'
  ).split(' '),
);
const NEVER_UNIT = new Set(['pi', 'e', 'i', 'j', 'x', 'y', 'z', 'n', 'k', 'sqrt', 'frac', 'infty', 'inf', 'oo', 'or', 'and']);

/** Drops trailing unit words: `5 cm`, `18 dollars`, `864 inches^2`, `30 miles per hour`. */
export function stripUnits(s: string): string {
  let t = s;
  // a rate: 60 km/h, 3 m/s, 12 miles/hour
  const rate = /\s*([A-Za-z]+)\s*\/\s*([A-Za-z]+)\s*$/.exec(t);
  if (rate && /\d/.test(t.slice(0, rate.index)) && UNITS.has(rate[1].toLowerCase()) && UNITS.has(rate[2].toLowerCase())) t = t.slice(0, rate.index);
  for (let guard = 0; guard < 8; guard++) {
    const m = /(\s*)([A-Za-z]+)(\s*\^\s*\{?[23]\}?|[²³])?\.?\s*$/.exec(t);
    if (!m) break;
    const head = t.slice(0, m.index);
    const word = m[2];
    const lw = word.toLowerCase();
    if (!/\d/.test(head) || /[+\-*/^=\\(_{]\s*$/.test(head) || NEVER_UNIT.has(lw)) break;
    const spaced = m[1].length > 0;
    const ok = UNITS.has(lw) ? spaced || word.length >= 2 : spaced && word.length >= 3;
    if (!ok) break;
    t = head.trimEnd();
  }
  return t;
}

/** `label`: the name of a stripped `y =` prefix (so `y = 2x + 3` can still meet an equation). */
export type ScalarText = { text: string; percent: boolean; degree: boolean; label?: string };

/** Clean-up of one scalar part: \text{}, units, %, degrees, separators, `x =`. */
export function cleanScalar(raw: string): ScalarText {
  let s = raw.trim();
  // \text{ cm} and the like: unwrap, the unit stripper removes unit words afterwards
  for (let guard = 0; guard < 20 && s.includes('\\text{'); guard++) {
    const i = s.indexOf('\\text{');
    const g = readBraceGroup(s, i + 5);
    if (!g) break;
    s = s.slice(0, i) + ' ' + g.inner + ' ' + s.slice(g.end);
  }
  s = s.trim();
  let percent = false;
  let degree = false;
  // degrees inside a trig function are an angle to convert, not a unit to drop: \cos 60^\circ
  if (/\\(?:sin|cos|tan|cot|sec|csc)(?![a-zA-Z])/.test(s)) {
    s = s.replace(/(\d+(?:\.\d+)?)\s*\^\s*\{?\s*\\circ\s*\}?/g, '(\\frac{$1\\pi}{180})');
  }
  if (/%\s*$/.test(s)) {
    percent = true;
    s = s.replace(/%\s*$/, '').trim();
  }
  if (/\s*(\^\s*\{?\s*\\circ\s*\}?|\\circ|\\degree)\s*$/.test(s)) {
    degree = true;
    s = s.replace(/\s*(\^\s*\{?\s*\\circ\s*\}?|\\circ|\\degree)\s*$/, '').trim();
  }
  // function notation names the answer, it is not part of it: f(x) = 3x + 2, f'(x) = ..., f^{-1}(x) = ...
  s = s.replace(/^[a-zA-Z](?:'{1,2}|\^\{?-1\}?)?\s*\(\s*[a-zA-Z]\s*\)\s*=\s*(?=[^=]*$)/, '');
  let label: string | undefined;
  const lab = /^([a-zA-Z])\s*=\s*(?=[^=]*$)/.exec(s);
  if (lab) label = lab[1];
  s = s.replace(/^[a-zA-Z](?:_\{?\w+\}?)?\s*=\s*(?=[^=]*$)/, '').replace(/^\\(?:theta|alpha|beta|gamma|phi)\s*=\s*(?=[^=]*$)/, '');
  const before = s;
  s = stripUnits(s);
  if (s !== before) {
    if (/^(degrees?|deg)$/i.test(before.slice(s.length).trim())) degree = true;
    if (/^percent$/i.test(before.slice(s.length).trim())) percent = true;
  }
  if (!percent && /%\s*$/.test(s)) {
    percent = true;
    s = s.replace(/%\s*$/, '').trim();
  }
  if (!degree && /\s*(\^\s*\{?\s*\\circ\s*\}?|\\circ)\s*$/.test(s)) {
    degree = true;
    s = s.replace(/\s*(\^\s*\{?\s*\\circ\s*\}?|\\circ)\s*$/, '').trim();
  }
  // thousands separators: 1,000,000 / 1 000 / 1{,}000 (commas already handled by the splitter)
  if (/^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) s = s.replace(/,/g, '');
  if (/^[+-]?\d{1,3}( \d{3})+(\.\d+)?$/.test(s)) s = s.replace(/ /g, '');
  s = binomToFactorials(rebrace(s.trim()));
  return label ? { text: s, percent, degree, label } : { text: s, percent, degree };
}

/** Is this a plain thousands-separated number (so its commas are not list separators)? */
export function isThousands(s: string): boolean {
  return /^[+-]?\d{1,3}(,\d{3})+(\.\d+)?(\s*%|\s*[a-zA-Z ]+)?$/.test(s.trim());
}

/** Canonical text for string comparison: no spaces, braces, \text, case. */
export function canonicalText(s: string): string {
  return s
    .replace(/\\text\{([^{}]*)\}/g, '$1')
    .replace(/[\s{}]/g, '')
    .replace(/^\((\w)\)$/, '$1')
    .toLowerCase();
}
