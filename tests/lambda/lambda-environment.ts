// One Lambda execution environment, as faithful as this machine allows: the function's bundle at
// /var/task (read-only), its layer at /opt (read-only), the runtime's Node at /var/lang, a fresh
// 512 MB /tmp, no python3 on the PATH, an unprivileged user, and an environment holding only
// Lambda's reserved variables plus the function's own (from the template). All of it in a private
// mount namespace (`unshare -m`), so the host's /opt, /var and /tmp are untouched.
// It is driven through the Lambda Runtime API (this file serves it; tests/lambda/bootstrap.mjs is
// the runtime client inside), frozen (SIGSTOP) between invocations, killed at the function's
// timeout (the next invocation is a cold start), and its memory is sampled (sum of RSS over its
// processes, like Lambda's "Max Memory Used").
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface FunctionSpec {
  /** The stage function's name (ingest, generate, ...). */
  name: string;
  /** cdk.out asset folder of the bundle (index.mjs). */
  bundle: string;
  /** cdk.out asset folder of the layer, if the function has one. */
  layer?: string;
  handler: string;
  memoryMb: number;
  timeoutMs: number;
  runtime: string;
  /** The function's environment from the template, references resolved. */
  environment: Record<string, string>;
}

export interface InvokeResult {
  ok: boolean;
  /** The handler's response (ok) or Lambda's error body ({errorType, errorMessage}). */
  body: unknown;
  coldStart: boolean;
  /** Cold start: from spawn to the runtime's first /next (Lambda's Init Duration). */
  initMs: number;
  durationMs: number;
  timedOut: boolean;
}

/** Lambda's runtime user is not root, and has a passwd entry (the SDK asks for its home): nobody. */
const LAMBDA_UID = 65534;
const BOOTSTRAP_DIR = fileURLToPath(new URL('./', import.meta.url));

/** Fails with a clear reason when this machine cannot give a private mount namespace as root. */
export function checkIsolationAvailable(): void {
  if (process.getuid?.() !== 0) throw new Error('the Lambda environment test needs root (CI runs as root): it mounts /opt, /var and /tmp in a private namespace');
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs /opt && echo ok'], { encoding: 'utf8' });
  if (r.stdout.trim() !== 'ok') throw new Error(`no private mount namespace here (unshare -m failed: ${(r.stderr || r.error?.message || '').trim()})`);
}

// Runs as root inside the new namespace, then drops to the Lambda user and execs the runtime.
// $1 bundle, $2 layer ('' for none), $3 Node folder, $4 runtime client folder.
const SETUP = `
set -eu
mount -t tmpfs -o size=8m tmpfs /var
mkdir -p /var/task /var/runtime /var/lang
ro() { mount --bind "$1" "$2"; mount -o remount,bind,ro "$2"; }
ro "$1" /var/task
ro "$4" /var/runtime
ro "$3" /var/lang
if [ -n "$2" ]; then ro "$2" /opt; else mount -t tmpfs -o size=1m,ro tmpfs /opt; fi
mount -t tmpfs -o size=512m,mode=1777 tmpfs /tmp
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
  for p in "$d"/python*; do if [ -e "$p" ]; then mount --bind /dev/null "$p"; fi; done
done
cd /var/task
exec env -u OLDPWD -u PWD setpriv --reuid=${LAMBDA_UID} --regid=${LAMBDA_UID} --clear-groups --no-new-privs /var/lang/bin/node /var/runtime/bootstrap.mjs
`;

interface Pending {
  id: string;
  event: unknown;
  deadline: number;
  resolve: (r: { ok: boolean; body: unknown; timedOut: boolean }) => void;
}

