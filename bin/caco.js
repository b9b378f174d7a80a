#!/usr/bin/env node
// npm bin shim: runs the TypeScript CLI through tsx (resolved from here, so any cwd works).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
const entry = fileURLToPath(new URL('./caco.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');
// Ctrl-C reaches the CLI itself (same process group), which stops gracefully; the shim waits.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
const r = spawnSync(process.execPath, ['--import', tsx, entry, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
