// A child process of the multi-process race test: opens the shared SQLite dedup file, waits for
// the common start time, then claims one member of each of `groups` duplicate groups in order, so
// every group's first claim races against the other workers. Prints its answers as JSON.
// argv: <dbPath> <runId> <startAtMs> <workerNo> <groups>
import { SqliteDedupIndex } from '../../lib/store/sqlite-dedup-index.ts';
import { randomSignature, variant } from './dedup-index.contract.ts';

const [dbPath, runId, startAt, worker, groups] = process.argv.slice(2);
const ix = new SqliteDedupIndex(dbPath, { threshold: 0.85, bands: 16 });
while (Date.now() < Number(startAt)) {
  // spin briefly so all workers start together
}
const near: Record<string, string | null> = {};
const exact: Record<string, string> = {};
for (let g = 0; g < Number(groups); g++) {
  const id = `g${g}-w${worker}`;
  const signature = variant(randomSignature(1000 + g), 5, Number(worker) + 1, (Number(worker) * 31) % 128);
  const [n] = ix.claimSync(runId, [{ id, hash: null, signature }]);
  near[id] = n!.kind === 'kept' ? null : n!.of;
  const [e] = ix.claimSync(runId, [{ id, hash: `hash-${g}`, signature: null }]);
  exact[id] = e!.kind === 'kept' ? id : e!.of;
}
ix.close();
process.stdout.write(JSON.stringify({ near, exact }));
