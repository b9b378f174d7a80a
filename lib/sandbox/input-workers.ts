// How many sandbox processes `caco execute` starts when --workers is not given: the machine's
// cores, but no more than the input has programs (a one-program input boots one interpreter, not
// one per core competing with it for the CPU). Node builtins only: bin/caco.ts calls it before
// the CLI loads, to prestart the children.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Inputs up to this size are counted; a larger one gets a worker per core. */
const COUNT_BELOW_BYTES = 1 << 20;

export function workersForInput(input: string, cores = availableParallelism()): number {
  try {
    const size = statSync(input).size;
    if (size >= COUNT_BELOW_BYTES) return cores;
    const buf = Buffer.alloc(size);
    const fd = openSync(input, 'r');
    try {
      readSync(fd, buf, 0, size, 0);
    } finally {
      closeSync(fd);
    }
    const lines = buf.toString('utf8').split('\n').filter((l) => l.trim()).length;
    return Math.max(1, Math.min(cores, lines));
  } catch {
    return cores; // unreadable here: the command reports it
  }
}
