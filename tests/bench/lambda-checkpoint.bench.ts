// The execute function at full scale in the Lambda environment (tests/lambda): one shard of 100
// programs that all hit a 10 s timeout, run twice (determinism rule), in the function's own 900 s
// timeout. Prints how many invocations the checkpoints took and how long each ran. Long (about
// 100 x 2 x 10 s over the pool's workers): run by hand, `npx tsx tests/bench/lambda-checkpoint.bench.ts`
// (root, like the Lambda environment test; CACO_LAMBDA_CDK_OUT=<cdk.out> reuses a synth).
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startAwsEmulators } from '../helpers/aws-emulators.ts';
import { keys } from '../../lib/pipeline/flow.ts';
import { checkIsolationAvailable } from '../lambda/lambda-environment.ts';
import { deploy, runtimeNode, seedExecuteShard, sqsEvent, synth } from '../lambda/deployed-stack.ts';

const programs = Number(process.env.PROGRAMS ?? 100);
const timeoutMs = Number(process.env.PROGRAM_TIMEOUT_MS ?? 10_000);
checkIsolationAvailable();
const emu = await startAwsEmulators();
const stack = await deploy(emu, synth(), runtimeNode(), 'bench');
try {
  const { runId, blobs, message } = await seedExecuteShard(
    emu,
    stack,
    Array.from({ length: programs }, (_, i) => ({ id: `loop${i}`, code: `i = ${i}\nwhile True:\n    pass` })),
    { sandbox: { timeoutMs } },
  );
  const env = stack.functions.execute;
  const rows: string[] = [];
  let body = message;
  const t0 = performance.now();
  for (let n = 1; ; n++) {
    const r = await env.invoke(sqsEvent(body));
    rows.push(`invocation ${n}: ${(r.durationMs / 1000).toFixed(1)} s${r.coldStart ? ' (cold)' : ''}${r.timedOut ? ' TIMED OUT' : ''}${r.ok ? '' : ' failed ' + JSON.stringify(r.body)}`);
    console.log(rows.at(-1));
    if (await blobs.get(keys.output(runId, 'execute', 'g00000'))) break;
    const got = await emu.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.queues.execute, MaxNumberOfMessages: 1 }));
    if (!got.Messages?.[0]) throw new Error('no checkpoint message: the shard did not finish and was not re-sent');
    body = got.Messages[0].Body!;
    await emu.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: stack.queues.execute, ReceiptHandle: got.Messages[0].ReceiptHandle! }));
    if (n > 20) throw new Error('more than 20 invocations');
  }
  const out = (await blobs.get(keys.output(runId, 'execute', 'g00000')))!.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const statuses = out.map((r) => `${r.exec.status}/${r.rerun?.status}`);
  console.log(`${programs} programs x ${timeoutMs / 1000} s timeout x 2 runs, function timeout ${stack.specs.execute.timeoutMs / 1000} s: ` +
    `${rows.length} invocations, ${((performance.now() - t0) / 1000).toFixed(0)} s in all, ${statuses.filter((s) => s === 'timeout/timeout').length}/${out.length} timed out twice; ` +
    `timeouts of the function: ${env.stats.timeouts}; peak ${Math.round(env.stats.peakMb)} MB of ${stack.specs.execute.memoryMb} MB`);
} finally {
  await stack.close();
  await emu.stop();
}
