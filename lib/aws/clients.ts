// AWS SDK clients for the adapters. In Lambda the SDK finds region and credentials itself; against
// local emulators (tests, `--endpoint`) we pass an endpoint and fixed credentials.
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

export interface ClientOptions {
  region?: string;
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

export function makeClients(opts: ClientOptions = {}): AwsClients {
  const region = opts.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const base = { region, ...(opts.credentials ? { credentials: opts.credentials } : {}) };
  const s3 = new S3Client({
    ...base,
    ...(opts.endpoints?.s3 ? { endpoint: opts.endpoints.s3, forcePathStyle: true } : {}),
  });
  const dynamo = new DynamoDBClient({ ...base, ...(opts.endpoints?.dynamodb ? { endpoint: opts.endpoints.dynamodb } : {}) });
  const doc = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
  const sqs = new SQSClient({ ...base, ...(opts.endpoints?.sqs ? { endpoint: opts.endpoints.sqs } : {}) });
  return { s3, dynamo, doc, sqs };
}
