// Reading answers out of reference solutions (gold of seeds): the LAST \boxed{...} (or \fbox{...},
// or `\boxed 5` without braces), "The answer is ...", GSM8K's "#### N". The final answer of a
// MODEL's whole solution is extractFinalAnswer in final.ts (which uses readBraceGroup from here).

const MAX_SCAN = 200_000; // solutions longer than this are scanned from their tail only

/** Reads a brace group starting at `open` (which must be '{'); returns its inner text and end. */
export function readBraceGroup(s: string, open: number): { inner: string; end: number } | null {
  if (s[open] !== '{') return null;
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      i++; // skip the escaped char: \{ and \} do not count as braces
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return { inner: s.slice(open + 1, i), end: i + 1 };
    }
  }
  return null;
}

/** The content of the last \boxed{..} / \fbox{..} / `\boxed x`, or null. */
export function lastBoxed(text: string): string | null {
  const s = text.length > MAX_SCAN ? text.slice(-MAX_SCAN) : text;
  const re = /\\(?:boxed|fbox)\b/g;
  let last: string | null = null;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    let i = m.index + m[0].length;
    while (s[i] === ' ' && s[i + 1] === ' ') i++;
    if (s[i] === '{') {
      const g = readBraceGroup(s, i);
      if (g) last = g.inner;
    } else if (s[i] === ' ') {
      // `\boxed 5$` or `\boxed 5.`: up to the next $, newline or end
      const rest = s.slice(i + 1).match(/^[^$\n]*/)![0].trim().replace(/[.。]\s*$/, '');
      if (rest) last = rest;
    }
  }
  return last === null ? null : last.trim();
}

function stripAnswerDecoration(a: string): string {
  let t = a.trim();
  // "The answer is: $\frac{3}{4}$." -> \frac{3}{4}
  t = t.replace(/[.。]\s*$/, '').trim();
  if (/^\$\$?[\s\S]*\$\$?$/.test(t)) t = t.replace(/^\$\$?/, '').replace(/\$\$?$/, '').trim();
  t = t.replace(/[.。]\s*$/, '').trim();
  return t;
}

/** Last "The answer is ..." / "the final answer is ..." on its line, or null. */
export function lastAnswerIs(text: string): string | null {
  const s = text.length > MAX_SCAN ? text.slice(-MAX_SCAN) : text;
  const re = /(?:final answer|the answer)\s*(?:is|=)\s*:?\s*([^\n]*)/gi;
  let last: string | null = null;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const a = stripAnswerDecoration(m[1]);
    if (a) last = a;
  }
  if (last !== null) {
    const boxed = lastBoxed(last); // "The final answer is $\boxed{5}$" is handled by lastBoxed first anyway
    if (boxed !== null) return boxed;
  }
  return last;
}

/** GSM8K's `#### 1,234` -> "1234" (separators and a trailing period dropped), or null. */
export function lastHashes(text: string): string | null {
  const s = text.length > MAX_SCAN ? text.slice(-MAX_SCAN) : text;
  const re = /####\s*([^\n]*)/g;
  let last: string | null = null;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const a = stripAnswerDecoration(m[1]).replace(/^\\?\$/, '').trim();
    if (a) last = /^-?[\d,]+(\.\d+)?$/.test(a) ? a.replace(/,/g, '') : a;
  }
  return last;
}

/** Gold answer of a GSM8K solution (`... #### 72`), or null. */
export function goldFromGsm8k(solution: string): string | null {
  return lastHashes(solution);
}

/** Gold answer of a MATH solution (its last \boxed{}; "The answer is:" as a fallback), or null. */
export function goldFromMath(solution: string): string | null {
  return lastBoxed(solution) ?? lastAnswerIs(solution);
}
