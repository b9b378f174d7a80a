// The whole deployment: a bucket (incoming/ drops start runs), one StageFunction per stage, one
// DynamoDB table, the LLM API key from Secrets Manager, alarms and outputs. See DESIGN.md.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type CfnElement, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Code, LayerVersion, Architecture } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, EventType, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { SqsDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { PK, SK, TTL_ATTRIBUTE } from '../aws/table.ts';
import { EXPIRE_TAG } from '../aws/s3-blob-store.ts';
import { CACO, sourceStage, stageOf, type PipelineSpec } from '../pipeline/spec.ts';
import { routingOf, type StageFunctionName } from './routing.ts';
import { StageFunction } from './stage-function.ts';
import { BatchPoller } from './batch-poller.ts';
import { LAMBDA_RUNTIME, NODE_MAJOR, nodeMajor } from './node-runtime.ts';
import { pageBuildCommands } from '../report/assets.ts';

export interface CacoStackProps extends StackProps {
  /** Repository root (entries are functions/<stage>.ts under it). */
  projectRoot: string;
  /** Secrets Manager secret NAME holding the LLM API key(s); only the name reaches the functions. */
  apiKeySecretName: string;
  /** Concurrent invocations of each LLM function (the user's cap, with llmCallsPerInvocation). */
  llmMaxConcurrency?: number;
  /** LLM calls one LLM invocation keeps in flight (cheap: the function mostly waits). */
  llmCallsPerInvocation?: number;
  /** Concurrent sandbox (execute) invocations. */
  executeMaxConcurrency?: number;
  /** Days before cache/ objects and rejected records expire. */
  expireDays?: number;
  /** The Pyodide layer folder (`npm run layer`). Default: layers/pyodide/dist. */
  pyodideLayerDir?: string;
  /** The pipeline whose stages become functions and queues (default: Caco's, lib/pipeline/spec.ts). */
  spec?: PipelineSpec;
}


interface StageSpec {
  memorySize: number;
  timeout: Duration;
  maxConcurrency: number;
}

export class CacoStack extends Stack {
  readonly bucket: Bucket;
  readonly table: Table;
  readonly stages: Record<StageFunctionName, StageFunction>;
  readonly batchPoller: BatchPoller;

