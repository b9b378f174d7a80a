// A shard's dedup claims as two blobs, written once by the stage before the barrier and read by the
// partitions (lib/dedup/partitioned.ts): `keys` (per record: its exact hash and LSH band keys, ~160
// bytes, what every partition reads) and `data` (id, MinHash signature, shingles: ~1 KB per
// record, read only by a partition that has the record in a bucket of two or more).
//
// keys: u32 count, then per record: u8 flags (1 hash, 2 bands, 4 failed), [32-byte hash],
//       [u16 band count, f64 keys], [u16 length, utf8 reason of a failed claim]
// data: u32 count, then per record: u16 id length, id, u8 has hash, [32-byte hash], u32 signature
//       length (0xffffffff: none) and values, u32 shingle count (0xffffffff: none) and values.
// Little endian.
import type { DedupClaim } from '../store/ports.ts';

/** What the keys blob says of a record. */
export interface ClaimKeys {
  hash: string | null;
  bands: number[] | null;
  /** Why the record's claim could not be computed (it is failed by dedup, and claims nothing). */
  failed: string | null;
}

/** One record's claim, or why it could not be computed. */
export type ClaimOrFailure = { claim: DedupClaim; bands: number[] | null } | { failed: string; id: string };

const NONE = 0xffffffff;

export function encodeKeys(list: ClaimOrFailure[]): Buffer {
  const parts: Buffer[] = [u32(list.length)];
  for (const c of list) {
    if ('failed' in c) {
      const reason = Buffer.from(c.failed.slice(0, 2000));
      const b = Buffer.alloc(3);
      b.writeUInt8(4, 0);
      b.writeUInt16LE(reason.length, 1);
      parts.push(b, reason);
      continue;
    }
    const { claim, bands } = c;
    const hasHash = claim.hash !== null;
    parts.push(Buffer.from([(hasHash ? 1 : 0) | (bands ? 2 : 0)]));
    if (hasHash) {
      const h = Buffer.from(claim.hash!, 'hex');
      if (h.length !== 32) throw new Error(`exact hash of ${claim.id} is not 32 hex bytes`);
      parts.push(h);
    }
    if (bands) {
      const b = Buffer.alloc(2 + 8 * bands.length);
      b.writeUInt16LE(bands.length, 0);
      bands.forEach((k, i) => b.writeDoubleLE(k, 2 + 8 * i));
      parts.push(b);
    }
  }
  return Buffer.concat(parts);
}

export function decodeKeys(buf: Buffer): ClaimKeys[] {
  const n = buf.readUInt32LE(0);
  const out: ClaimKeys[] = [];
  let o = 4;
  for (let r = 0; r < n; r++) {
    const flags = buf.readUInt8(o++);
    if (flags & 4) {
      const len = buf.readUInt16LE(o);
      out.push({ hash: null, bands: null, failed: buf.toString('utf8', o + 2, o + 2 + len) });
      o += 2 + len;
      continue;
    }
    let hash: string | null = null;
    let bands: number[] | null = null;
    if (flags & 1) {
      hash = buf.toString('hex', o, o + 32);
      o += 32;
    }
    if (flags & 2) {
      const k = buf.readUInt16LE(o);
      bands = Array.from({ length: k }, (_, i) => buf.readDoubleLE(o + 2 + 8 * i));
      o += 2 + 8 * k;
    }
    out.push({ hash, bands, failed: null });
  }
  if (o !== buf.length) throw new Error(`dedup keys blob: ${buf.length - o} trailing bytes`);
  return out;
}

export function encodeData(list: ClaimOrFailure[]): Buffer {
  const parts: Buffer[] = [u32(list.length)];
  for (const c of list) {
    const id = Buffer.from('failed' in c ? c.id : c.claim.id);
    const head = Buffer.alloc(2);
    head.writeUInt16LE(id.length, 0);
    parts.push(head, id);
    const hash = 'failed' in c ? null : c.claim.hash;
    parts.push(Buffer.from([hash === null ? 0 : 1]));
    if (hash !== null) parts.push(Buffer.from(hash, 'hex'));
    const sig = 'failed' in c ? null : c.claim.signature;
    const sh = 'failed' in c ? null : (c.claim.shingles ?? null);
    parts.push(u32s(sig), u32s(sh));
  }
  return Buffer.concat(parts);
}

export function decodeData(buf: Buffer): DedupClaim[] {
  const n = buf.readUInt32LE(0);
  const out: DedupClaim[] = [];
  let o = 4;
  const read = (): Uint32Array | null => {
    const len = buf.readUInt32LE(o);
    o += 4;
    if (len === NONE) return null;
    const a = new Uint32Array(len);
    for (let i = 0; i < len; i++) a[i] = buf.readUInt32LE(o + 4 * i);
    o += 4 * len;
    return a;
  };
  for (let r = 0; r < n; r++) {
    const len = buf.readUInt16LE(o);
    const id = buf.toString('utf8', o + 2, o + 2 + len);
    o += 2 + len;
    let hash: string | null = null;
    if (buf.readUInt8(o++) === 1) {
      hash = buf.toString('hex', o, o + 32);
      o += 32;
    }
    const signature = read();
    const shingles = read();
    out.push({ id, hash, signature, ...(shingles ? { shingles } : {}) });
  }
  if (o !== buf.length) throw new Error(`dedup data blob: ${buf.length - o} trailing bytes`);
  return out;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}

function u32s(a: Uint32Array | null): Buffer {
  if (!a) return u32(NONE);
  const b = Buffer.alloc(4 + 4 * a.length);
  b.writeUInt32LE(a.length, 0);
  a.forEach((v, i) => b.writeUInt32LE(v, 4 + 4 * i));
  return b;
}
