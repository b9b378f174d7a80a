// BlobStore on S3. Keys are used as given (the same keys as the local file store). S3 PUTs are
// atomic: a reader sees the old or the new object, never a mix.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { BlobStore } from '../store/ports.ts';

/**
 * Tag on rejected-record objects (runs/<id>/rejected/...): S3 lifecycle prefixes cannot contain a
 * wildcard, so the stack's lifecycle rule expires these objects by tag.
 */
export const EXPIRE_TAG = { key: 'caco-expire', value: 'rejected' };

export function isExpiringKey(key: string): boolean {
  return /^runs\/[^/]+\/rejected\//.test(key);
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

export class S3BlobStore implements BlobStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    /** Keys per ListObjectsV2 page (S3's default and maximum is 1,000; tests use a small one). */
    private readonly pageSize?: number,
  ) {}

  async get(key: string): Promise<Buffer | null> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return Buffer.from(await res.Body!.transformToByteArray());
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: typeof body === 'string' ? Buffer.from(body) : body,
        ContentType: key.endsWith('.json') ? 'application/json' : key.endsWith('.jsonl') ? 'application/x-ndjson' : undefined,
      }),
    );
    // A separate call rather than the x-amz-tagging header: s3rver ignores the header, and
    // rejected-record objects are one per shard, so the extra request costs nothing that matters.
    if (isExpiringKey(key)) {
      await this.s3.send(
        new PutObjectTaggingCommand({
          Bucket: this.bucket,
          Key: key,
          Tagging: { TagSet: [{ Key: EXPIRE_TAG.key, Value: EXPIRE_TAG.value }] },
        }),
      );
    }
  }

  async list(prefix: string): Promise<string[]> {
    // Pages with StartAfter (the last key seen) rather than ContinuationToken: same result on S3,
    // and s3rver's continuation tokens use DES, which Node's OpenSSL 3 no longer ships.
    const out: string[] = [];
    let startAfter: string | undefined;
    for (;;) {
      const res = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, StartAfter: startAfter, MaxKeys: this.pageSize }),
      );
      const page = (res.Contents ?? []).map((o) => o.Key!).filter(Boolean);
      out.push(...page);
      if (!res.IsTruncated || page.length === 0) break;
      startAfter = page[page.length - 1];
    }
    return out.sort();
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
