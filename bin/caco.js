#!/usr/bin/env node
// npm bin shim: runs the TypeScript CLI through tsx (resolved from here, so any cwd works).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
const entry = fileURLToPath(new URL('./caco.ts', import.meta.url));
const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), entry, ...process.argv.slice(2)], { stdio: 'inherit' });
// A terminal's Ctrl-C reaches the CLI itself (same process group) and it stops gracefully: the
// shim just waits. A SIGTERM sent to the shim alone is passed on.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 1)));
