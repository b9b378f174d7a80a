// The DedupIndex port on one SQLite file (better-sqlite3, WAL). Several processes may open the
// same file: each claim is one IMMEDIATE transaction (the write lock is taken before reading), so
// check-and-insert is atomic and exactly one record of a duplicate group survives a race.
// Only survivors enter the near-duplicate LSH index, so a rejected record always names a kept one.
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import type { DedupIndex } from './ports.ts';
import { bandKeys, estimateJaccard } from '../dedup/minhash.ts';

export interface SqliteDedupIndexOptions {
  /** Estimated Jaccard at or above which claimNear reports a duplicate (default 0.85). */
  threshold?: number;
  /** LSH bands; signatures must have a multiple of this many values (default 16). */
  bands?: number;
  /** How long a claim waits for another process's write lock, in ms (default 60 s). */
  busyTimeoutMs?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS dedup_run (rid INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS dedup_exact (rid INTEGER NOT NULL, hash TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (rid, hash)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dedup_near_claim (rid INTEGER NOT NULL, id TEXT NOT NULL, dup_of TEXT, PRIMARY KEY (rid, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dedup_near_sig (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, sig BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS dedup_near_band (rid INTEGER NOT NULL, band INTEGER NOT NULL, key INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (rid, band, key, seq)) WITHOUT ROWID;
`;

export class SqliteDedupIndex implements DedupIndex {
  readonly path: string;
  readonly threshold: number;
  readonly bands: number;
  private readonly db: Database.Database;
  private readonly runIds = new Map<string, number>();
  private readonly stmts;
  private readonly nearTx: (runId: string, id: string, sig: Uint32Array) => string | null;

  constructor(path: string, opts: SqliteDedupIndexOptions = {}) {
    this.path = path;
    this.threshold = opts.threshold ?? 0.85;
    this.bands = opts.bands ?? 16;
    if (!(this.threshold > 0 && this.threshold <= 1)) throw new Error(`threshold must be in (0, 1], got ${this.threshold}`);
    this.db = new Database(path, { timeout: opts.busyTimeoutMs ?? 60_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    const db = this.db;
    this.stmts = {
      insertRun: db.prepare('INSERT OR IGNORE INTO dedup_run (run_id) VALUES (?)'),
      getRun: db.prepare('SELECT rid FROM dedup_run WHERE run_id = ?').pluck(),
      insertExact: db.prepare('INSERT OR IGNORE INTO dedup_exact (rid, hash, id) VALUES (?, ?, ?)'),
      getExact: db.prepare('SELECT id FROM dedup_exact WHERE rid = ? AND hash = ?').pluck(),
      getClaim: db.prepare('SELECT dup_of FROM dedup_near_claim WHERE rid = ? AND id = ?'),
      insertClaim: db.prepare('INSERT INTO dedup_near_claim (rid, id, dup_of) VALUES (?, ?, ?)'),
      bandHits: db.prepare('SELECT seq FROM dedup_near_band WHERE rid = ? AND band = ? AND key = ?').pluck(),
      getSig: db.prepare('SELECT id, sig FROM dedup_near_sig WHERE seq = ?'),
      insertSig: db.prepare('INSERT INTO dedup_near_sig (id, sig) VALUES (?, ?)'),
      insertBand: db.prepare('INSERT INTO dedup_near_band (rid, band, key, seq) VALUES (?, ?, ?, ?)'),
    };
    const tx = db.transaction((runId: string, id: string, sig: Uint32Array) => this.claimNearLocked(runId, id, sig));
    this.nearTx = (runId, id, sig) => tx.immediate(runId, id, sig);
  }

  private rid(runId: string): number {
    let rid = this.runIds.get(runId);
    if (rid === undefined) {
      this.stmts.insertRun.run(runId);
      rid = this.stmts.getRun.get(runId) as number;
      this.runIds.set(runId, rid);
    }
    return rid;
  }

  async claimExact(runId: string, hash: string, id: string): Promise<string> {
    return this.claimExactSync(runId, hash, id);
  }

  /** The synchronous form of claimExact (better-sqlite3 is synchronous; the port is async). */
  claimExactSync(runId: string, hash: string, id: string): string {
    const rid = this.rid(runId);
    // INSERT OR IGNORE is atomic on its own, and an owner never changes once written.
    this.stmts.insertExact.run(rid, hash, id);
    return this.stmts.getExact.get(rid, hash) as string;
  }

  async claimNear(runId: string, id: string, signature: Uint32Array): Promise<string | null> {
    return this.claimNearSync(runId, id, signature);
  }

  claimNearSync(runId: string, id: string, signature: Uint32Array): string | null {
    if (signature.length === 0 || signature.length % this.bands !== 0) {
      throw new Error(`signature of ${signature.length} values is not a non-empty multiple of ${this.bands} bands`);
    }
    this.rid(runId); // outside the write transaction: creating a run row commits on its own
    return this.nearTx(runId, id, signature);
  }

  private claimNearLocked(runId: string, id: string, sig: Uint32Array): string | null {
    const s = this.stmts;
    const rid = this.rid(runId);
    const prior = s.getClaim.get(rid, id) as { dup_of: string | null } | undefined;
    if (prior) return prior.dup_of; // a retry gets its first answer
    const keys = bandKeys(sig, this.bands);
    const seen = new Set<number>();
    let best: { id: string; j: number; seq: number } | null = null;
    for (let b = 0; b < keys.length; b++) {
      for (const seq of s.bandHits.all(rid, b, keys[b]) as number[]) {
        if (seen.has(seq)) continue;
        seen.add(seq);
        const row = s.getSig.get(seq) as { id: string; sig: Buffer };
        const other = new Uint32Array(row.sig.buffer, row.sig.byteOffset, row.sig.byteLength / 4);
        if (other.length !== sig.length) continue;
        const j = estimateJaccard(sig, other);
        if (j >= this.threshold && (best === null || j > best.j || (j === best.j && seq < best.seq))) best = { id: row.id, j, seq };
      }
    }
    const dupOf = best?.id ?? null;
    s.insertClaim.run(rid, id, dupOf);
    if (dupOf === null) {
      const seq = Number(s.insertSig.run(id, Buffer.from(sig.buffer, sig.byteOffset, sig.byteLength)).lastInsertRowid);
      for (let b = 0; b < keys.length; b++) s.insertBand.run(rid, b, keys[b], seq);
    }
    return dupOf;
  }

  /** Bytes on disk of the database file and its WAL. */
  sizeBytes(): number {
    let total = 0;
    for (const suffix of ['', '-wal']) {
      try {
        total += statSync(this.path + suffix).size;
      } catch {
        // no WAL yet
      }
    }
    return total;
  }

  /** Folds the WAL back into the main file (call at quiet points; the bench does before measuring). */
  checkpoint(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    this.db.close();
  }
}
