// Test helpers for the websphinx host: spawning the BUILT host and talking
// to it in native-messaging frames exactly as a browser does, a user home
// whose config `sphinx` and `websphinx` both read, and a scripted Assuan
// pinentry (a real program speaking the protocol on its stdin/stdout) that
// answers from a queue and records every command it received (it takes every
// SET*, OPTION, GETINFO and MESSAGE gpg-agent sends a pinentry).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, rejectedPassword, runSphinx, type CliResult } from './cli.js';
import type { RunningOracle } from './oracle-process.js';

export const HOST_MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../websphinx/main.js');

/** length (little endian, as on x86-64 and ARM) | body */
export function frame(body: string | Uint8Array): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  const h = Buffer.alloc(4);
  h.writeUInt32LE(b.length);
  return Buffer.concat([h, b]);
}

/** Splits a byte stream into frames; throws on trailing bytes (stdout must hold frames only). */
export function unframe(all: Buffer): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  while (i < all.length) {
    if (all.length - i < 4) throw new Error(`stray bytes on stdout: ${all.subarray(i).toString('hex')}`);
    const n = all.readUInt32LE(i);
    if (all.length - i - 4 < n) throw new Error(`truncated frame on stdout`);
    out.push(JSON.parse(all.subarray(i + 4, i + 4 + n).toString('utf8')));
    i += 4 + n;
  }
  return out;
}

export interface Host {
  proc: ChildProcess;
  /** sends one request object and awaits the next reply */
  request(req: unknown, timeoutMs?: number): Promise<any>;
  /** writes raw bytes (no reply awaited) */
  write(bytes: Uint8Array): void;
  /** awaits the next reply */
  next(timeoutMs?: number): Promise<any>;
  /** closes stdin, awaits exit */
  end(): Promise<{ code: number | null; stdout: Buffer; stderr: string }>;
  stderr(): string;
}

