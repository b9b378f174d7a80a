// Template tests of the CDK stack (aws-cdk-lib/assertions) and the cdk-nag AwsSolutions run.
// The stack is built once for the file, with asset bundling skipped (esbuild bundling of the six
// handlers is exercised by `cdk synth`, not here, to keep this file fast).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { bundleFiles, CacoStack, type CacoStackProps } from '../../lib/infra/caco-stack.ts';
import { SENDS_TO, STAGE_FUNCTIONS, QUEUE_OF } from '../../lib/infra/routing.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const layerDir = mkdtempSync(join(tmpdir(), 'layer-'));
import { writeFileSync } from 'node:fs';
writeFileSync(join(layerDir, 'manifest.json'), JSON.stringify({ node: process.versions.node }));

function build(extra: Partial<CacoStackProps> = {}, addToStack?: (s: Stack) => void) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, outdir: mkdtempSync(join(tmpdir(), 'cdk-')) });
  const stack = new CacoStack(app, 'CacoTest', {
    projectRoot,
    apiKeySecretName: 'caco/test-llm-key',
    llmMaxConcurrency: 7,
    llmCallsPerInvocation: 48,
    executeMaxConcurrency: 30,
    expireDays: 12,
    pyodideLayerDir: layerDir,
    ...extra,
  });
  addToStack?.(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

let t: Template;
let stack: CacoStack;
let fnIds: Record<string, string>;
let queueIds: Record<string, string>;
before(() => {
  ({ stack } = build());
  t = Template.fromStack(stack);
  fnIds = {};
  queueIds = {};
  for (const name of STAGE_FUNCTIONS) {
    fnIds[name] = stack.getLogicalId(stack.stages[name].fn.node.defaultChild as never);
    queueIds[name] = stack.getLogicalId(stack.stages[name].queue.node.defaultChild as never);
  }
});

const fnProps = (name: string) => t.toJSON().Resources[fnIds[name]!].Properties;

test('bucket: encrypted, TLS only, public access blocked, access logs, lifecycle rules', () => {
  const dataId = stack.getLogicalId(stack.bucket.node.defaultChild as never);
  const data = t.toJSON().Resources[dataId];
  assert.equal(data.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm, 'AES256');
  assert.deepEqual(data.Properties.PublicAccessBlockConfiguration, {
    BlockPublicAcls: true,
    BlockPublicPolicy: true,
    IgnorePublicAcls: true,
    RestrictPublicBuckets: true,
  });
  assert.ok(data.Properties.LoggingConfiguration.DestinationBucketName, 'server access logs');
  assert.equal(data.DeletionPolicy, 'Retain');
  const rules = data.Properties.LifecycleConfiguration.Rules;
  assert.deepEqual(rules.find((r: { Prefix?: string }) => r.Prefix === 'cache/').ExpirationInDays, 12);
  const rejected = rules.find((r: { TagFilters?: unknown }) => r.TagFilters);
  assert.deepEqual(rejected.TagFilters, [{ Key: 'caco-expire', Value: 'rejected' }]);
  assert.equal(rejected.ExpirationInDays, 12);
  assert.equal(rules.find((r: { AbortIncompleteMultipartUpload?: unknown }) => r.AbortIncompleteMultipartUpload).AbortIncompleteMultipartUpload.DaysAfterInitiation, 1);
  t.hasResourceProperties('AWS::S3::BucketPolicy', {
    Bucket: { Ref: dataId },
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]),
    },
  });
});

test('incoming/*.jsonl creations notify the ingest queue, which lets S3 send', () => {
  t.hasResourceProperties('Custom::S3BucketNotifications', {
    NotificationConfiguration: {
      QueueConfigurations: [
        {
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: Match.arrayWith([{ Name: 'suffix', Value: '.jsonl' }, { Name: 'prefix', Value: 'incoming/' }]) } },
          QueueArn: { 'Fn::GetAtt': [queueIds.ingest, 'Arn'] },
        },
      ],
    },
  });
  t.hasResourceProperties('AWS::SQS::QueuePolicy', {
    Queues: [{ Ref: queueIds.ingest }],
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: Match.arrayWith(['sqs:SendMessage']) }),
      ]),
    },
  });
});

test('every stage: queue + DLQ, visibility >= 6x timeout, Node 24 arm64, partial batch failures, concurrency cap', () => {
  const resources = t.toJSON().Resources;
  for (const name of STAGE_FUNCTIONS) {
    const fn = fnProps(name);
    assert.equal(fn.Runtime, 'nodejs24.x', name);
    assert.deepEqual(fn.Architectures, ['arm64'], name);
    const queue = resources[queueIds[name]!].Properties;
    assert.ok(queue.VisibilityTimeout >= 6 * fn.Timeout, `${name}: visibility ${queue.VisibilityTimeout} vs timeout ${fn.Timeout}`);
    assert.ok(queue.RedrivePolicy.maxReceiveCount >= 5, name); // AWS: at least 5 for Lambda event sources
    assert.equal(queue.SqsManagedSseEnabled, true, name);
    const dlqId = stack.getLogicalId(stack.stages[name].dlq.node.defaultChild as never);
    assert.deepEqual(queue.RedrivePolicy.deadLetterTargetArn, { 'Fn::GetAtt': [dlqId, 'Arn'] });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnIds[name] },
      EventSourceArn: { 'Fn::GetAtt': [queueIds[name], 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: Match.anyValue() },
    });
    // alarms on the DLQ depth and on function errors
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      Threshold: 1,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnIds[name] } }],
    });
  }
  t.resourceCountIs('AWS::Lambda::EventSourceMapping', 6);
  t.resourceCountIs('AWS::CloudWatch::Alarm', 12);
});

