// The options every AWS command shares: which deployment (a stack's outputs, or a bucket and a
// table) and how to reach it (--region, --endpoint for S3-compatible or local endpoints; the
// SDK's AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> variables work as well).
import type { Command } from 'commander';
import type { TargetOptions } from '../aws/remote.ts';

export interface AwsFlags {
  stack?: string;
  bucket?: string;
  table?: string;
  region?: string;
  endpoint?: string;
}

export const ENDPOINT_FLAG = '--endpoint <url>';
export const ENDPOINT_HELP = 'one endpoint for every AWS service (LocalStack, an S3-compatible store); per service: AWS_ENDPOINT_URL_S3, _DYNAMODB, _SQS';

/** Adds --stack (default `stackDefault`), --bucket, --table, --region and --endpoint. */
export function withAwsOptions(cmd: Command, stackDefault: string | undefined = 'Caco'): Command {
  return cmd
    .option('--stack <name>', 'the deployed stack (reads its outputs)', stackDefault)
    .option('--bucket <name>', 'data bucket (instead of the stack outputs)')
    .option('--table <name>', 'state table (instead of the stack outputs)')
    .option('--region <region>')
    .option(ENDPOINT_FLAG, ENDPOINT_HELP);
}

export function targetOptions(o: AwsFlags): TargetOptions {
  return { stack: o.stack, bucket: o.bucket, table: o.table, region: o.region, ...(o.endpoint ? { clientOptions: { endpoint: o.endpoint } } : {}) };
}
