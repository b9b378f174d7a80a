#!/usr/bin/env -S node --import tsx
// The `caco` command line. Each command lives in lib/cli/<name>.ts and exports
// `register(program)`; this file only wires them up, so commands stay small and separate.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Only the command being run is loaded (each pulls in its own dependencies: the AWS SDK, the
// pipeline, the sandbox...); help, or an unknown command, loads them all to list them.
const asked = process.argv.slice(2).find((a) => !a.startsWith('-'));
if (asked === 'execute' && process.env.CACO_SANDBOX_PRESTART !== '0') {
  // The sandbox children boot Pyodide (most of a first result's time) while the CLI loads
  // (CACO_SANDBOX_PRESTART=0: only once the command runs, for bench:execute-start's baseline).
  const { prestartSandbox } = await import('../lib/sandbox/launch.ts');
  const { workersForInput } = await import('../lib/sandbox/input-workers.ts');
  const args = process.argv.slice(2);
  const at = args.findIndex((a) => a === '--workers' || a.startsWith('--workers='));
  const workers = at < 0 ? undefined : Number(args[at]!.split('=')[1] ?? args[at + 1]);
  const input = args[args.indexOf('execute') + 1];
  prestartSandbox(Number.isInteger(workers) && workers! > 0 ? workers : input && !input.startsWith('-') ? workersForInput(input) : undefined);
}
const { Command } = await import('commander');

const COMMANDS = ['run', 'estimate', 'demo', 'report', 'execute', 'answers', 'finetune', 'submit', 'status', 'runs', 'redrive', 'pull', 'cost'];
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command();
program
  .name('caco')
  .description('Caco: verified code-assisted chain-of-thought data, locally or on AWS Lambda')
  .version(`caco ${pkg.version} (Node ${process.versions.node})`, '-V, --version')
  // A mistyped command or option gets "(Did you mean ...?)" and a pointer to --help, not the whole help.
  .showSuggestionAfterError()
  .showHelpAfterError('(caco --help lists the commands)');

const wanted = asked && COMMANDS.includes(asked) ? [asked] : COMMANDS;
for (const name of wanted) {
  const file = fileURLToPath(new URL(`../lib/cli/${name}.ts`, import.meta.url));
  if (!existsSync(file)) continue;
  const mod = (await import(file)) as { register: (p: InstanceType<typeof Command>) => void };
  mod.register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Bad input from the user (config, missing file) exits 2; anything else 1.
  console.error(`caco: ${(err as Error).message}`);
  process.exitCode = (err as Error).name === 'ConfigError' ? 2 : 1;
}
