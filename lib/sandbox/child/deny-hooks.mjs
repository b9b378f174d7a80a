// Module resolution hooks registered inside the sandbox worker after Pyodide has loaded: from then
// on no module can be imported at all (no node:net, node:http, node:child_process, node:module,
// node:worker_threads...), even by JavaScript that escaped from Python via `new Function`.
export async function resolve(specifier) {
  throw new Error(`import of ${specifier} is not allowed in the sandbox`);
}
