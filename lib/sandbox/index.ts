// The hardened Python sandbox: a pool of permission-restricted Node processes running Pyodide.
export { createSandboxPool, childNodeFlags } from './pool.ts';
export type { SandboxPool, SandboxProgram, SandboxPoolStats } from './pool.ts';
export { SandboxOptionsSchema } from './config.ts';
export type { SandboxOptions } from './config.ts';
export { ensureLayer, buildLayer, layerDir, isLayerComplete } from './layer.ts';
export type { LayerManifest, BuildLayerOptions } from './layer.ts';
