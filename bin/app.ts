// The CDK app: `npx cdk synth` (offline, no credentials). Settings come from context, e.g.
//   npx cdk deploy -c caco:apiKeySecretName=caco/llm -c caco:llmMaxConcurrency=20
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { fileURLToPath } from 'node:url';
import { CacoStack } from '../lib/infra/caco-stack.ts';

const app = new App();
const ctx = (key: string, fallback: string) => String(app.node.tryGetContext(`caco:${key}`) ?? fallback);
new CacoStack(app, ctx('stackName', 'Caco'), {
  projectRoot: fileURLToPath(new URL('..', import.meta.url)),
  apiKeySecretName: ctx('apiKeySecretName', 'caco/llm-api-key'),
  llmMaxConcurrency: Number(ctx('llmMaxConcurrency', '10')),
  llmCallsPerInvocation: Number(ctx('llmCallsPerInvocation', '64')),
  executeMaxConcurrency: Number(ctx('executeMaxConcurrency', '50')),
  expireDays: Number(ctx('expireDays', '30')),
});
// cdk-nag 3: findings fail the synth; every accepted finding is acknowledged with a reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
