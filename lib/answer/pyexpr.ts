// A small Pratt parser for Python/SymPy arithmetic text (`sqrt(2)/2`, `Fraction(3, 4)`,
// `x**2 + 2*x + 1`, `(6-5j)`, `Rational(1, 3)*pi`) producing MathJSON for the compute engine.
// It only builds a tree; evaluation and comparison happen in the compute engine.

export type MathJson = number | string | { num: string } | MathJson[];

const FUNCS: Record<string, string> = {
  sqrt: 'Sqrt', exp: 'Exp', log: 'Ln', ln: 'Ln', sin: 'Sin', cos: 'Cos', tan: 'Tan', cot: 'Cot',
  sec: 'Sec', csc: 'Csc', asin: 'Arcsin', acos: 'Arccos', atan: 'Arctan', Abs: 'Abs', abs: 'Abs',
  factorial: 'Factorial', sinh: 'Sinh', cosh: 'Cosh', tanh: 'Tanh', floor: 'Floor', ceiling: 'Ceil',
};
const CONSTS: Record<string, MathJson> = {
  pi: 'Pi', E: 'ExponentialE', I: 'ImaginaryUnit', oo: 'PositiveInfinity', inf: 'PositiveInfinity',
  nan: 'NaN', zoo: 'ComplexInfinity',
};

type Tok = { t: 'num' | 'name' | 'op'; v: string };

function tokenize(s: string): Tok[] | null {
  const out: Tok[] = [];
  const re = /\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?[jJ]?|\.\d+(?:[eE][+-]?\d+)?[jJ]?)|([A-Za-z_][A-Za-z_0-9]*)|(\*\*|\/\/|[-+*/(),^]))/y;
  let i = 0;
  while (i < s.length) {
    if (/\s/.test(s[i])) {
      i++;
      continue;
    }
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) return null;
    if (m[1] !== undefined) out.push({ t: 'num', v: m[1] });
    else if (m[2] !== undefined) out.push({ t: 'name', v: m[2] });
    else out.push({ t: 'op', v: m[3] });
    i = re.lastIndex;
  }
  return out;
}

function numberJson(v: string): MathJson {
  if (/[jJ]$/.test(v)) return ['Complex', 0, numberJson(v.slice(0, -1)) as number];
  if (/^\d+$/.test(v)) return v.length <= 15 ? Number(v) : { num: v };
  // decimal literal: keep the text so nothing is rounded before the comparison decides
  return Number(v);
}

/** Parses Python arithmetic text to MathJSON, or null when it is not such text. */
export function parsePythonExpr(src: string): MathJson | null {
  if (src.length > 2000) return null;
  const maybe = tokenize(src);
  if (!maybe || maybe.length === 0) return null;
  const toks: Tok[] = maybe;
  let p = 0;
  const peek = () => toks[p];
  const isOp = (v: string) => peek()?.t === 'op' && peek().v === v;
  const expect = (v: string) => {
    if (!isOp(v)) throw new Error(`expected ${v}`);
    p++;
  };
  const BP: Record<string, number> = { '+': 10, '-': 10, '*': 20, '/': 20, '//': 20, '**': 40, '^': 40 };

  function prefix(): MathJson {
    const tk = toks[p++];
    if (!tk) throw new Error('unexpected end');
    if (tk.t === 'num') return numberJson(tk.v);
    if (tk.t === 'op') {
      if (tk.v === '-') return ['Negate', expr(30)];
      if (tk.v === '+') return expr(30);
      if (tk.v === '(') {
        const e = expr(0);
        expect(')');
        return e;
      }
      throw new Error(`unexpected ${tk.v}`);
    }
    const name = tk.v;
    if (isOp('(')) {
      p++;
      const args: MathJson[] = [];
      if (!isOp(')')) {
        for (;;) {
          // drop keyword arguments such as evaluate=False
          if (peek()?.t === 'name' && toks[p + 1]?.t === 'op' && toks[p + 1].v === '=') throw new Error('kwargs');
          args.push(expr(0));
          if (isOp(',')) {
            p++;
            continue;
          }
          break;
        }
      }
      expect(')');
      if ((name === 'Fraction' || name === 'Rational') && args.length === 2) return ['Divide', args[0], args[1]];
      if ((name === 'Fraction' || name === 'Rational' || name === 'Integer' || name === 'Float' || name === 'int' || name === 'float') && args.length === 1)
        return args[0];
      if (name === 'Mul') return ['Multiply', ...args];
      if (name === 'Add') return ['Add', ...args];
      if (name === 'Pow' && args.length === 2) return ['Power', args[0], args[1]];
      if (name === 'complex' && args.length === 2) return ['Add', args[0], ['Multiply', args[1], 'ImaginaryUnit']];
      if (name === 'root' && args.length === 2) return ['Root', args[0], args[1]];
      if (name === 'log' && args.length === 2) return ['Log', args[0], args[1]];
      const f = FUNCS[name];
      if (!f || args.length !== 1) throw new Error(`unknown function ${name}`);
      return [f, args[0]];
    }
    if (name in CONSTS) return CONSTS[name];
    if (name === 'True' || name === 'False' || name === 'None') throw new Error('not arithmetic');
    return name.length === 1 || /^[a-zA-Z]+$/.test(name) ? name : `${name}`;
  }

  function expr(minBp: number): MathJson {
    let lhs = prefix();
    for (;;) {
      const tk = peek();
      if (!tk || tk.t !== 'op' || !(tk.v in BP)) break;
      const bp = BP[tk.v];
      if (bp < minBp || (bp === minBp && tk.v !== '**' && tk.v !== '^')) break;
      p++;
      // ** is right-associative and binds tighter than unary minus on its left
      const rhs = tk.v === '**' || tk.v === '^' ? expr(bp) : expr(bp + 1);
      if (tk.v === '+') lhs = ['Add', lhs, rhs];
      else if (tk.v === '-') lhs = ['Subtract', lhs, rhs];
      else if (tk.v === '*') lhs = ['Multiply', lhs, rhs];
      else if (tk.v === '/') lhs = ['Divide', lhs, rhs];
      else if (tk.v === '//') lhs = ['Floor', ['Divide', lhs, rhs]];
      else lhs = ['Power', lhs, rhs];
    }
    return lhs;
  }

  try {
    const e = expr(0);
    if (p !== toks.length) return null;
    return e;
  } catch {
    return null;
  }
}

/** Does this text look like Python/SymPy rather than LaTeX? */
export function looksPythonic(s: string): boolean {
  if (s.includes('\\')) return false;
  return /\*\*|\*|\b(sqrt|Fraction|Rational|Integer|exp|log|pi|oo|Abs|factorial|I|E)\b|\d[jJ]\b/.test(s);
}
