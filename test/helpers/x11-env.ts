// Test harness for contrib/: a real X server (Xvfb), a window that records
// what is typed into it (xterm running `cat` on a raw tty), synthetic mouse
// clicks that wait until exec-on-click is listening, and process helpers.
// Every tool is a real Debian program; a missing one fails the test loudly.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from './vectors.js';

/** The program each test needs, and the Debian package that ships it. */
export const DEBIAN_PACKAGES: Record<string, string> = {
  Xvfb: 'xvfb',
  xdotool: 'xdotool',
  xinput: 'xinput',
  xterm: 'xterm',
  dmenu: 'suckless-tools',
  oathtool: 'oathtool',
  gpg: 'gnupg',
  'gpg-agent': 'gnupg',
  gpgconf: 'gnupg',
  'gpg-connect-agent': 'gnupg',
  'ssh-keygen': 'openssh-client',
  'ssh-add': 'openssh-client',
  age: 'age',
  'age-keygen': 'age',
  minisign: 'minisign',
  'pinentry-tty': 'pinentry-tty',
  python3: 'python3',
  shellcheck: 'shellcheck',
  mkfifo: 'coreutils',
  awk: 'mawk',
};

export function which(name: string, path = process.env['PATH'] ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return null;
}

/** Throws (so the test FAILS, never skips) when a program is missing, naming its package. */
export function requireTools(...names: string[]): void {
  const missing = names.filter((n) => which(n) === null);
  if (missing.length) {
    const pkgs = [...new Set(missing.map((n) => DEBIAN_PACKAGES[n] ?? n))];
    throw new Error(`missing programs: ${missing.join(', ')} — install the Debian packages: apt-get install ${pkgs.join(' ')}`);
  }
}

/** The contrib/ directory of the source tree (the scripts are not compiled). */
export function contribDir(): string {
  return join(projectRoot(), 'contrib');
}

/** The `sphinx` command that belongs to this build directory (bin/sphinx, made by build/bundle.ts). */
export function clientMain(): string {
  // this file is <build>/test/helpers/x11-env.js
  const p = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'sphinx');
  if (!existsSync(p)) throw new Error(`the client is not built: ${p} is missing (npm run build)`);
  return p;
}

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `sphinx-${tag}-`));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface Bg {
  child: ChildProcess;
  pid: number;
  /** resolves when the process has exited, with everything it printed */
  done: Promise<RunResult>;
  exited: () => boolean;
}

/** Starts a process, collecting its output; stdin gets `input` then EOF (or stays open with keepStdin). */
export function start(cmd: string, args: readonly string[], opts: SpawnOptions & { input?: string | Buffer; keepStdin?: boolean } = {}): Bg {
  const { input, keepStdin, ...spawnOpts } = opts;
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...spawnOpts });
  const out: Buffer[] = [];
  let err = '';
  let exited = false;
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin?.on('error', () => {}); // EPIPE when the process does not read
  if (input !== undefined) child.stdin?.write(input);
  if (!keepStdin) child.stdin?.end();
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      exited = true;
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err });
    });
  });
  if (child.pid === undefined) throw new Error(`cannot start ${cmd}`);
  return { child, pid: child.pid, done, exited: () => exited };
}

/** Waits for a started process, killing it (and failing) after timeoutMs. */
export async function finish(bg: Bg, timeoutMs: number, what = 'process'): Promise<RunResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      killTree(bg.pid);
      reject(new Error(`${what} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([bg.done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function run(cmd: string, args: readonly string[], opts: SpawnOptions & { input?: string | Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
  const { timeoutMs = 30_000, ...rest } = opts;
  return finish(start(cmd, args, rest), timeoutMs, `${cmd} ${args.join(' ')}`);
}

/** Parent pid of every live process, from /proc. */
function processTable(): Map<number, { ppid: number; comm: string }> {
  const t = new Map<number, { ppid: number; comm: string }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      if (fields[0] === 'Z') continue; // zombies are gone for our purpose
      t.set(Number(name), { ppid: Number(fields[1]), comm });
    } catch {
      // the process ended while we looked
    }
  }
  return t;
}

/** Pids of the live descendants of `root` (not root itself) whose command name is `comm`. */
export function descendants(root: number, comm?: string): number[] {
  const t = processTable();
  const found: number[] = [];
  const walk = (pid: number): void => {
    for (const [p, info] of t) {
      if (info.ppid === pid) {
        if (comm === undefined || info.comm === comm) found.push(p);
        walk(p);
      }
    }
  };
  walk(root);
  return found;
}

export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Kills a process and everything it started (only the processes of this test). */
export function killTree(root: number): void {
  const pids = [...descendants(root).reverse(), root];
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined | null | false, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export interface XServer {
  display: string;
  env: NodeJS.ProcessEnv;
  xdotool(args: readonly string[], input?: string): Promise<RunResult>;
  stop(): Promise<void>;
}

/** Starts Xvfb on the first free display (-displayfd: no guessing, no race). */
export async function startXvfb(): Promise<XServer> {
  requireTools('Xvfb', 'xdotool');
  const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1024x768x24', '-nolisten', 'tcp', '-noreset'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const fd3 = child.stdio[3] as NodeJS.ReadableStream;
  const num = await new Promise<string>((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb did not start: ${log}`)), 15_000);
    fd3.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.includes('\n')) {
        clearTimeout(timer);
        resolve(got.trim());
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}): ${log}`));
    });
  });
  const display = `:${num}`;
  const env: NodeJS.ProcessEnv = { ...process.env, DISPLAY: display };
  delete env['XAUTHORITY'];
  const x: XServer = {
    display,
    env,
    xdotool: async (args, input) => {
      const r = await run('xdotool', args, { env, ...(input !== undefined ? { input } : {}), timeoutMs: 15_000 });
      if (r.code !== 0) throw new Error(`xdotool ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r;
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(3000).then(() => child.kill('SIGKILL'))]);
    },
  };
  // The server answers once it is up.
  await x.xdotool(['getmouselocation']);
  return x;
}

