// `npm run layer [-- --wheels DIR] [--out DIR] [--force]`: assembles the Pyodide layer (runtime +
// SymPy/mpmath as .pyc) into layers/pyodide/dist (or --out). Idempotent: fast when up to date.
import { buildLayer, layerDir } from '../../lib/sandbox/layer.ts';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const manifest = await buildLayer({
  outDir: opt('--out') ?? layerDir(),
  wheels: opt('--wheels'),
  force: args.includes('--force'),
  log: (m) => console.error(m),
});
console.log(JSON.stringify(manifest));
