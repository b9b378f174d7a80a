// Text normalization for n-gram decontamination: both the benchmark build script and the run-time
// lookup use this one function, so a problem and its light rewording meet on the same tokens.

/**
 * Bump when `normalizeText` changes: the committed benchmark data file stores normalized text,
 * and the loader refuses a file built with another version (rerun lib/decontam/build-benchmarks.ts).
 */
export const NORMALIZER_VERSION = 1;

// Words are runs of letters; numbers are digit runs with an optional decimal part ("2.5").
const TOKEN = /\p{L}+|\p{N}+(?:\.\p{N}+)?/gu;
// A LaTeX control word such as \frac, \text, \left: dropped, its braced arguments stay as words.
const LATEX_COMMAND = /\\[a-zA-Z]+/g;
// Thousands separators inside numbers: 1,000,000 -> 1000000 (so "1,000" and "1000" agree).
const THOUSANDS = /(\d),(?=\d{3}(?!\d))/g;

/**
 * Lower-cased NFKC words and number tokens of `text`, in order. LaTeX commands, punctuation,
 * `$`, braces and operators are separators; "Janet's" gives "janet", "s" whichever apostrophe it uses.
 */
export function tokenize(text: string): string[] {
  const cleaned = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(LATEX_COMMAND, ' ')
    .replace(THOUSANDS, '$1');
  return cleaned.match(TOKEN) ?? [];
}

/** The normalized form of `text`: its tokens joined by single spaces. */
export function normalizeText(text: string): string {
  return tokenize(text).join(' ');
}
