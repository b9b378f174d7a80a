// The execute Lambda: shard messages through the runner, programs run in the Pyodide sandbox pool
// (runtime from the layer at $CACO_PYODIDE_DIR). Only this function bundles the sandbox.
import { makeShardHandler } from '../lib/aws/handlers.ts';
import { createSandboxPool } from '../lib/sandbox/pool.ts';

export const handler = makeShardHandler({
  sandbox: async (cfg) => {
    const pool = await createSandboxPool(cfg.sandbox);
    const { workers, startMs } = pool.stats();
    console.log(JSON.stringify({ level: 'INFO', message: 'sandbox pool ready', workers, startMs: Math.round(startMs) }));
    return pool;
  },
});