export function startHost(home: string, opts: { cwd?: string; args?: string[]; env?: NodeJS.ProcessEnv } = {}): Host {
  const proc = spawn(process.execPath, [HOST_MAIN, ...(opts.args ?? ['chrome-extension://ojbhlhidchjkmjmpeonendekpoacahni/'])], {
    cwd: opts.cwd ?? '/',
    env: cleanEnv({ HOME: home, ...opts.env }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = Buffer.alloc(0);
  let all = Buffer.alloc(0);
  let err = '';
  const waiters: Array<() => void> = [];
  proc.stdout!.on('data', (d: Buffer) => {
    out = Buffer.concat([out, d]);
    all = Buffer.concat([all, d]);
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const closed = new Promise<number | null>((res) => proc.on('close', (code) => (res(code), waiters.splice(0).forEach((w) => w()))));
  const next = async (timeoutMs = 60_000): Promise<any> => {
    const t0 = Date.now();
    for (;;) {
      if (out.length >= 4 && out.length >= 4 + out.readUInt32LE(0)) {
        const n = out.readUInt32LE(0);
        const body = out.subarray(4, 4 + n);
        out = out.subarray(4 + n);
        return JSON.parse(body.toString('utf8'));
      }
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`host exited (${proc.exitCode}) before replying; stderr:\n${err}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`no reply within ${timeoutMs} ms; stderr:\n${err}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };
  return {
    proc,
    write: (b) => proc.stdin!.write(b),
    next,
    request(req, timeoutMs) {
      proc.stdin!.write(frame(JSON.stringify(req)));
      return next(timeoutMs);
    },
    async end() {
      proc.stdin!.end();
      const t = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      const code = await closed;
      clearTimeout(t);
      return { code, stdout: all, stderr: err };
    },
    stderr: () => err,
  };
}

// ---------------------------------------------------------------- scripted pinentry

/** `hold`: a file the pinentry waits for before it answers (a test acts while the question is open). */
export type Answer = { pin: string; hold?: string } | { cancel: true } | { confirm: boolean } | { err: string };

const PINENTRY = String.raw`
const fs = require('fs');
const [queueFile, logFile] = process.argv.slice(2).filter((a) => a !== '-g');
const log = (l) => fs.appendFileSync(logFile, l + '\n');
const enc = (s) => Buffer.from(s, 'utf8').toString('latin1').replace(/[%\r\n]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
log('START ' + JSON.stringify(process.argv.slice(2).filter((a) => a === '-g')));
const take = (kind) => {
  const q = JSON.parse(fs.readFileSync(queueFile, 'utf8'));
  const a = q.shift();
  fs.writeFileSync(queueFile, JSON.stringify(q));
  if (!a || !(kind in a) && !(kind === 'pin' && ('cancel' in a || 'err' in a))) { log('UNEXPECTED ' + kind + ' ' + JSON.stringify(a ?? null)); return null; }
  return a;
};
const out = (l) => process.stdout.write(l + '\n');
out('OK Pleased to meet you');
let buf = '';
process.stdin.setEncoding('latin1').on('data', (d) => {
  buf += d;
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    log(line);
    const cmd = line.split(' ')[0];
    if (/^SET[A-Z]+$/.test(cmd) || cmd === 'OPTION' || cmd === 'MESSAGE') out('OK');
    else if (cmd === 'GETINFO') { const what = line.split(' ')[1]; out('D ' + (what === 'pid' ? process.pid : what === 'flavor' ? 'scripted' : what === 'ttyinfo' ? '- - -' : '0.0')); out('OK'); }
    else if (cmd === 'GETPIN') {
      const a = take('pin');
      if (a && a.hold) { const pause = new Int32Array(new SharedArrayBuffer(4)); while (!fs.existsSync(a.hold)) Atomics.wait(pause, 0, 0, 50); }
      if (a && 'pin' in a) { out('S PIN_REPEATED'); process.stdout.write(Buffer.from('D ' + enc(a.pin) + '\n', 'latin1')); out('OK'); }
      else if (a && 'err' in a) out(a.err);
      else out('ERR 83886179 Operation cancelled <Pinentry>');
    } else if (cmd === 'CONFIRM') {
      const a = take('confirm');
      out(a && a.confirm ? 'OK' : 'ERR 83886179 Operation cancelled <Pinentry>');
    } else if (cmd === 'BYE') { out('OK closing connection'); process.exit(0); }
    else { log('UNKNOWN COMMAND'); out('ERR 536871187 Unknown IPC command <User defined source 1>'); }
  }
});
process.stdin.on('end', () => process.exit(0));
`;

export interface ScriptedPinentry {
  path: string;
  /** queues answers for the next questions */
  answer(...a: Answer[]): void;
  /** answers not yet taken */
  left(): Answer[];
  /** drops the answers not taken (so one test's leftovers never answer the next test's questions) */
  clearQueue(): void;
  /** every line the host sent, all runs (UNEXPECTED/UNKNOWN lines mark protocol errors) */
  log(): string;
  clearLog(): void;
}

export function scriptedPinentry(dir: string): ScriptedPinentry {
  mkdirSync(dir, { recursive: true });
  const script = join(dir, 'pinentry.cjs');
  const queue = join(dir, 'queue.json');
  const logFile = join(dir, 'pinentry.log');
  const path = join(dir, 'pinentry-scripted');
  writeFileSync(script, PINENTRY);
  writeFileSync(queue, '[]', { mode: 0o600 });
  writeFileSync(logFile, '');
  writeFileSync(path, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(script)} ${JSON.stringify(queue)} ${JSON.stringify(logFile)} "$@"\n`, { mode: 0o755 });
  return {
    path,
    answer: (...a) => writeFileSync(queue, JSON.stringify([...(JSON.parse(readFileSync(queue, 'utf8')) as Answer[]), ...a])),
    left: () => JSON.parse(readFileSync(queue, 'utf8')) as Answer[],
    clearQueue: () => writeFileSync(queue, '[]'),
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'latin1') : ''),
    clearLog: () => writeFileSync(logFile, ''),
  };
}

// ---------------------------------------------------------------- a user's home

export interface UserHome {
  home: string;
  /** ~/.config/sphinx/config: what both sphinx and websphinx read */
  configFile: string;
  /** `sphinx ARGS` as this user (cwd: the home), stdin as given */
  sphinx(args: string[], stdin?: string): Promise<CliResult>;
  /** `sphinx get` with this master password: the password it prints */
  expected(master: string, user: string, site: string): Promise<string>;
  /**
   * A wrong master password that the record's check digit rejects (exit 2):
   * 1 in 32 slips through, and the masterkey is new on every run.
   */
  rejected(user: string, site: string): Promise<string>;
}

export async function userHome(
  oracle: RunningOracle,
  client: Record<string, string | boolean> = {},
  websphinx: Record<string, string> = {},
  /** more sections, e.g. [pinentry] */
  more: Record<string, Record<string, string>> = {},
): Promise<UserHome> {
  const home = mkdtempSync(join(tmpdir(), 'websphinx-home-'));
  const configFile = join(home, '.config', 'sphinx', 'config');
  mkdirSync(dirname(configFile), { recursive: true, mode: 0o700 });
  const section = (name: string, keys: Record<string, string | boolean | number>): string => `[${name}]\n` + Object.entries(keys).map(([k, v]) => `${k} = ${String(v)}\n`).join('');
  writeFileSync(
    configFile,
    section('client', { address: '127.0.0.1', port: oracle.port, ssl_cert: oracle.certPath, datadir: join(home, '.config', 'sphinx'), ...client }) +
      section('websphinx', websphinx) +
      Object.entries(more).map(([name, keys]) => section(name, keys)).join(''),
  );
  const sphinx = (args: string[], stdin?: string): Promise<CliResult> => runSphinx(args, { home, cwd: home, stdin: stdin ?? '', timeoutMs: 60_000 });
  const init = await sphinx(['init']);
  if (init.code !== 0) throw new Error(`sphinx init: ${init.stderr}`);
  return {
    home,
    configFile,
    sphinx,
    async expected(master, user, site) {
      const r = await sphinx(['get', '--', user, site], master);
      if (r.code !== 0) throw new Error(`sphinx get ${user} ${site}: exit ${r.code}: ${r.stderr}`);
      return r.stdout.replace(/\n$/, '');
    },
    async rejected(user, site) {
      const wrong = await rejectedPassword((pw) => sphinx(['get', '--', user, site], pw), 'not the master password ');
      if (!wrong) throw new Error(`none of 8 wrong master passwords was rejected by the check digit of ${user} at ${site}`);
      return wrong;
    },
  };
}
