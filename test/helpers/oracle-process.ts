// Runs the BUILT oracle (oracle/main.js next to this build's test dir) as a
// child process on 127.0.0.1, port 0, with a fresh temp dir as its working
// directory and a generated config file (--config). Works from any build dir
// (dist/, .build/<name>/).
//
// Without ssl_cert/ssl_key in `server`, the oracle runs in development mode
// and generates its self-signed certificate in the datadir: certPath points
// at it, so clients can pin it (ssl_cert).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ORACLE_MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../oracle/main.js');

export interface StartOracleOptions {
  /** Default: <temp cwd>/data */
  datadir?: string;
  /** Extra [server] keys (override address/port/datadir too). */
  server?: Record<string, string | number | boolean>;
  /** Extra environment variables. */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds to wait for the startup line (default 20000). */
  startTimeoutMs?: number;
}

export interface RunningOracle {
  port: number;
  datadir: string;
  certPath: string;
  keyPath: string;
  pid: number;
  proc: ChildProcess;
  /** Temp working directory of the child (holds sphinx.cfg). */
  cwd: string;
  /** Everything the oracle wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM, await exit; resolves with the exit code (null when killed by a signal). */
  stop(): Promise<number | null>;
  /** Send a signal (default SIGKILL) and await exit (not for SIGHUP, which only reloads). */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const tempDirs: string[] = [];
const children = new Set<ChildProcess>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  });
}

/** INI text of a [server] section. */
export function serverConfigText(keys: Record<string, string | number | boolean>): string {
  return '[server]\n' + Object.entries(keys).map(([k, v]) => `${k} = ${String(v)}\n`).join('');
}

export interface OracleRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Run the oracle with arbitrary arguments in `cwd` until it exits (startup
 * error tests, --help). Kills it after `timeoutMs` (then code is null).
 */
export function runOracle(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<OracleRun> {
  hookExit();
  const cwd = opts.cwd ?? mkdtempSync(join(tmpdir(), 'sphinx-oracle-'));
  if (!opts.cwd) tempDirs.push(cwd);
  return new Promise((res, rej) => {
    const proc = spawn(process.execPath, [ORACLE_MAIN, ...args], { cwd, env: { ...process.env, HOME: cwd, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(proc);
    let stdout = '';
    let stderr = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const t = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs ?? 15000);
    proc.on('error', rej);
    proc.on('close', (code, signal) => {
      clearTimeout(t);
      children.delete(proc);
      res({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Waits for the oracle's startup line on the child's stderr and returns the
 * port it states; rejects (killing the child on timeout) if it exits or stays
 * silent first. stderr() is everything the child has written so far.
 */
export async function awaitStartupLine(proc: ChildProcess, timeoutMs: number): Promise<{ port: number; stderr: () => string }> {
  let err = '';
  proc.stderr!.setEncoding('utf8');
  const port = await new Promise<number>((res, rej) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      rej(new Error(`oracle did not start within ${timeoutMs} ms; stderr:\n${err}`));
    }, timeoutMs);
    proc.stderr!.on('data', (d: string) => {
      err += d;
      const m = /listening on \S+ port (\d+)/.exec(err);
      if (m) {
        clearTimeout(t);
        res(Number(m[1]));
      }
    });
    proc.on('error', (e) => {
      clearTimeout(t);
      rej(e);
    });
    proc.on('exit', (code) => {
      clearTimeout(t);
      rej(new Error(`oracle exited with code ${code} before listening; stderr:\n${err}`));
    });
  });
  return { port, stderr: () => err };
}

export async function startOracle(opts: StartOracleOptions = {}): Promise<RunningOracle> {
  hookExit();
  const cwd = mkdtempSync(join(tmpdir(), 'sphinx-oracle-'));
  tempDirs.push(cwd);
  const datadir = resolve(opts.datadir ?? join(cwd, 'data'));
  const keys: Record<string, string | number | boolean> = { address: '127.0.0.1', port: 0, datadir, ...(opts.server ?? {}) };
  const cfgPath = join(cwd, 'sphinx.cfg');
  writeFileSync(cfgPath, serverConfigText(keys));
  const certPath = keys['ssl_cert'] !== undefined ? resolve(cwd, String(keys['ssl_cert'])) : join(datadir, 'dev-cert.pem');
  const keyPath = keys['ssl_key'] !== undefined ? resolve(cwd, String(keys['ssl_key'])) : join(datadir, 'dev-key.pem');

  const proc = spawn(process.execPath, [ORACLE_MAIN, '--config', cfgPath], {
    cwd,
    env: { ...process.env, HOME: cwd, ...opts.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(proc);
  const exited = new Promise<number | null>((res) => {
    proc.on('close', (code) => {
      children.delete(proc);
      res(code);
    });
  });
  const { port, stderr } = await awaitStartupLine(proc, opts.startTimeoutMs ?? 20000);

  const running = (): boolean => proc.exitCode === null && proc.signalCode === null;
  return {
    port,
    datadir,
    certPath,
    keyPath,
    pid: proc.pid!,
    proc,
    cwd,
    stderr,
    async stop() {
      if (running()) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 15000);
        const code = await exited;
        clearTimeout(t);
        return code;
      }
      return exited;
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (running()) proc.kill(signal);
      if (signal === 'SIGHUP') return; // reloads the certificate, does not stop the oracle
      await exited;
    },
  };
}

/**
 * Oracles and scratch directories a test file starts, with the server keys
 * every one of them gets unless a test overrides them; `cleanup` (for
 * test.after) kills what is still running and removes the directories.
 */
export function oracleFleet(defaults: Record<string, string | number | boolean>) {
  const running = new Set<RunningOracle>();
  const dirs: string[] = [];
  return {
    async start(opts: StartOracleOptions = {}): Promise<RunningOracle> {
      const o = await startOracle({ ...opts, server: { ...defaults, ...(opts.server ?? {}) } });
      running.add(o);
      return o;
    },
    /** Stops it (SIGTERM: a clean stop) or kills it with another signal. */
    async stop(o: RunningOracle, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
      running.delete(o);
      if (signal === 'SIGTERM') await o.stop();
      else await o.kill(signal);
    },
    /** It has ended by itself: nothing to stop at cleanup. */
    forget(o: RunningOracle): void {
      running.delete(o);
    },
    tmp(prefix: string): string {
      const d = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
    async cleanup(): Promise<void> {
      for (const o of running) await o.kill('SIGKILL').catch(() => undefined);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}
