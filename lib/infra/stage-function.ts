// One pipeline stage on AWS: an SQS queue with its dead-letter queue, a Node 24 arm64 Lambda
// bundled by the local esbuild, the SQS event source (partial batch failures, a concurrency cap),
// and alarms on DLQ depth and function errors. Grants: consume its own queue; everything else
// (send to next queues, S3 prefixes, the table, the secret) is granted by the stack.
import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Architecture, type ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat, type BundlingOptions, type ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ESBUILD_TARGET, LAMBDA_RUNTIME } from './node-runtime.ts';

/** How every function of the stack is bundled (the stage functions and the batch poller). */
export function functionBundling(externalModules: string[] = []): BundlingOptions {
  return {
    forceDockerBundling: false,
    format: OutputFormat.ESM,
    target: ESBUILD_TARGET,
    minify: true,
    sourceMap: true,
    mainFields: ['module', 'main'],
    // ESM bundles of CommonJS dependencies still call require()
    banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    // The AWS SDK is bundled too: the functions run the SDK version the tests ran, not
    // whichever one the Lambda runtime happens to ship. esbuild is external: it builds the report
    // page only outside Lambda (assemble's bundle carries the page prebuilt).
    externalModules: ['esbuild', ...externalModules],
  };
}

export interface StageFunctionProps {
  /** The stage name: also the handler file, functions/<entryName>.ts. */
  entryName: string;
  entry: string;
  memorySize: number;
  timeout: Duration;
  /** Messages per invocation (SQS batch size). */
  batchSize: number;
  /** Most concurrent invocations this stage may use (SQS event source maximum concurrency, >= 2). */
  maxConcurrency: number;
  /** Receives before a message moves to the DLQ. */
  maxReceiveCount?: number;
  environment?: Record<string, string>;
  layers?: ILayerVersion[];
  /** Modules left out of the bundle (provided by a layer or the runtime). */
  externalModules?: string[];
  commandHooks?: ICommandHooks;
  projectRoot: string;
  depsLockFilePath: string;
}

/** Lambda's own rule of thumb: the queue's visibility timeout is at least 6x the function timeout. */
export const VISIBILITY_FACTOR = 6;

export class StageFunction extends Construct {
  readonly queue: Queue;
  readonly dlq: Queue;
  readonly fn: NodejsFunction;
  readonly dlqAlarm: Alarm;
  readonly errorAlarm: Alarm;

  constructor(scope: Construct, id: string, props: StageFunctionProps) {
    super(scope, id);
    // AWS advises at least 5 receives for a Lambda event source (throttled polls count too).
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    this.dlq = new Queue(this, 'Dlq', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.dlq).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the stage queue.',
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.timeout.toSeconds() * VISIBILITY_FACTOR),
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: this.dlq, maxReceiveCount },
    });

    const logGroup = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH });
    this.fn = new NodejsFunction(this, 'Fn', {
      entry: props.entry,
      handler: 'handler',
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      logGroup,
      layers: props.layers,
      projectRoot: props.projectRoot,
      depsLockFilePath: props.depsLockFilePath,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: `caco-${props.entryName}`,
        POWERTOOLS_METRICS_NAMESPACE: 'Caco',
        CACO_STAGE: props.entryName,
        // The handler marks a run failed when a shard fails on its last receive (then the DLQ).
        CACO_MAX_RECEIVE_COUNT: String(maxReceiveCount),
        ...props.environment,
      },
      bundling: { ...functionBundling(props.externalModules), commandHooks: props.commandHooks },
    });
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 24 is the runtime this project targets and tests (the deployed bundles run under it in tests/lambda).',
    });

    this.queue.grantConsumeMessages(this.fn);
    this.fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: Math.max(2, props.maxConcurrency),
      }),
    );

    this.dlqAlarm = new Alarm(this, 'DlqDepth', {
      alarmDescription: `Messages of ${props.entryName} reached its dead-letter queue`,
      metric: this.dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.errorAlarm = new Alarm(this, 'Errors', {
      alarmDescription: `The ${props.entryName} function failed`,
      metric: this.fn.metricErrors({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
