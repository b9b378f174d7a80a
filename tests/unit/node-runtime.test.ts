// One Node for everything: package.json engines, the Node .ci/run installs, the Lambda runtime and
// the esbuild target of the bundles, and the Node the Pyodide layer is built with all agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ESBUILD_TARGET, LAMBDA_RUNTIME, NODE_MAJOR, nodeMajor } from '../../lib/infra/node-runtime.ts';
import { permissionFlag } from '../../lib/sandbox/pool.ts';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

test('engines, the Lambda runtime, the bundle target and the running Node are one major', () => {
  assert.equal(pkg.engines.node, `>=${NODE_MAJOR}`);
  assert.equal(LAMBDA_RUNTIME.name, `nodejs${NODE_MAJOR}.x`);
  assert.equal(ESBUILD_TARGET, `node${NODE_MAJOR}`);
  // .ci/run puts this Node first on PATH, so the tests themselves run on it.
  assert.equal(nodeMajor(process.version), NODE_MAJOR, `tests run on Node ${process.version}, the stack deploys ${NODE_MAJOR}`);
});

test('.ci/run installs the Node of engines when the machine has an older one', () => {
  const run = readFileSync(new URL('.ci/run', root), 'utf8');
  const node = readFileSync(new URL('.ci/node.sh', root), 'utf8');
  assert.match(run, /bash \.ci\/node\.sh/);
  assert.match(run, /npm_config_nodedir/);
  assert.match(node, /"node": \*">=/); // the major is read from package.json, not repeated
  assert.match(node, /npm pack --silent "node-linux-\$arch@\$want"/);
});

test('the permission flag is the one the Node at hand accepts, not a guess from its major', () => {
  assert.equal(permissionFlag(new Set(['--permission', '--experimental-permission'])), '--permission');
  // Node 22.0-22.12: major 22, yet only the experimental spelling.
  assert.equal(permissionFlag(new Set(['--experimental-permission'])), '--experimental-permission');
  assert.throws(() => permissionFlag(new Set()), /no permission model/);
  assert.equal(permissionFlag(), '--permission'); // this Node (24)
});

test('an AWS command of the CLI prints no AWS SDK end-of-support warning', () => {
  // `status` builds the SDK clients (where the SDK warns on an old Node); the endpoint is closed.
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bin/caco.ts', 'status', 'run1', '--bucket', 'b', '--table', 't', '--region', 'us-east-1'], {
    cwd: new URL('../../', import.meta.url),
    encoding: 'utf8',
    env: { PATH: process.env.PATH, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_MAX_ATTEMPTS: '1', AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9' },
  });
  assert.equal(r.status, 1, r.stderr); // it did try DynamoDB
  assert.doesNotMatch(r.stderr, /NodeVersionSupportWarning|no longer support|will require node/);
});
