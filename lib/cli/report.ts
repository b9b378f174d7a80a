// `caco report <out-dir>` or `caco report <runId> --stack S`: (re)writes a run's report page,
// dataset/report/index.html. Locally from the output folder's state; on AWS from the bucket, with
// the run's AWS cost from the cost ledger, uploaded next to the dataset.
import type { Command } from 'commander';
import { ENDPOINT_FLAG, ENDPOINT_HELP, targetOptions } from './aws-options.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveTarget } from '../aws/remote.ts';
import { ConfigError } from '../config.ts';
import { copyTree } from '../local/materialize.ts';
import { writeRunReport } from '../report/index.ts';
import { writeAwsReport } from '../report/remote.ts';
import { FileBlobStore } from '../store/file-blob-store.ts';

interface Opts {
  stack?: string;
  bucket?: string;
  table?: string;
  region?: string;
  endpoint?: string;
  out?: string;
}

export function register(program: Command): void {
  program
    .command('report')
    .description("write a run's report page (dataset/report/index.html): an output folder, or a run id with --stack")
    .argument('<target>', 'a local output folder (caco run --out), or a run id with --stack/--bucket')
    .option('--stack <name>', 'the deployed stack (reads its outputs)')
    .option('--bucket <name>')
    .option('--table <name>')
    .option('--region <region>')
    .option(ENDPOINT_FLAG, ENDPOINT_HELP)
    .option('-o, --out <dir>', 'AWS: also download the report into <dir>/report/')
    .action(async (target: string, o: Opts) => {
      if (o.stack || o.bucket) {
        const t = await resolveTarget(targetOptions(o));
        const r = await writeAwsReport(t, target, o.out);
        console.log(`report: s3://${t.bucket}/${r.prefix}index.html (${r.records} records, ${r.files} files)`);
        if (o.out) console.log(`downloaded ${r.downloaded} files to ${join(o.out, 'report')}/`);
        return;
      }
      const out = resolve(target);
      const idFile = join(out, '.caco', 'run-id');
      if (!existsSync(idFile)) throw new ConfigError(`${target} is not a caco output folder (no .caco/run-id); for an AWS run pass its run id with --stack`);
      const runId = readFileSync(idFile, 'utf8').trim();
      const blobs = new FileBlobStore(join(out, '.caco', 'blobs'));
      const r = await writeRunReport(runId, blobs);
      const prefix = `runs/${runId}/dataset/report/`;
      await copyTree(blobs, await blobs.list(prefix), prefix, join(out, 'dataset', 'report'));
      console.log(`report: ${join(out, 'dataset', 'report', 'index.html')} (${r.records} records, ${r.files} files)`);
    });
}
