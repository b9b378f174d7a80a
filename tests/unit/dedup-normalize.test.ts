import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exactHash, normalizeTokens } from '../../lib/dedup/normalize.ts';

const ORIGINAL = `import math

def compute_area(radius, height):
    """Surface of a cylinder."""
    # the two caps
    caps = 2 * math.pi * radius ** 2
    side = 2 * math.pi * radius * height
    return round(caps + side, 2)

input = {"radius": 3, "height": 5}
output = compute_area(**input)
print(f"Area: {output}")
`;

// Same program: other names (keys too), comments, quotes, blank lines, spacing and line breaks.
const RENAMED = `import math
def area(r, h):
    caps = 2*math.pi*r**2   # top and bottom
    s = 2 * math.pi * r * h


    return round(caps + s,
                 2)
input = {'r': 3, 'h': 5}
output = area(**input)
print(f'Area: {output}')
`;

test('renamed, recommented and reformatted copies normalize to the same hash', () => {
  assert.deepEqual(normalizeTokens(RENAMED), normalizeTokens(ORIGINAL));
  assert.equal(exactHash(RENAMED), exactHash(ORIGINAL));
});

test('different logic, numbers, library calls or strings give different hashes', () => {
  const h = exactHash(ORIGINAL);
  assert.notEqual(exactHash(ORIGINAL.replace('caps + side', 'caps - side')), h);
  assert.notEqual(exactHash(ORIGINAL.replace('"radius": 3', '"radius": 4')), h);
  assert.notEqual(exactHash(ORIGINAL.replace('math.pi * radius * height', 'math.e * radius * height')), h);
  assert.notEqual(exactHash(ORIGINAL.replace('Area: ', 'Total: ')), h);
  // A string that is not the name of a renamed variable keeps its content.
  assert.notEqual(exactHash('print("yes")\n'), exactHash('print("no")\n'));
});

test('builtins, attributes and imported names keep their names; own names are canonical', () => {
  const toks = normalizeTokens('from fractions import Fraction\nvalues = sorted(Fraction(x) for x in data)\nvalues.append(1)\n');
  assert.ok(toks.includes('Fraction') && toks.includes('sorted') && toks.includes('append'));
  assert.ok(!toks.includes('values') && !toks.includes('data'));
  assert.equal(toks.filter((t) => t === 'v0').length, 2, 'values is v0 at both uses');
});

test('docstrings are dropped but other string statements are kept', () => {
  const a = 'def f():\n    """doc"""\n    return 1\n';
  const b = 'def f():\n    return 1\n';
  assert.equal(exactHash(a), exactHash(b));
  assert.notEqual(exactHash('def f():\n    x = "doc"\n    return 1\n'), exactHash(b));
});
