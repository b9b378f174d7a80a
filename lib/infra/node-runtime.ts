// The one Node this project runs on: the Lambda runtime of every function, the esbuild target of
// the bundles, package.json `engines`, the Node CI installs (.ci/run) and the Node the Pyodide
// layer's snapshot is built with. tests/unit/node-runtime.test.ts checks they agree.
// Node 24 (end of life April 2028) rather than 22 (April 2027): see DESIGN.md.
import { Runtime } from 'aws-cdk-lib/aws-lambda';

export const NODE_MAJOR = 24;
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;
export const ESBUILD_TARGET = `node${NODE_MAJOR}`;

/** The major version of a Node version string ("v24.1.0" or "24.1.0"). */
export function nodeMajor(version: string): number {
  return Number(version.replace(/^v/, '').split('.')[0]);
}
