# Writes sandbox-corpus.jsonl: Caco-format programs (arithmetic, loops, fractions, combinatorics,
# recursion, SymPy, decimals, big ints, seeded random, some failing). Deterministic: rerun to
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
