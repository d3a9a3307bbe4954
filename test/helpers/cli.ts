// Runs the BUILT `sphinx` command (bin/sphinx next to this build's test
// dir) as a child process, with a temp HOME and cwd so that no real config is
// read, and collects stdout/stderr/exit code. An optional extra pipe on fd 3
// captures the reference's UI protocol ("<n> <k>\n" then the solve seconds).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `sphinx` command of this build (made by build/bundle.ts; what users run): a shell script that runs node on bin/sphinx.js. */
export const CLIENT_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/sphinx');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
  /** what the client wrote to fd 3 (only with fd3: true) */
  fd3: string;
  ms: number;
}

export interface CliOptions {
  /** bytes/text for stdin (default: empty, closed) */
  stdin?: string | Uint8Array;
  cwd?: string;
  home?: string;
  env?: NodeJS.ProcessEnv;
  /** open a pipe on fd 3 and collect it */
  fd3?: boolean;
  timeoutMs?: number;
}

/** Environment for client children: no NODE_EXTRA_CA_CERTS (it adds ~70 ms to node start and is not needed for pinned certs). */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // bin/sphinx runs `node` from PATH: this node
  env['PATH'] = `${dirname(process.execPath)}:${env['PATH'] ?? ''}`;
  delete env['NODE_EXTRA_CA_CERTS'];
  delete env['SPHINX_TIMING'];
  delete env['FORCE_COLOR']; // uvu sets it; the client honours it (qr colours)
  delete env['NO_COLOR'];
  Object.assign(env, extra);
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete env[k];
  return env;
}

export function runSphinx(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'sphinx-home-'));
  const cwd = opts.cwd ?? home;
  const t0 = performance.now();
  return new Promise((res, rej) => {
    const proc = spawn(CLIENT_BIN, args, {
      cwd,
      env: cleanEnv({ HOME: home, ...opts.env }),
      stdio: ['pipe', 'pipe', 'pipe', ...(opts.fd3 ? (['pipe'] as const) : [])],
    });
    const out: Buffer[] = [];
    let err = '';
    let fd3 = '';
    proc.stdout!.on('data', (d: Buffer) => out.push(d));
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    if (opts.fd3) (proc.stdio[3] as NodeJS.ReadableStream).setEncoding('utf8').on('data', (d: string) => (fd3 += d));
    const t = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs ?? 30000);
    proc.on('error', rej);
    proc.stdin!.on('error', () => undefined); // the client may exit before reading stdin
    proc.stdin!.end(opts.stdin ?? '');
    proc.on('close', (code, signal) => {
      clearTimeout(t);
      const stdoutBytes = Buffer.concat(out);
      res({ code, signal, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: err, fd3, ms: performance.now() - t0 });
    });
  });
}

/** A client set-up: its own HOME, datadir and --config file pointing at an oracle. */
export interface ClientHome {
  home: string;
  datadir: string;
  config: string;
  /** runs sphinx with --config and this HOME */
  run(args: string[], opts?: Omit<CliOptions, 'home'>): Promise<CliResult>;
  /** rewrites the [client] section (keys merged over the initial ones) */
  reconfigure(keys: Record<string, string | number | boolean>): void;
}

export function clientHome(keys: Record<string, string | number | boolean>): ClientHome {
  const home = mkdtempSync(join(tmpdir(), 'sphinx-client-'));
  const datadir = join(home, 'sphinx-data');
  const config = join(home, 'client.cfg');
  let current: Record<string, string | number | boolean> = { address: '127.0.0.1', datadir, ...keys };
  const write = (): void => writeFileSync(config, '[client]\n' + Object.entries(current).map(([k, v]) => `${k} = ${String(v)}\n`).join(''));
  write();
  mkdirSync(join(home, 'cwd'), { recursive: true });
  return {
    home,
    datadir,
    config,
    run: (args, opts = {}) => runSphinx(['--config', config, ...args], { cwd: join(home, 'cwd'), ...opts, home }),
    reconfigure(k) {
      current = { ...current, ...k };
      write();
    },
  };
}

/**
 * A wrong master password that a record's 5-bit check digit rejects: the
 * first of `base`-0..7 for which `get` exits 2 ('' when none does). 1 wrong
 * password in 32 passes the check digit, and tests make a new masterkey on
 * every run, so a fixed wrong password would fail 1 run in 32.
 */
export async function rejectedPassword(get: (password: string) => Promise<{ code: number | null }>, base: string): Promise<string> {
  for (let i = 0; i < 8; i++) {
    const candidate = `${base}${i}`;
    if ((await get(candidate)).code === 2) return candidate;
  }
  return '';
}
