#!/usr/bin/env node
// npm bin shim: runs the TypeScript CLI through tsx (resolved from here, so any cwd works), in this
// process: `--import tsx` in a second Node would add a whole Node start-up to every command.
await import('tsx');
await import('./caco.ts');
