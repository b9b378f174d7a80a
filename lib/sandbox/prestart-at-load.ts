// Imported first by the execute Lambda (functions/execute.ts): its sandbox children are spawned
// when the bundle starts to evaluate, before the handler's own modules load (ES modules evaluate
// their imports in order), so Pyodide boots during the rest of the init.
import { prestartSandbox } from './launch.ts';

prestartSandbox();
