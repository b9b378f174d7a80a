// The batch store on the local run's SQLite state file (one table beside runs, shards and queue).
import type Database from 'better-sqlite3';
import type { BatchRound, BatchStore, RoundKey, RoundState } from './store.ts';

export class SqliteBatchStore implements BatchStore {
  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS llm_batches (
      run_id TEXT NOT NULL, stage TEXT NOT NULL, shard TEXT NOT NULL, round INTEGER NOT NULL,
      state TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (run_id, stage, shard, round));
      CREATE INDEX IF NOT EXISTS llm_batches_open ON llm_batches (state, run_id);`);
  }

  private get(k: RoundKey): BatchRound | null {
    const row = this.db
      .prepare('SELECT body FROM llm_batches WHERE run_id = ? AND stage = ? AND shard = ? AND round = ?')
      .get(k.runId, k.stage, k.shard, k.round) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as BatchRound) : null;
  }

  private write(r: BatchRound): void {
    this.db
      .prepare('INSERT OR REPLACE INTO llm_batches (run_id, stage, shard, round, state, body) VALUES (?, ?, ?, ?, ?, ?)')
      .run(r.runId, r.stage, r.shard, r.round, r.state, JSON.stringify(r));
  }

  async rounds(runId: string, stage: string, shard: string): Promise<BatchRound[]> {
    const rows = this.db
      .prepare('SELECT body FROM llm_batches WHERE run_id = ? AND stage = ? AND shard = ? ORDER BY round')
      .all(runId, stage, shard) as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as BatchRound);
  }

  async claim(key: RoundKey, owner: string, nowMs: number, staleMs: number, takeOver?: (holder: string) => boolean): Promise<BatchRound | null> {
    return this.db
      .transaction(() => {
        const cur = this.get(key);
        if (cur && (cur.state !== 'claimed' || (nowMs - cur.claimedAt < staleMs && !takeOver?.(cur.owner)))) return null;
        const r: BatchRound = cur ? { ...cur, owner, claimedAt: nowMs } : { ...key, state: 'claimed', owner, claimedAt: nowMs, planned: 0, parts: [] };
        this.write(r);
        return r;
      })
      .immediate();
  }

  async transition(round: BatchRound, from: RoundState[]): Promise<boolean> {
    return this.db
      .transaction(() => {
        const cur = this.get(round);
        if (!cur || !from.includes(cur.state)) return false;
        this.write(round);
        return true;
      })
      .immediate();
  }

  async listOpen(runId?: string): Promise<BatchRound[]> {
    const rows = (
      runId
        ? this.db.prepare("SELECT body FROM llm_batches WHERE state IN ('claimed', 'submitted') AND run_id = ? ORDER BY stage, shard, round").all(runId)
        : this.db.prepare("SELECT body FROM llm_batches WHERE state IN ('claimed', 'submitted') ORDER BY run_id, stage, shard, round").all()
    ) as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as BatchRound);
  }
}
