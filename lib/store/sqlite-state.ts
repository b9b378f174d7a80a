// StateStore and a leased work queue on one SQLite file (better-sqlite3, WAL): the local
// transport. Shard records are first-write-wins, so a retried shard never double-counts; queue
// messages are leased, so a crashed runner's in-flight work comes back after its lease.
import Database from 'better-sqlite3';
import type { RunState, ShardMessage, ShardState, StageName, StateStore, WorkQueue } from './ports.ts';

export function openStateDb(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  db.exec(`
    CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, body TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS shards (
      run_id TEXT NOT NULL, stage TEXT NOT NULL, shard TEXT NOT NULL, body TEXT NOT NULL,
      PRIMARY KEY (run_id, stage, shard));
    CREATE TABLE IF NOT EXISTS queue (
      id INTEGER PRIMARY KEY AUTOINCREMENT, stage TEXT NOT NULL, body TEXT NOT NULL,
      visible_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
      dead INTEGER NOT NULL DEFAULT 0, last_error TEXT);
    CREATE INDEX IF NOT EXISTS queue_ready ON queue (dead, visible_at);
  `);
  return db;
}

export class SqliteStateStore implements StateStore {
  constructor(private readonly db: Database.Database) {}

  async createRun(run: RunState): Promise<boolean> {
    const r = this.db.prepare('INSERT OR IGNORE INTO runs (run_id, body) VALUES (?, ?)').run(run.runId, JSON.stringify(run));
    return r.changes === 1;
  }

  async getRun(runId: string): Promise<RunState | null> {
    const row = this.db.prepare('SELECT body FROM runs WHERE run_id = ?').get(runId) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as RunState) : null;
  }

  private update(runId: string, change: (run: RunState) => void): void {
    this.db.transaction(() => {
      const row = this.db.prepare('SELECT body FROM runs WHERE run_id = ?').get(runId) as { body: string } | undefined;
      if (!row) throw new Error(`no such run: ${runId}`);
      const run = JSON.parse(row.body) as RunState;
      change(run);
      this.db.prepare('UPDATE runs SET body = ? WHERE run_id = ?').run(JSON.stringify(run), runId);
    }).immediate();
  }

  async setRunStatus(runId: string, status: RunState['status']): Promise<void> {
    this.update(runId, (run) => {
      run.status = status;
    });
  }

  async setExpected(runId: string, branch: string, shards: number): Promise<void> {
    this.update(runId, (run) => {
      run.expected = { ...run.expected, [branch]: shards };
    });
  }

  async recordShard(state: ShardState, expected?: number): Promise<{ first: boolean; complete: boolean }> {
    return this.db
      .transaction(() => {
        const r = this.db
          .prepare('INSERT OR IGNORE INTO shards (run_id, stage, shard, body) VALUES (?, ?, ?, ?)')
          .run(state.runId, state.stage, state.shard, JSON.stringify(state));
        const { n } = this.db
          .prepare('SELECT count(*) AS n FROM shards WHERE run_id = ? AND stage = ?')
          .get(state.runId, state.stage) as { n: number };
        return { first: r.changes === 1, complete: expected !== undefined && n >= expected };
      })
      .immediate();
  }

  async getShard(runId: string, stage: StageName, shard: string): Promise<ShardState | null> {
    const row = this.db
      .prepare('SELECT body FROM shards WHERE run_id = ? AND stage = ? AND shard = ?')
      .get(runId, stage, shard) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as ShardState) : null;
  }

  async listShards(runId: string, stage?: StageName): Promise<ShardState[]> {
    const rows = (
      stage
        ? this.db.prepare('SELECT body FROM shards WHERE run_id = ? AND stage = ? ORDER BY shard').all(runId, stage)
        : this.db.prepare('SELECT body FROM shards WHERE run_id = ? ORDER BY stage, shard').all(runId)
    ) as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as ShardState);
  }
}

export interface LeasedMessage {
  receipt: number;
  msg: ShardMessage;
  attempts: number;
}

/** A work queue with leases and a dead-letter flag, like SQS with a redrive policy. */
export class SqliteWorkQueue implements WorkQueue {
  constructor(
    private readonly db: Database.Database,
    private readonly opts: { maxAttempts: number } = { maxAttempts: 5 },
  ) {}

  async send(msg: ShardMessage): Promise<void> {
    this.db.prepare('INSERT INTO queue (stage, body, visible_at) VALUES (?, ?, ?)').run(msg.stage, JSON.stringify(msg), 0);
  }

  async sendMany(msgs: ShardMessage[]): Promise<void> {
    const insert = this.db.prepare('INSERT INTO queue (stage, body, visible_at) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      for (const m of msgs) insert.run(m.stage, JSON.stringify(m), 0);
    })();
  }

  /** Leases up to `max` visible messages of the given stages for `leaseMs`. */
  receive(stages: readonly StageName[], max: number, leaseMs: number, now = Date.now()): LeasedMessage[] {
    if (stages.length === 0 || max <= 0) return [];
    return this.db
      .transaction(() => {
        const marks = stages.map(() => '?').join(',');
        const rows = this.db
          .prepare(
            `SELECT id, body, attempts FROM queue WHERE dead = 0 AND visible_at <= ? AND stage IN (${marks}) ORDER BY id LIMIT ?`,
          )
          .all(now, ...stages, max) as { id: number; body: string; attempts: number }[];
        const lease = this.db.prepare('UPDATE queue SET visible_at = ?, attempts = attempts + 1 WHERE id = ?');
        for (const r of rows) lease.run(now + leaseMs, r.id);
        return rows.map((r) => ({ receipt: r.id, msg: JSON.parse(r.body) as ShardMessage, attempts: r.attempts + 1 }));
      })
      .immediate();
  }

  ack(receipt: number): void {
    this.db.prepare('DELETE FROM queue WHERE id = ?').run(receipt);
  }

  /** Makes a failed message visible again after `delayMs`, or dead-letters it after maxAttempts. */
  nack(receipt: number, error: string, delayMs: number, now = Date.now()): 'retry' | 'dead' {
    const row = this.db.prepare('SELECT attempts FROM queue WHERE id = ?').get(receipt) as { attempts: number } | undefined;
    if (!row) return 'dead';
    const dead = row.attempts >= this.opts.maxAttempts;
    this.db
      .prepare('UPDATE queue SET visible_at = ?, dead = ?, last_error = ? WHERE id = ?')
      .run(now + delayMs, dead ? 1 : 0, error.slice(0, 2000), receipt);
    return dead ? 'dead' : 'retry';
  }

  /** After a crash nobody holds a lease: make every live message visible now. */
  releaseLeases(): number {
    return this.db.prepare('UPDATE queue SET visible_at = 0 WHERE dead = 0').run().changes;
  }

  pending(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM queue WHERE dead = 0').get() as { n: number }).n;
  }

  deadLetters(): { msg: ShardMessage; error: string | null; attempts: number }[] {
    const rows = this.db.prepare('SELECT body, last_error, attempts FROM queue WHERE dead = 1 ORDER BY id').all() as {
      body: string;
      last_error: string | null;
      attempts: number;
    }[];
    return rows.map((r) => ({ msg: JSON.parse(r.body) as ShardMessage, error: r.last_error, attempts: r.attempts }));
  }
}
