// The execute Lambda: shard messages through the runner, programs run in the Pyodide sandbox pool
// (runtime from the layer at $CACO_PYODIDE_DIR). Only this function bundles the sandbox.
// First: the sandbox children start booting Pyodide at init, while the handler's modules load and
// the first invocation reads its shard; the first pool adopts them.
import '../lib/sandbox/prestart-at-load.ts';
import { takePrestartedSandbox } from '../lib/sandbox/launch.ts';
import { makeShardHandler } from '../lib/aws/handlers.ts';
import { createSandboxPool } from '../lib/sandbox/pool.ts';

export const handler = makeShardHandler({
  sandbox: async (cfg) => {
    const pool = await createSandboxPool(cfg.sandbox, { prestarted: takePrestartedSandbox() });
    const { workers, startMs } = pool.stats();
    console.log(JSON.stringify({ level: 'INFO', message: 'sandbox pool ready', workers, startMs: Math.round(startMs) }));
    return pool;
  },
});
