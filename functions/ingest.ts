// The ingest Lambda: S3 drops into incoming/*.jsonl (via the ingest queue) start runs.
import { makeIngestHandler } from '../lib/aws/handlers.ts';

export const handler = makeIngestHandler();