  constructor(scope: Construct, id: string, props: CacoStackProps) {
    super(scope, id, props);
    const expireDays = props.expireDays ?? 30;
    const spec = props.spec ?? CACO;
    const sourceHost = stageOf(spec, sourceStage(spec)).host;
    const { functions: STAGE_FUNCTIONS, queueOf: QUEUE_OF, sendsTo: SENDS_TO, llmFunctions: LLM_FUNCTIONS, sandboxFunctions } = routingOf(spec);
    const llmMax = props.llmMaxConcurrency ?? 10;
    const layerDir = props.pyodideLayerDir ?? join(props.projectRoot, 'layers/pyodide/dist');
    if (!existsSync(join(layerDir, 'manifest.json'))) {
      throw new Error(`The Pyodide layer is not built (no ${join(layerDir, 'manifest.json')}): run \`npm run layer\` first.`);
    }
    // Its snapshot must come from the Node the functions run: a layer built elsewhere is refused.
    const builtWith = (JSON.parse(readFileSync(join(layerDir, 'manifest.json'), 'utf8')) as { node?: string }).node;
    if (!builtWith || nodeMajor(builtWith) !== NODE_MAJOR) {
      throw new Error(`The Pyodide layer in ${layerDir} was built with Node ${builtWith ?? '(unknown: an older layer)'}; the functions run Node ${NODE_MAJOR}: rebuild it with \`npm run layer\` under Node ${NODE_MAJOR}.`);
    }

    const accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket of the data bucket; logging it to itself would loop.',
    });

    this.bucket = new Bucket(this, 'Data', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'data/',
      // Datasets are the product: keep them if the stack is deleted.
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'expire-cache', prefix: 'cache/', expiration: Duration.days(expireDays) },
        { id: 'expire-rejected', tagFilters: { [EXPIRE_TAG.key]: EXPIRE_TAG.value }, expiration: Duration.days(expireDays) },
        { id: 'abort-multipart', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });

    this.table = new Table(this, 'State', {
      partitionKey: { name: PK, type: AttributeType.STRING },
      sortKey: { name: SK, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      // Run history outlives the stack; TTL cleans it up.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const layer = new LayerVersion(this, 'Pyodide', {
      code: Code.fromAsset(layerDir),
      compatibleArchitectures: [Architecture.ARM_64],
      compatibleRuntimes: [LAMBDA_RUNTIME],
      description: 'Pyodide runtime with SymPy/mpmath .pyc for the execute sandbox',
    });

    const sizes: Record<StageFunctionName, StageSpec> = {
      ingest: { memorySize: 1024, timeout: Duration.minutes(5), maxConcurrency: 5 },
      // LLM stages wait on the network: little memory, many calls in flight per invocation.
      generate: { memorySize: 512, timeout: Duration.minutes(15), maxConcurrency: llmMax },
      execute: { memorySize: 4096, timeout: Duration.minutes(15), maxConcurrency: props.executeMaxConcurrency ?? 50 },
      // filter also runs the dedup stage's partition tasks (lib/stages/dedup.ts): one reads every
      // shard's keys blob of the branch (53,000 at paper scale) and holds ~0.5-1.3 KB per record of
      // its partition (default 500k records: under 1 GB): 3008 MB, and 15 minutes for the reads.
      filter: { memorySize: 3008, timeout: Duration.minutes(15), maxConcurrency: 20 },
      backtranslate: { memorySize: 512, timeout: Duration.minutes(15), maxConcurrency: llmMax },
      // assemble runs in parallel steps (lib/pipeline/assemble.ts): a task compacts one Parquet part
      // (<= 100k rows or ~256 MB of row JSON held in memory while it is encoded), ~40-100 tasks at
      // paper scale; 20 at once keeps the S3 reads of a run's shards moderate.
      assemble: { memorySize: 2048, timeout: Duration.minutes(15), maxConcurrency: 20 },
    };
    // A function this file does not know (a stage added to the spec with a host of its own).
    const sizeOf = (name: string): StageSpec => sizes[name] ?? { memorySize: 1024, timeout: Duration.minutes(15), maxConcurrency: 10 };

    const secret = Secret.fromSecretNameV2(this, 'ApiKey', props.apiKeySecretName);
    const lockFile = join(props.projectRoot, 'package-lock.json');
    const stages = {} as Record<StageFunctionName, StageFunction>;
    for (const name of STAGE_FUNCTIONS) {
      const isLlm = LLM_FUNCTIONS.includes(name);
      const isExecute = sandboxFunctions.includes(name);
      stages[name] = new StageFunction(this, `${name[0]!.toUpperCase()}${name.slice(1)}`, {
        entryName: name,
        entry: join(props.projectRoot, 'functions', `${name}.ts`),
        projectRoot: props.projectRoot,
        depsLockFilePath: lockFile,
        batchSize: 1, // one shard per invocation: the time budget and checkpoints are per shard
        ...sizeOf(name),
        environment: {
          CACO_BUCKET: this.bucket.bucketName,
          CACO_TABLE: this.table.tableName,
          ...(isLlm
            ? { CACO_API_KEY_SECRET: props.apiKeySecretName, CACO_LLM_CONCURRENCY: String(props.llmCallsPerInvocation ?? 64) }
            : {}),
          ...(isExecute ? { CACO_PYODIDE_DIR: '/opt' } : {}),
        },
        layers: isExecute ? [layer] : undefined,
        commandHooks: bundleFiles(props.projectRoot, isExecute, name === 'assemble'),
      });
    }
    this.stages = stages;

    for (const name of STAGE_FUNCTIONS) {
      const fn = stages[name].fn;
      const targets = [...new Set(SENDS_TO[name].map((s) => QUEUE_OF[s]))];
      for (const t of targets) stages[t].queue.grantSendMessages(fn);
      fn.addEnvironment(
        'CACO_QUEUES',
        Stack.of(this).toJsonString(Object.fromEntries(SENDS_TO[name].map((s) => [s, stages[QUEUE_OF[s]].queue.queueUrl]))),
      );
      this.table.grantReadWriteData(fn);
      this.bucket.grantReadWrite(fn, 'runs/*');
      if (name === sourceHost) this.bucket.grantRead(fn, 'incoming/*');
      if (LLM_FUNCTIONS.includes(name)) {
        this.bucket.grantReadWrite(fn, 'cache/*');
        secret.grantRead(fn);
      }
    }
    // Batch mode: the poller resumes the LLM stages' shards whose batches ended.
    const llmStages = spec.stages.filter((s) => s.llmRoles?.length).map((s) => s.name);
    this.batchPoller = new BatchPoller(this, 'BatchPoller', {
      entry: join(props.projectRoot, 'functions', 'batch-poller.ts'),
      projectRoot: props.projectRoot,
      depsLockFilePath: lockFile,
      environment: {
        CACO_BUCKET: this.bucket.bucketName,
        CACO_TABLE: this.table.tableName,
        CACO_API_KEY_SECRET: props.apiKeySecretName,
        CACO_QUEUES: Stack.of(this).toJsonString(Object.fromEntries(llmStages.map((s) => [s, stages[QUEUE_OF[s]].queue.queueUrl]))),
      },
    });
    for (const t of new Set(llmStages.map((s) => QUEUE_OF[s]))) stages[t].queue.grantSendMessages(this.batchPoller.fn);
    this.table.grantReadWriteData(this.batchPoller.fn);
    this.bucket.grantRead(this.batchPoller.fn, 'runs/*'); // replayed batches' answers
    secret.grantRead(this.batchPoller.fn);
    this.acknowledgeScopedWildcards();

    this.bucket.addEventNotification(EventType.OBJECT_CREATED, new SqsDestination(stages[sourceHost]!.queue), {
      prefix: 'incoming/',
      suffix: '.jsonl',
    });
    // Every Lambda role here (the six stages and CDK's bucket-notifications custom resource).
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'AWSLambdaBasicExecutionRole only allows a function to write its own CloudWatch logs.',
    });

    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    for (const name of STAGE_FUNCTIONS) {
      new CfnOutput(this, `QueueUrl${name[0]!.toUpperCase()}${name.slice(1)}`, { value: stages[name].queue.queueUrl });
      new CfnOutput(this, `DlqUrl${name[0]!.toUpperCase()}${name.slice(1)}`, { value: stages[name].dlq.queueUrl });
    }
  }

  /**
   * The wildcards cdk-nag finds in the stage functions' policies, each named exactly: object keys
   * under one prefix of this bucket (run ids are dynamic) and the action groups CDK's bucket grants
   * use for those keys. Nothing else in the stack is allowed a wildcard.
   */
  private acknowledgeScopedWildcards(): void {
    const bucketArn = `<${this.getLogicalId(this.bucket.node.defaultChild as CfnElement)}.Arn>`;
    const findings: Record<string, string> = {
      'Action::s3:GetObject*': 'CDK bucket read grant (GetObject, GetObjectVersion...) on the prefixes below only.',
      'Action::s3:GetBucket*': 'CDK bucket read grant: bucket location/metadata, needed by the SDK for this bucket only.',
      'Action::s3:List*': 'Listing shard objects of a run (runs/<id>/...) in this bucket only.',
      'Action::s3:DeleteObject*': 'Stages delete their own checkpoints under runs/ in this bucket only.',
      'Action::s3:Abort*': 'Abort multipart uploads of large dataset files under runs/ in this bucket only.',
      [`Resource::${bucketArn}/runs/*`]: 'Run data: runs/<runId>/... keys; run ids are created at run time.',
      [`Resource::${bucketArn}/incoming/*`]: 'The ingest function reads dropped inputs and their configs.',
      [`Resource::${bucketArn}/cache/*`]: 'LLM response cache of the LLM functions (expires by lifecycle rule).',
    };
    for (const [finding, reason] of Object.entries(findings)) {
      Validations.of(this).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
  }
}

/**
 * Files the code reads next to itself (new URL('./x', import.meta.url)); in a bundle every module
 * shares the bundle's URL, so they are copied beside index.mjs: the decontamination n-gram data
 * (seed checks, back-translation), for execute the sandbox child scripts the pool syncs, and for
 * assemble the report page's script and style, built here because the Lambda has no esbuild.
 */
export function bundleFiles(projectRoot: string, sandbox: boolean, report = false) {
  const copies: Array<[string, string]> = [[join(projectRoot, 'lib/decontam/data'), 'data']];
  if (sandbox) copies.push([join(projectRoot, 'lib/sandbox/child'), 'child']);
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir: string, outputDir: string) => [
      ...copies.filter(([from]) => existsSync(from)).map(([from, to]) => `cp -r "${from}" "${outputDir}/${to}"`),
      ...(report ? pageBuildCommands(projectRoot, outputDir) : []),
    ],
  };
}