export interface Receiver {
  window: string;
  /** Moves the pointer over the window (keys go to the window under the pointer: no window manager). */
  point(): Promise<void>;
  /**
   * Types a unique marker and waits until it arrives; returns everything the
   * window received since the previous sync, marker excluded. X delivers key
   * events in order, so whatever another program typed before it is complete.
   */
  sync(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A window that records its keyboard input exactly: xterm running
 * `cat > file` on a tty in raw mode (Return arrives as \r, Tab as \t).
 */
export async function startReceiver(x: XServer, dir: string): Promise<Receiver> {
  requireTools('xterm');
  const ready = join(dir, 'receiver.ready');
  const out = join(dir, 'receiver.typed');
  const title = `sphinx-receiver-${process.pid}-${Date.now()}`;
  const bg = start(
    'xterm',
    ['-title', title, '-geometry', '100x10+0+0', '-e', 'sh', '-c', 'stty raw -echo && : >"$1" && exec cat >"$2"', 'receiver', ready, out],
    { env: x.env },
  );
  await waitFor('the receiver window to get ready', 15_000, () => {
    if (bg.exited()) throw new Error('xterm exited');
    return existsSync(ready);
  });
  const r = await x.xdotool(['search', '--sync', '--onlyvisible', '--name', `^${title}$`]);
  const window = r.stdout.toString().trim().split('\n')[0]!;
  let seen = 0;
  let n = 0;
  const rec: Receiver = {
    window,
    point: async () => {
      await x.xdotool(['mousemove', '--window', window, '100', '40']);
    },
    sync: async () => {
      const marker = `#sync${++n}#`;
      await rec.point();
      await x.xdotool(['type', '--file', '-'], marker);
      const text = await waitFor(`the receiver to get ${marker}`, 15_000, () => {
        const s = existsSync(out) ? readFileSync(out, 'latin1') : '';
        return s.endsWith(marker) ? s : null;
      });
      const got = text.slice(seen, text.length - marker.length);
      seen = text.length;
      return got;
    },
    stop: async () => {
      if (!bg.exited()) killTree(bg.pid);
      await finish(bg, 5000, 'xterm').catch(() => undefined);
    },
  };
  await rec.point();
  const first = await rec.sync();
  if (first !== '') throw new Error(`the receiver got unexpected input: ${JSON.stringify(first)}`);
  return rec;
}

/**
 * Clicks the left button once the process tree under `root` has an xinput
 * listening (exec-on-click's). A click that lands before xinput has selected
 * its events is not seen, so we click again while that same xinput still waits;
 * the click it sees makes exec-on-click kill it. Extra clicks land on the
 * receiver, where a left click changes nothing.
 */
export async function clickWhenListening(x: XServer, root: Bg, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  const xinput = await waitFor('exec-on-click to start xinput', timeoutMs, () => {
    if (root.exited()) throw new Error('the process ended before waiting for a click');
    return descendants(root.pid, 'xinput')[0];
  });
  await sleep(100);
  while (alive(xinput)) {
    if (Date.now() > end) throw new Error('exec-on-click never saw a click');
    await x.xdotool(['click', '1']);
    const t = Date.now() + 2000;
    while (alive(xinput) && Date.now() < t) await sleep(25);
  }
}

/**
 * A directory for PATH with `sphinx` = a symlink to the real command of this
 * build (as `npm link` makes one) and `node` = this node, which it runs.
 */
export function sphinxBin(dir: string): { bin: string; sphinx: string } {
  const bin = join(dir, 'bin');
  rmSync(bin, { recursive: true, force: true });
  mkdirSync(bin, { recursive: true, mode: 0o700 });
  const sphinx = join(bin, 'sphinx');
  symlinkSync(clientMain(), sphinx);
  symlinkSync(process.execPath, join(bin, 'node'));
  return { bin, sphinx };
}

/** Single-quotes a string for sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command line of a live process, as its arguments. */
export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return [];
  }
}

/**
 * Answers the dmenu that the process tree under `root` opens with prompt
 * `prompt` (its -p): waits until its window is up (dmenu grabs the keyboard
 * before mapping it), types `text`, presses Return and waits for it to end.
 */
export async function dmenuPick(x: XServer, root: Bg, prompt: string, text: string, timeoutMs = 30_000): Promise<void> {
  const pid = await waitFor(`dmenu -p ${prompt}`, timeoutMs, () => {
    if (root.exited()) throw new Error(`the process ended before dmenu -p ${prompt}`);
    return descendants(root.pid, 'dmenu').find((p) => {
      const a = cmdline(p);
      const i = a.indexOf('-p');
      return i >= 0 && a[i + 1] === prompt;
    });
  });
  await x.xdotool(['search', '--sync', '--onlyvisible', '--class', 'dmenu']);
  await x.xdotool(['type', '--file', '-'], text);
  await x.xdotool(['key', 'Return']);
  await waitFor(`dmenu -p ${prompt} to end`, 10_000, () => !alive(pid));
}

/** Processes (other than this one) whose argument vector or environment contains `secret`. */
export function processesHolding(secret: string): string[] {
  const needle = Buffer.from(secret);
  const hits: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    for (const what of ['cmdline', 'environ']) {
      try {
        if (readFileSync(`/proc/${name}/${what}`).includes(needle)) hits.push(`${name} ${what}: ${cmdline(Number(name)).join(' ')}`);
      } catch {
        // gone, or a kernel thread
      }
    }
  }
  return hits;
}