test('LLM stages: the user cap as max concurrency, small memory; execute: Pyodide layer and big memory', () => {
  for (const name of ['generate', 'backtranslate']) {
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: fnIds[name] }, ScalingConfig: { MaximumConcurrency: 7 } });
    assert.ok(fnProps(name).MemorySize <= 512);
    assert.equal(fnProps(name).Environment.Variables.CACO_LLM_CONCURRENCY, '48');
  }
  t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: fnIds.execute }, ScalingConfig: { MaximumConcurrency: 30 } });
  const exec = fnProps('execute');
  assert.ok(exec.MemorySize >= 3008);
  assert.equal(exec.Environment.Variables.CACO_PYODIDE_DIR, '/opt');
  const layerId = Object.keys(t.findResources('AWS::Lambda::LayerVersion'))[0]!;
  assert.deepEqual(exec.Layers, [{ Ref: layerId }]);
  t.hasResourceProperties('AWS::Lambda::LayerVersion', { CompatibleArchitectures: ['arm64'], CompatibleRuntimes: ['nodejs24.x'] });
  for (const name of ['ingest', 'filter', 'assemble', 'generate']) assert.equal(fnProps(name).Layers, undefined, name);
});

test('table: on demand, pk/sk, point-in-time recovery, TTL, retained', () => {
  t.hasResource('AWS::DynamoDB::Table', {
    DeletionPolicy: 'Retain',
    Properties: {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    },
  });
});

/** The IAM statements attached to a function's role. */
function statementsOf(name: string): Array<{ Action: string | string[]; Resource: unknown }> {
  const roleRef = fnProps(name).Role['Fn::GetAtt'][0];
  const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleRef),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
}
const actionsOf = (s: { Action: string | string[] }) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

test('least privilege: each function sends only to its next queues; only LLM functions read the secret', () => {
  for (const name of STAGE_FUNCTIONS) {
    const stmts = statementsOf(name);
    const sendTargets = stmts
      .filter((s) => actionsOf(s).includes('sqs:SendMessage'))
      .map((s) => (s.Resource as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0])
      .sort();
    const expected = [...new Set(SENDS_TO[name].map((st) => queueIds[QUEUE_OF[st]]!))].sort();
    assert.deepEqual(sendTargets, expected, `${name} sends to`);
    const consumes = stmts.filter((s) => actionsOf(s).includes('sqs:ReceiveMessage'));
    assert.deepEqual(
      consumes.map((s) => (s.Resource as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]),
      [queueIds[name]],
      `${name} consumes only its own queue`,
    );
    const readsSecret = stmts.some((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'));
    assert.equal(readsSecret, name === 'generate' || name === 'backtranslate', `${name} secret access`);
    const env = fnProps(name).Environment.Variables;
    if (readsSecret) assert.equal(env.CACO_API_KEY_SECRET, 'caco/test-llm-key');
    else assert.equal(env.CACO_API_KEY_SECRET, undefined);
    // S3 access is limited to key prefixes, never the whole bucket's objects
    const s3Objects = stmts
      .filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')))
      .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]))
      .map((r) => JSON.stringify(r));
    assert.ok(s3Objects.every((r) => !r.endsWith('"/*"]]}')), `${name}: no bucket-wide object wildcard`);
    assert.equal(s3Objects.some((r) => r.includes('/incoming/*')), name === 'ingest', `${name} incoming/ access`);
  }
});

test('global LLM limits: the LLM functions may claim rate windows (conditional UpdateItem) in the stack\'s table, which expires them by TTL', () => {
  const tableId = stack.getLogicalId(stack.table.node.defaultChild as never);
  for (const name of ['generate', 'backtranslate']) {
    const env = fnProps(name).Environment.Variables;
    assert.deepEqual(env.CACO_TABLE, { Ref: tableId }, `${name}: the table the rate store writes`);
    const updates = statementsOf(name).filter(
      (s) => actionsOf(s).includes('dynamodb:UpdateItem') && JSON.stringify(s.Resource).includes(tableId),
    );
    assert.ok(updates.length > 0, `${name}: dynamodb:UpdateItem on the table`);
  }
  t.hasResourceProperties('AWS::DynamoDB::Table', { TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } });
});

