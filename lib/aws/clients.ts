// AWS SDK clients for the adapters. In Lambda the SDK finds region and credentials itself; against
// local emulators (tests, `--endpoint`) we pass an endpoint and fixed credentials.
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

export interface ClientOptions {
  region?: string;
  /** One endpoint for every service (`--endpoint`: LocalStack, an S3-compatible store). */
  endpoint?: string;
  /** Per-service endpoints (emulators). Absent: the real AWS endpoints. */
  endpoints?: { s3?: string; dynamodb?: string; sqs?: string };
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface AwsClients {
  s3: S3Client;
  dynamo: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
}

/**
 * The endpoint of a service: an explicit per-service one, else the single `endpoint`. Without
 * either the SDK resolves it itself, AWS_ENDPOINT_URL_<SERVICE> and AWS_ENDPOINT_URL included.
 */
function endpointOf(opts: ClientOptions, service: 's3' | 'dynamodb' | 'sqs'): string | undefined {
  return opts.endpoints?.[service] ?? opts.endpoint;
}

/** True when S3 is reached at a custom endpoint (flag or env): such stores want path-style URLs. */
function customS3(opts: ClientOptions, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(endpointOf(opts, 's3') ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL);
}

export function makeClients(opts: ClientOptions = {}): AwsClients {
  const region = opts.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const base = { region, ...(opts.credentials ? { credentials: opts.credentials } : {}) };
  const at = (service: 's3' | 'dynamodb' | 'sqs') => {
    const endpoint = endpointOf(opts, service);
    return endpoint ? { endpoint } : {};
  };
  const s3 = new S3Client({ ...base, ...at('s3'), ...(customS3(opts) ? { forcePathStyle: true } : {}) });
  const dynamo = new DynamoDBClient({ ...base, ...at('dynamodb') });
  const doc = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
  const sqs = new SQSClient({ ...base, ...at('sqs') });
  return { s3, dynamo, doc, sqs };
}
