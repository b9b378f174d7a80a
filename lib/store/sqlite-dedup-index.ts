// The DedupIndex port on one SQLite file (better-sqlite3, WAL). A shard's claims are one
// IMMEDIATE transaction (the write lock is taken before reading), so check-and-insert is atomic:
// several processes may open the same file and exactly one record of a duplicate group survives a
// race. Only survivors enter the near-duplicate LSH index, so a rejected record always names a
// kept one. Near-duplicate candidates are confirmed by exact Jaccard of stored shingle sets when
// both sides have them (lib/dedup/claims.ts), else by the MinHash estimate.
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { DEDUP_DEFAULTS } from '../codecot/filter-config.ts';
import { bandKeys, estimateJaccard } from '../dedup/minhash.ts';
import { shingleArray, sortedJaccard } from '../dedup/claims.ts';
import type { DedupClaim, DedupDecision, DedupIndex } from './ports.ts';

export interface SqliteDedupIndexOptions {
  /** Jaccard at or above which a claim is a near duplicate (default: the run config's). */
  threshold?: number;
  /** LSH bands; signatures must have a multiple of this many values (default: the run config's). */
  bands?: number;
  /** How long a claim waits for another process's write lock, in ms (default 60 s). */
  busyTimeoutMs?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS dedup_run (rid INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS dedup_exact (rid INTEGER NOT NULL, hash TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (rid, hash)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dedup_near_claim (rid INTEGER NOT NULL, id TEXT NOT NULL, dup_of TEXT, PRIMARY KEY (rid, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dedup_near_sig (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, sig BLOB NOT NULL, shingles BLOB);
CREATE TABLE IF NOT EXISTS dedup_near_band (rid INTEGER NOT NULL, band INTEGER NOT NULL, key INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (rid, band, key, seq)) WITHOUT ROWID;
`;

export class SqliteDedupIndex implements DedupIndex {
  readonly path: string;
  readonly threshold: number;
  readonly bands: number;
  private readonly db: Database.Database;
  private readonly runIds = new Map<string, number>();
  private readonly stmts;
  private readonly manyTx: (runId: string, claims: DedupClaim[]) => DedupDecision[];

  constructor(path: string, opts: SqliteDedupIndexOptions = {}) {
    this.path = path;
    this.threshold = opts.threshold ?? DEDUP_DEFAULTS.threshold;
    this.bands = opts.bands ?? DEDUP_DEFAULTS.bands;
    if (!(this.threshold > 0 && this.threshold <= 1)) throw new Error(`threshold must be in (0, 1], got ${this.threshold}`);
    this.db = new Database(path, { timeout: opts.busyTimeoutMs ?? 60_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('cache_size = -16384'); // 16 MiB of page cache: a bound, so memory stays flat as the file grows
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
      getSig: db.prepare('SELECT id, sig, shingles FROM dedup_near_sig WHERE seq = ?'),
      insertSig: db.prepare('INSERT INTO dedup_near_sig (id, sig, shingles) VALUES (?, ?, ?)'),
      insertBand: db.prepare('INSERT INTO dedup_near_band (rid, band, key, seq) VALUES (?, ?, ?, ?)'),
    };
    const many = db.transaction((runId: string, claims: DedupClaim[]) => this.claimManyLocked(runId, claims));
    this.manyTx = (runId, claims) => many.immediate(runId, claims);
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

  /** A shard's claims in order, in one transaction; a retried batch gets its first answers. */
  async claim(runId: string, claims: DedupClaim[]): Promise<DedupDecision[]> {
    return this.claimSync(runId, claims);
  }

  /** The synchronous form of claim (better-sqlite3 is synchronous; the port is async). */
  claimSync(runId: string, claims: DedupClaim[]): DedupDecision[] {
    for (const c of claims) if (c.signature) this.checkSignature(c.signature);
    this.rid(runId); // outside the write transaction: creating a run row commits on its own
    return this.manyTx(runId, claims);
  }

  private claimManyLocked(runId: string, claims: DedupClaim[]): DedupDecision[] {
    const rid = this.rid(runId);
    return claims.map((c): DedupDecision => {
      if (c.hash !== null) {
        this.stmts.insertExact.run(rid, c.hash, c.id);
        const owner = this.stmts.getExact.get(rid, c.hash) as string;
        if (owner !== c.id) return { kind: 'duplicate', of: owner };
      }
      if (c.signature !== null) {
        const of = this.claimNearLocked(rid, c.id, c.signature, c.shingles ? shingleArray(c.shingles) : null);
        if (of !== null) return { kind: 'near_duplicate', of };
      }
      return { kind: 'kept' };
    });
  }

  private checkSignature(signature: Uint32Array): void {
    if (signature.length === 0 || signature.length % this.bands !== 0) {
      throw new Error(`signature of ${signature.length} values is not a non-empty multiple of ${this.bands} bands`);
    }
  }

  /**
   * The near claim under the write lock. With `shingles` (sorted) and a candidate that stored its
   * own, the decision is exact Jaccard >= threshold; otherwise the MinHash estimate decides.
   */
  private claimNearLocked(rid: number, id: string, sig: Uint32Array, shingles: Uint32Array | null): string | null {
    const s = this.stmts;
    const prior = s.getClaim.get(rid, id) as { dup_of: string | null } | undefined;
    if (prior) return prior.dup_of; // a retry gets its first answer
    const keys = bandKeys(sig, this.bands);
    const seen = new Set<number>();
    let best: { id: string; j: number; seq: number } | null = null;
    for (let b = 0; b < keys.length; b++) {
      for (const seq of s.bandHits.all(rid, b, keys[b]) as number[]) {
        if (seen.has(seq)) continue;
        seen.add(seq);
        const row = s.getSig.get(seq) as { id: string; sig: Buffer; shingles: Buffer | null };
        const other = new Uint32Array(row.sig.buffer, row.sig.byteOffset, row.sig.byteLength / 4);
        if (other.length !== sig.length) continue;
        let j = estimateJaccard(sig, other);
        // Exact confirmation where both sides have shingles; an estimate 0.2 under the threshold is
        // more than 6 standard errors away, so those candidates are not worth the merge.
        if (shingles && row.shingles && j >= this.threshold - 0.2) {
          j = sortedJaccard(shingles, new Uint32Array(row.shingles.buffer, row.shingles.byteOffset, row.shingles.byteLength / 4));
        }
        if (j >= this.threshold && (best === null || j > best.j || (j === best.j && seq < best.seq))) best = { id: row.id, j, seq };
      }
    }
    const dupOf = best?.id ?? null;
    s.insertClaim.run(rid, id, dupOf);
    if (dupOf === null) {
      const shingleBytes = shingles ? Buffer.from(shingles.buffer, shingles.byteOffset, shingles.byteLength) : null;
      const seq = Number(s.insertSig.run(id, Buffer.from(sig.buffer, sig.byteOffset, sig.byteLength), shingleBytes).lastInsertRowid);
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