export class LambdaEnvironment {
  readonly spec: FunctionSpec;
  private server!: Server;
  private port = 0;
  private proc: ChildProcess | null = null;
  private waitingNext: ServerResponse | null = null;
  private nextWaiter: (() => void) | null = null;
  private current: Pending | null = null;
  private spawnedAt = 0;
  private initMs = 0;
  private initError: string | null = null;
  private frozen = false;
  private sampler: NodeJS.Timeout | null = null;
  /** Cold starts (a process was spawned), invocations, timeouts, peak memory in MB. */
  readonly stats = { coldStarts: 0, invocations: 0, timeouts: 0, peakMb: 0, initMs: [] as number[] };
  /** The environment's stdout and stderr (its CloudWatch log), last 200 kB. */
  log = '';
  /** Extra variables (emulator endpoints, credentials) on top of Lambda's and the template's. */
  private readonly extraEnv: Record<string, string>;
  private readonly nodeDir: string;

  constructor(spec: FunctionSpec, opts: { nodeDir: string; extraEnv: Record<string, string> }) {
    this.spec = spec;
    this.nodeDir = opts.nodeDir;
    this.extraEnv = opts.extraEnv;
  }

  /** The variables added for this machine (emulator endpoints, credentials). */
  extraVariables(): Record<string, string> {
    return this.extraEnv;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.route(req, res));
    this.server.keepAliveTimeout = 0;
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Lambda's reserved variables, then the function's own (the template's). */
  environment(): Record<string, string> {
    const s = this.spec;
    return {
      PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
      LD_LIBRARY_PATH: '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      NODE_PATH: '/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task',
      LAMBDA_TASK_ROOT: '/var/task',
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      _HANDLER: s.handler,
      AWS_EXECUTION_ENV: `AWS_Lambda_${s.runtime}`,
      AWS_LAMBDA_FUNCTION_NAME: `Caco-${s.name}`,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(s.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/Caco-${s.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `2026/12/02/[$LATEST]${randomUUID().replace(/-/g, '')}`,
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${this.port}`,
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      ...this.extraEnv,
      ...s.environment,
    };
  }

  private spawnEnvironment(): void {
    this.stats.coldStarts++;
    this.spawnedAt = performance.now();
    this.initError = null;
    const proc = spawn(
      'unshare',
      ['-m', '--propagation', 'private', '/bin/sh', '-c', SETUP, 'setup', this.spec.bundle, this.spec.layer ?? '', this.nodeDir, BOOTSTRAP_DIR],
      { env: this.environment(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc = proc;
    const keep = (d: Buffer) => (this.log = (this.log + d.toString()).slice(-200_000));
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    proc.on('exit', (code, signal) => {
      if (this.proc !== proc) return;
      this.proc = null;
      this.stopSampling();
      this.waitingNext = null;
      // A process that dies during an invocation fails it (Runtime.ExitError on Lambda).
      if (this.current) this.finish({ ok: false, body: { errorType: 'Runtime.ExitError', errorMessage: `exited (${signal ?? code})` }, timedOut: false });
      this.nextWaiter?.();
    });
    this.sampler = setInterval(() => this.sample(), 200);
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.method === 'GET' && url.endsWith('/runtime/invocation/next')) {
        if (this.initMs === 0 && this.spawnedAt) this.initMs = performance.now() - this.spawnedAt;
        this.waitingNext = res;
        this.nextWaiter?.();
        return;
      }
      const m = /\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
      if (req.method === 'POST' && m) {
        res.writeHead(202).end('{}');
        if (this.current?.id === m[1]) {
          this.finish({ ok: m[2] === 'response', body: body ? JSON.parse(body) : null, timedOut: false });
        }
        return;
      }
      if (req.method === 'POST' && url.endsWith('/runtime/init/error')) {
        this.initError = body;
        res.writeHead(202).end('{}');
        return;
      }
      res.writeHead(404).end();
    });
  }

  private finish(r: { ok: boolean; body: unknown; timedOut: boolean }): void {
    const cur = this.current;
    if (!cur) return;
    this.current = null;
    cur.resolve(r);
  }

  /** Waits until the runtime asks for the next invocation (or the process is gone). */
  private waitForNext(): Promise<void> {
    if (this.waitingNext || !this.proc) return Promise.resolve();
    return new Promise((r) => {
      this.nextWaiter = () => {
        this.nextWaiter = null;
        r();
      };
    });
  }

  private signal(sig: NodeJS.Signals): void {
    try {
      if (this.proc?.pid) process.kill(-this.proc.pid, sig);
    } catch {
      /* already gone */
    }
  }

  /** Sum of resident memory over the environment's processes (its process group). */
  private sample(): void {
    const pgid = this.proc?.pid;
    if (!pgid || this.frozen) return;
    let kb = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[2]) !== pgid) continue;
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m) kb += Number(m[1]);
      } catch {
        /* exited meanwhile */
      }
    }
    this.stats.peakMb = Math.max(this.stats.peakMb, kb / 1024);
  }

  private stopSampling(): void {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = null;
  }

  /** The pid of the runtime process (its /proc/<pid>/root is the environment's file system view). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** One invocation, as Lambda's service makes it. */
  async invoke(event: unknown, timeoutMs = this.spec.timeoutMs): Promise<InvokeResult> {
    let coldStart = false;
    if (!this.proc) {
      this.initMs = 0;
      this.spawnEnvironment();
      coldStart = true;
    }
    if (this.frozen) {
      this.signal('SIGCONT');
      this.frozen = false;
    }
    // Lambda bounds init by the timeout too.
    const initTimer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    await this.waitForNext();
    clearTimeout(initTimer);
    if (!this.proc || !this.waitingNext) {
      return { ok: false, body: { errorType: 'Runtime.InitError', errorMessage: this.initError ?? 'the runtime exited during init', log: this.log.slice(-3000) }, coldStart, initMs: 0, durationMs: 0, timedOut: false };
    }
    if (coldStart) this.stats.initMs.push(this.initMs);
    this.stats.invocations++;
    const id = randomUUID();
    const deadline = Date.now() + timeoutMs;
    const started = performance.now();
    const result = await new Promise<{ ok: boolean; body: unknown; timedOut: boolean }>((resolve) => {
      this.current = { id, event, deadline, resolve };
      const res = this.waitingNext!;
      this.waitingNext = null;
      res.writeHead(200, {
        'content-type': 'application/json',
        'lambda-runtime-aws-request-id': id,
        'lambda-runtime-deadline-ms': String(deadline),
        'lambda-runtime-invoked-function-arn': `arn:aws:lambda:us-east-1:000000000000:function:Caco-${this.spec.name}`,
        'lambda-runtime-trace-id': `Root=1-${randomUUID().slice(0, 8)}`,
      });
      res.end(JSON.stringify(event));
      const timer = setTimeout(() => {
        // Lambda's timeout: the whole environment is killed; the next invocation starts cold.
        this.stats.timeouts++;
        const proc = this.proc;
        this.proc = null;
        this.stopSampling();
        this.waitingNext = null;
        if (proc?.pid) process.kill(-proc.pid, 'SIGKILL');
        this.finish({ ok: false, body: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds` }, timedOut: true });
      }, timeoutMs);
      const done = resolve;
      this.current.resolve = (r) => {
        clearTimeout(timer);
        done(r);
      };
    });
    const durationMs = performance.now() - started;
    // Frozen until the next invocation, once the runtime has asked for it.
    if (this.proc) {
      await Promise.race([this.waitForNext(), new Promise((r) => setTimeout(r, 5000))]);
      if (this.proc && this.waitingNext) {
        this.sample();
        this.signal('SIGSTOP');
        this.frozen = true;
      }
    }
    return { ...result, coldStart, initMs: coldStart ? this.initMs : 0, durationMs };
  }

  /** Kills the environment (the next invocation is a cold start). */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    const exited = new Promise((r) => proc.once('exit', r));
    this.signal('SIGKILL');
    this.signal('SIGCONT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
  }

  async close(): Promise<void> {
    await this.kill();
    this.stopSampling();
    this.waitingNext?.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