test('no API key in plain text: env holds only the secret name', () => {
  const json = JSON.stringify(t.toJSON());
  assert.ok(!/sk-[A-Za-z0-9]{10,}/.test(json));
  for (const name of STAGE_FUNCTIONS) {
    const env = fnProps(name).Environment.Variables;
    assert.ok(!Object.keys(env).some((k) => /API_KEY$/.test(k)), `${name}: no *_API_KEY variable`);
  }
});

test('outputs: bucket, table and every queue URL', () => {
  const outputs = t.toJSON().Outputs;
  assert.ok(outputs.BucketName && outputs.TableName);
  for (const name of STAGE_FUNCTIONS) {
    const key = `QueueUrl${name[0]!.toUpperCase()}${name.slice(1)}`;
    assert.deepEqual(outputs[key].Value, { Ref: queueIds[name] }, key);
  }
});

test('cdk-nag AwsSolutions: zero unacknowledged findings; every acknowledgement has a reason', () => {
  const { app } = build();
  assert.doesNotThrow(() => app.synth());
  const acks = app.node
    .findAll()
    .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
    .flatMap((m) => Object.values(m.data as Record<string, string>));
  assert.ok(acks.length >= 10);
  for (const reason of acks) assert.ok(typeof reason === 'string' && reason.length > 20, `reason: ${reason}`);
});

test('cdk-nag is live: an unencrypted queue without a DLQ fails the synth', () => {
  const { app } = build({}, (s) => new Queue(s, 'Careless'));
  assert.throws(() => app.synth(), /Validation failed/);
});

test('a missing Pyodide layer fails with a clear message', () => {
  assert.throws(() => build({ pyodideLayerDir: join(layerDir, 'nope') }), /Pyodide layer is not built.*npm run layer/);
});

test('bundles carry the files the code reads beside itself (decontam data; sandbox child for execute; the report page for assemble)', () => {
  const exec = bundleFiles(projectRoot, true).afterBundling('/in', '/out');
  const other = bundleFiles(projectRoot, false).afterBundling('/in', '/out');
  assert.deepEqual(other, [`cp -r "${join(projectRoot, 'lib/decontam/data')}" "/out/data"`]);
  assert.deepEqual(exec, [...other, `cp -r "${join(projectRoot, 'lib/sandbox/child')}" "/out/child"`]);
  const assemble = bundleFiles(projectRoot, false, true).afterBundling('/in', '/out');
  assert.deepEqual(assemble.slice(0, other.length), other);
  assert.match(assemble.join('\n'), /esbuild" ".*lib\/report\/page\/main\.ts" --bundle .*--outfile="\/out\/report-page\/page\.js"/);
  assert.match(assemble.join('\n'), /cp ".*lib\/report\/page\/style\.css" "\/out\/report-page\/style\.css"/);
});

test('a Pyodide layer built by another Node major than the functions run is refused', () => {
  const old = mkdtempSync(join(tmpdir(), 'layer-'));
  writeFileSync(join(old, 'manifest.json'), JSON.stringify({ node: '20.20.2' }));
  assert.throws(() => build({ pyodideLayerDir: old }), /built with Node 20\.20\.2; the functions run Node 24/);
  writeFileSync(join(old, 'manifest.json'), '{}');
  assert.throws(() => build({ pyodideLayerDir: old }), /older layer/);
});

test('batch mode: a rule invokes the batch poller every minute; it sends only to the LLM stages\' queues and reads the secret', () => {
  const pollerId = stack.getLogicalId(stack.batchPoller.fn.node.defaultChild as never);
  t.hasResourceProperties('AWS::Events::Rule', {
    ScheduleExpression: 'rate(1 minute)',
    Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [pollerId, 'Arn'] } })]),
  });
  const props = t.toJSON().Resources[pollerId].Properties;
  assert.ok(props.Timeout < 60, 'a poll ends before the next tick');
  const policies = Object.values(t.toJSON().Resources as Record<string, any>).filter(
    (r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => JSON.stringify(x).includes(stack.getLogicalId(stack.batchPoller.fn.role!.node.defaultChild as never))),
  );
  const stmts = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as any[]);
  const actions = (s: any) => (Array.isArray(s.Action) ? s.Action : [s.Action]) as string[];
  const sendTargets = stmts.filter((s) => actions(s).includes('sqs:SendMessage')).map((s) => s.Resource['Fn::GetAtt'][0]).sort();
  assert.deepEqual(sendTargets, [queueIds.generate, queueIds.backtranslate].sort());
  assert.ok(stmts.some((s) => actions(s).includes('secretsmanager:GetSecretValue')));
  assert.ok(!stmts.some((s) => actions(s).includes('sqs:ReceiveMessage')), 'the poller consumes no queue');
  const queues = JSON.parse(JSON.stringify(props.Environment.Variables.CACO_QUEUES));
  assert.match(JSON.stringify(queues), /unify/);
  assert.match(JSON.stringify(queues), /backtranslate/);
});
