// Counts the AWS requests a process makes, by billing class, through an SDK middleware on each
// client: what the cost model needs (S3 PUT-class and GET-class requests, SQS requests, DynamoDB
// read and write request units). DynamoDB is billed per request unit, not per request: a
// BatchWriteItem of 25 items is 25+ write units, an item over 1 KB written costs one unit per KB.
// So every DynamoDB request asks for ReturnConsumedCapacity=TOTAL and the meter adds the units
// the service reports (dynalite computes them the same way); a request that reports none (a failed
// conditional write, an error) counts as one unit, as DynamoDB bills it.
import type { AwsClients } from './clients.ts';

export type MeterKey = 's3Put' | 's3Get' | 'sqsRequests' | 'ddbWrite' | 'ddbRead';
export type Meter = Record<MeterKey, number>;

export const emptyMeter = (): Meter => ({ s3Put: 0, s3Get: 0, sqsRequests: 0, ddbWrite: 0, ddbRead: 0 });

const S3_GET_CLASS = new Set(['GetObjectCommand', 'HeadObjectCommand', 'GetObjectTaggingCommand']);
const DDB_READ = new Set(['GetItemCommand', 'GetCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand', 'BatchGetCommand', 'DescribeTableCommand']);

/** DynamoDB commands that report the capacity they consumed. */
const CAPACITY_COMMANDS = new Set([
  'GetItemCommand', 'GetCommand', 'PutItemCommand', 'PutCommand', 'UpdateItemCommand', 'UpdateCommand',
  'DeleteItemCommand', 'DeleteCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand', 'BatchGetCommand',
  'BatchWriteItemCommand', 'BatchWriteCommand',
]);
type Capacity = { CapacityUnits?: number };

export function classify(service: 's3' | 'sqs' | 'dynamodb', command: string): MeterKey {
  if (service === 's3') return S3_GET_CLASS.has(command) ? 's3Get' : 's3Put'; // LIST, PUT, COPY, POST: PUT class
  if (service === 'sqs') return 'sqsRequests';
  return DDB_READ.has(command) ? 'ddbRead' : 'ddbWrite';
}

export class RequestMeter {
  readonly totals: Meter = emptyMeter();

  /** Adds the counting middleware to the clients (once per client). */
  attach(clients: Pick<AwsClients, 's3' | 'sqs' | 'dynamo'>): this {
    const add = (service: 's3' | 'sqs' | 'dynamodb', stack: { add: Function }) =>
      stack.add(
        (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
          const command = context.commandName ?? '';
          const kind = classify(service, command);
          if (service !== 'dynamodb' || !CAPACITY_COMMANDS.has(command)) {
            this.totals[kind]++;
            return next(args);
          }
          const input = (args as { input: Record<string, unknown> }).input;
          input.ReturnConsumedCapacity ??= 'TOTAL';
          let units = 0;
          try {
            const res = (await next(args)) as { output?: { ConsumedCapacity?: Capacity | Capacity[] } };
            const cc = res.output?.ConsumedCapacity;
            units = (Array.isArray(cc) ? cc : cc ? [cc] : []).reduce((a, c) => a + (c.CapacityUnits ?? 0), 0);
            return res;
          } finally {
            this.totals[kind] += units > 0 ? units : 1;
          }
        },
        { step: 'initialize', name: `cacoRequestMeter-${service}` },
      );
    add('s3', clients.s3.middlewareStack);
    add('sqs', clients.sqs.middlewareStack);
    // The document client sends through the base client, so one middleware counts both.
    add('dynamodb', clients.dynamo.middlewareStack);
    return this;
  }

  snapshot(): Meter {
    return { ...this.totals };
  }

  /** Requests made since `before` (a snapshot). */
  since(before: Meter): Meter {
    const out = emptyMeter();
    for (const k of Object.keys(out) as MeterKey[]) out[k] = this.totals[k] - before[k];
    return out;
  }
}
