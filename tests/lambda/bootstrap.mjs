// A small Lambda runtime client for Node (what /var/runtime holds on Lambda): loads the handler
// named by _HANDLER from LAMBDA_TASK_ROOT, then loops over the Runtime API: GET the next
// invocation, call the handler with the event and a context, POST its response or its error.
// Plain JavaScript on purpose: it runs under the stack's Node as it is, in the Lambda environment.
const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;
const post = (path, body) =>
  fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.arrayBuffer());
const errorBody = (e) => ({ errorType: e?.name ?? 'Error', errorMessage: String(e?.message ?? e), stackTrace: String(e?.stack ?? '').split('\n') });

let handler;
try {
  const [file, name] = process.env._HANDLER.split('.');
  handler = (await import(`${process.env.LAMBDA_TASK_ROOT}/${file}.mjs`))[name];
  if (typeof handler !== 'function') throw new Error(`${process.env._HANDLER} is not a function`);
} catch (e) {
  console.error(`init error: ${e?.stack ?? e}`);
  await post('/init/error', errorBody(e));
  process.exit(1);
}

for (;;) {
  const res = await fetch(`${api}/invocation/next`);
  const id = res.headers.get('lambda-runtime-aws-request-id');
  const deadline = Number(res.headers.get('lambda-runtime-deadline-ms'));
  const event = await res.json();
  const context = {
    awsRequestId: id,
    invokedFunctionArn: res.headers.get('lambda-runtime-invoked-function-arn'),
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  process.env._X_AMZN_TRACE_ID = res.headers.get('lambda-runtime-trace-id') ?? '';
  try {
    const out = await handler(event, context);
    await post(`/invocation/${id}/response`, out ?? null);
  } catch (e) {
    console.error(`invocation error: ${e?.stack ?? e}`);
    await post(`/invocation/${id}/error`, errorBody(e));
  }
}
