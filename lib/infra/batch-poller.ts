// Batch mode on AWS: the poller function and the schedule that invokes it every minute. While a
// shard's batch works at the provider, no function runs for it; each tick checks every open batch
// of every run in one invocation (one DynamoDB query when nothing is open) and sends the shard
// message of each round that ended to its stage's queue. Why a rule every minute rather than a
// Step Functions wait/poll loop per shard: one call serves all open batches (26k shards at the
// paper's scale would be 26k state machines polling), the cost is fixed (~43k short invocations a
// month) and a missed tick is simply the next one. Batches take minutes to hours: a minute of
// latency is noise.
import { Duration, Validations } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LAMBDA_RUNTIME } from './node-runtime.ts';
import { functionBundling } from './stage-function.ts';

export interface BatchPollerProps {
  entry: string;
  projectRoot: string;
  depsLockFilePath: string;
  environment: Record<string, string>;
}

export class BatchPoller extends Construct {
  readonly fn: NodejsFunction;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: BatchPollerProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH });
    this.fn = new NodejsFunction(this, 'Fn', {
      entry: props.entry,
      handler: 'handler',
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      // Less than the tick: two polls never overlap for long (and overlapping polls are harmless).
      timeout: Duration.seconds(50),
      logGroup,
      projectRoot: props.projectRoot,
      depsLockFilePath: props.depsLockFilePath,
      environment: { NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_SERVICE_NAME: 'caco-batch-poller', CACO_STAGE: 'batch-poller', ...props.environment },
      bundling: functionBundling(),
    });
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 24 is the runtime this project targets and tests (the deployed bundles run under it in tests/lambda).',
    });
    this.rule = new Rule(this, 'EveryMinute', {
      description: 'Caco batch mode: check open LLM batches and resume the shards whose batches ended',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.fn, { retryAttempts: 0 })],
    });
  }
}
