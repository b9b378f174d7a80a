# Writes sandbox-corpus.jsonl: Caco-format programs in the shapes real Code CoTs take (arithmetic,
# loops, fractions, combinatorics, recursion, SymPy, big ints, collections with Counter.most_common,
# string work, random with text and int seeds, dataclasses, itertools, math/statistics/decimal,
# some failing). Deterministic: rerun to
# regenerate. `python3 tests/bench/corpus/make-corpus.py`. Also writes sandbox-warmup.jsonl: the
# same templates with other parameters, used by the bench to warm the pool on programs it then
# does not see again.
import json, os, random, sys

SEED, NAME = (2025, 'sandbox-corpus.jsonl') if len(sys.argv) < 2 else (int(sys.argv[1]), sys.argv[2])
rng = random.Random(SEED)
T = []

def add(kind, code):
    T.append({'id': f'{kind}-{len(T):03d}', 'kind': kind, 'code': code.strip() + '\n'})

for i in range(20):
    a, b, c = rng.randint(5, 90), rng.randint(1, 20), rng.randint(2, 9)
    add('arith', f'''
input = {{"apples": {a}, "eaten": {b}, "friends": {c}}}
def solve(apples, eaten, friends):
    # Step 1: apples left after eating
    left = apples - eaten
    # Step 2: share equally among friends
    share = left / friends
    # Step 3: round to two decimals
    return round(share, 2)
output = solve(**input)
print(output)
''')
for i in range(20):
    n, m = rng.randint(10, 400), rng.randint(2, 7)
    add('loop', f'''
input = {{"n": {n}, "m": {m}}}
def solve(n, m):
    # Step 1: sum the numbers up to n divisible by m but not by m + 1
    total = 0
    for k in range(1, n + 1):
        if k % m == 0 and k % (m + 1) != 0:
            total += k
    # Step 2: the answer is the total
    return total
output = solve(**input)
print(output)
''')
for i in range(20):
    n = rng.randint(3, 30)
    add('fraction', f'''
from fractions import Fraction
input = {{"n": {n}}}
def solve(n):
    # Step 1: add the unit fractions 1/(k(k+1)) exactly
    total = Fraction(0)
    for k in range(1, n + 1):
        total += Fraction(1, k * (k + 1))
    # Step 2: add one third of the harmonic-like tail
    total += Fraction(1, 3) * Fraction(n, n + 2)
    return total
output = solve(**input)
print(output)
''')
for i in range(20):
    n, k = rng.randint(5, 30), rng.randint(1, 5)
    add('combinatorics', f'''
import math
from itertools import combinations
input = {{"n": {n}, "k": {k}}}
def solve(n, k):
    # Step 1: ways to choose k items from n
    ways = math.comb(n, k)
    # Step 2: count the k-subsets of range(n) whose sum is even (brute force for small n)
    even = sum(1 for c in combinations(range(min(n, 14)), min(k, 4)) if sum(c) % 2 == 0)
    # Step 3: combine
    return ways + even
output = solve(**input)
print(output)
''')
for i in range(20):
    n = rng.randint(10, 90)
    add('recursion', f'''
from functools import lru_cache
input = {{"n": {n}}}
@lru_cache(maxsize=None)
def fib(k):
    # Step 1: the recurrence
    return k if k < 2 else fib(k - 1) + fib(k - 2)
def solve(n):
    # Step 2: the n-th Fibonacci number modulo 1000007 plus the digit count
    f = fib(n)
    return (f % 1000007, len(str(f)))
output = solve(**input)
print(output)
''')
for i in range(20):
    n = rng.randint(50, 3000)
    add('primes', f'''
input = {{"limit": {n}}}
def solve(limit):
    # Step 1: sieve of Eratosthenes
    sieve = [True] * (limit + 1)
    sieve[0] = sieve[1] = False
    for p in range(2, int(limit ** 0.5) + 1):
        if sieve[p]:
            for q in range(p * p, limit + 1, p):
                sieve[q] = False
    # Step 2: count primes and take the largest
    primes = [i for i, is_p in enumerate(sieve) if is_p]
    return {{"count": len(primes), "largest": primes[-1]}}
output = solve(**input)
print(output)
''')
for i in range(20):
    a, b, c = rng.randint(1, 5), rng.randint(-20, 20), rng.randint(-30, 30)
    add('sympy-solve', f'''
import sympy
input = {{"a": {a}, "b": {b}, "c": {c}}}
def solve(a, b, c):
    # Step 1: the quadratic equation
    x = sympy.Symbol("x")
    roots = sympy.solve(a * x**2 + b * x + c, x)
    # Step 2: the sum of the roots (Vieta) as an exact number
    return sympy.nsimplify(sum(roots))
output = solve(**input)
print(output)
''')
for i in range(20):
    p, q = rng.randint(2, 6), rng.randint(1, 9)
    add('sympy-calc', f'''
from sympy import symbols, integrate, expand, Rational, diff
input = {{"p": {p}, "q": {q}}}
def solve(p, q):
    # Step 1: expand (x + q)^p
    x = symbols("x")
    poly = expand((x + q) ** p)
    # Step 2: integrate from 0 to 1 and differentiate once
    area = integrate(poly, (x, 0, 1))
    slope = diff(poly, x).subs(x, Rational(1, 2))
    return area + slope
output = solve(**input)
print(output)
''')
for i in range(15):
    price, pct = rng.randint(10, 500), rng.choice([5, 12.5, 15, 20, 33])
    add('percent', f'''
input = {{"price": {price}, "discount_percent": {pct}}}
def solve(price, discount_percent):
    # Step 1: the discount in money
    discount = price * discount_percent / 100
    # Step 2: the new price
    return price - discount
output = solve(**input)
print(output)
''')
for i in range(15):
    n = rng.randint(20, 120)
    add('bigint', f'''
import math
input = {{"n": {n}}}
def solve(n):
    # Step 1: n factorial and 2 to the n
    f = math.factorial(n)
    # Step 2: their gcd and the digit sum of the factorial
    return (math.gcd(f, 2 ** n), sum(int(d) for d in str(f)), f)
output = solve(**input)
print(output[:2])
''')
for i in range(10):
    s = rng.randint(0, 1000)
    add('seeded-random', f'''
import random
input = {{"seed": {s}, "trials": 200}}
def solve(seed, trials):
    # Step 1: a seeded simulation is reproducible
    random.seed(seed)
    hits = sum(1 for _ in range(trials) if random.random() < 0.3)
    # Step 2: the empirical rate
    return hits / trials
output = solve(**input)
print(output)
''')
for i in range(10):
    a, b = rng.randint(10, 99), rng.randint(10, 99)
    add('stdout-only', f'''
def main():
    # Step 1: the least common multiple of {a} and {b}
    import math
    l = {a} * {b} // math.gcd({a}, {b})
    # Step 2: report it
    print("LCM:", l)
main()
''')
WORDS = ['apple', 'banana', 'cherry', 'kiwi', 'mango', 'pear', 'plum', 'grape', 'lemon', 'peach']
for i in range(20):
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 30))]
    n = rng.randint(1, 4)
    add('collections', f"""
from collections import Counter, defaultdict, deque
input = {{"words": {words!r}, "top": {n}}}
def solve(words, top):
    # Step 1: count each word and keep the most common ones
    counts = Counter(words)
    common = counts.most_common(top)
    # Step 2: group words by their first letter
    groups = defaultdict(list)
    for w in sorted(set(words)):
        groups[w[0]].append(w)
    # Step 3: a rotating queue of the distinct words
    q = deque(sorted(counts))
    q.rotate(top)
    return {{"common": common, "groups": dict(groups), "first": q[0]}}
output = solve(**input)
print(output)
""")
for i in range(20):
    text = ' '.join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
    add('string', f"""
input = {{"text": {text!r}}}
def solve(text):
    # Step 1: words, capitalised and reversed
    words = text.split()
    title = " ".join(w.capitalize() for w in reversed(words))
    # Step 2: vowel count and the longest palindrome-free word
    vowels = sum(1 for ch in text if ch in "aeiou")
    longest = max(words, key=len)
    # Step 3: a formatted summary
    return f"{{title}} | vowels={{vowels}} | longest={{longest.upper()}} | {{text.count('a')}} a's"
output = solve(**input)
print(output)
""")
for i in range(20):
    seed = rng.choice(['"dice"', '"cards-%d"' % i, str(rng.randint(0, 99)), '"lottery"'])
    k = rng.randint(3, 8)
    add('random-seeded', f"""
import random
input = {{"seed": {seed}, "k": {k}}}
def solve(seed, k):
    # Step 1: a reproducible draw (string seeds hash with SHA-512)
    random.seed(seed)
    deck = list(range(1, 53))
    random.shuffle(deck)
    hand = sorted(deck[:k])
    # Step 2: a few dice rolls and a weighted choice
    rolls = [random.randint(1, 6) for _ in range(k)]
    pick = random.choices(["red", "green", "blue"], weights=[1, 2, 3], k=2)
    return {{"hand": hand, "rolls": rolls, "pick": pick, "sample": random.sample(range(100), 3)}}
output = solve(**input)
print(output)
""")
for i in range(20):
    items = [(rng.choice(WORDS), rng.randint(1, 20), round(rng.uniform(0.5, 9.5), 2)) for _ in range(rng.randint(2, 6))]
    add('dataclasses', f"""
from dataclasses import dataclass, field
input = {{"items": {items!r}}}
@dataclass(order=True)
class Item:
    # A line of a shopping list
    name: str
    qty: int
    price: float
    tags: list = field(default_factory=list)
    def total(self):
        return round(self.qty * self.price, 2)
def solve(items):
    # Step 1: build the items and sort them
    objs = sorted(Item(*t) for t in items)
    # Step 2: the bill
    return {{"cheapest": objs[0].name, "bill": round(sum(o.total() for o in objs), 2)}}
output = solve(**input)
print(output)
""")
for i in range(20):
    n, r = rng.randint(4, 7), rng.randint(2, 3)
    add('itertools', f"""
import itertools, operator
input = {{"n": {n}, "r": {r}}}
def solve(n, r):
    # Step 1: permutations whose first element is the largest
    perms = sum(1 for p in itertools.permutations(range(n), r) if p[0] == max(p))
    # Step 2: running products and grouped digits
    acc = list(itertools.accumulate(range(1, n + 1), operator.mul))
    groups = [(k, len(list(g))) for k, g in itertools.groupby(sorted(str(acc[-1])))]
    # Step 3: pairs from a product that sum to n
    pairs = [p for p in itertools.product(range(n), repeat=2) if sum(p) == n]
    return (perms, acc[-1], groups, len(pairs))
output = solve(**input)
print(output)
""")
for i in range(20):
    n, d = rng.randint(2, 99), rng.randint(20, 60)
    add('math', f"""
import math, statistics
from decimal import Decimal, getcontext
input = {{"n": {n}, "digits": {d}}}
def solve(n, digits):
    # Step 1: geometry and number theory with math
    hyp = math.hypot(n, n + 1)
    lcm = math.lcm(*range(1, n % 12 + 2))
    # Step 2: statistics of the divisors
    divisors = [k for k in range(1, n + 1) if n % k == 0]
    mean = statistics.mean(divisors)
    # Step 3: a square root to many digits
    getcontext().prec = digits
    root = Decimal(n).sqrt()
    return (round(hyp, 6), lcm, mean, str(root)[:12])
output = solve(**input)
print(output)
""")
for i in range(10):
    n = rng.randint(200, 900)
    add('recursion-deep', f"""
import sys
sys.setrecursionlimit(10000)
input = {{"n": {n}}}
def depth(k):
    # Step 1: a plain recursion deeper than the default limit
    return 0 if k == 0 else 1 + depth(k - 1)
def solve(n):
    # Step 2: combine with a memo-free recursive sum of digits
    def digits(m):
        return m if m < 10 else digits(sum(int(c) for c in str(m)))
    return (depth(n), digits(2 ** n))
output = solve(**input)
print(output)
""")
failing = [
    ('zero-division', 'input = {{"a": {a}}}\ndef solve(a):\n    # Step 1: divide by zero by mistake\n    return a / (a - a)\noutput = solve(**input)\nprint(output)'),
    ('name-error', 'input = {{"a": {a}}}\ndef solve(a):\n    # Step 1: use an undefined name\n    return a + undefined_total\noutput = solve(**input)\nprint(output)'),
    ('key-error', 'input = {{"a": {a}}}\ndef solve(a):\n    # Step 1: read a missing key\n    return input["b"] * a\noutput = solve(**input)\nprint(output)'),
    ('syntax-error', 'input = {{"a": {a}}}\ndef solve(a)\n    return a\noutput = solve(**input)'),
    ('numpy', 'import numpy as np\ninput = {{"a": {a}}}\ndef solve(a):\n    # Step 1: numpy is not available in the sandbox\n    return int(np.sum(np.arange(a)))\noutput = solve(**input)\nprint(output)'),
]
for i in range(20):
    kind, tpl = failing[i % len(failing)]
    add(kind, tpl.format(a=rng.randint(1, 50)))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), NAME)
with open(out, 'w') as f:
    for t in T:
        f.write(json.dumps(t) + '\n')
print(len(T), 'programs ->', out)
if len(sys.argv) < 2:
    import subprocess
    subprocess.run([sys.executable, __file__, '7', 'sandbox-warmup.jsonl'], check=True)
