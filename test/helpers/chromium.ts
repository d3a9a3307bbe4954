// Debian's chromium, headless, for the browser tests (websphinx.md §7): the
// flags, the user-data dir under the scratch HOME (where chromium looks for
// the per-user NativeMessagingHosts/), and optionally the DevTools protocol
// over a pipe (--remote-debugging-pipe: fds 3 and 4, NUL-terminated JSON),
// which is what the Extensions domain (loadUnpacked, triggerAction: a click
// on the toolbar icon) needs.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { which } from './x11-env.js';

export interface Chromium {
  proc: ChildProcess;
  stderr(): string;
  /** the DevTools protocol (with cdp: true) */
  cdp: Cdp | null;
  stop(): Promise<void>;
}

export interface Cdp {
  send(method: string, params?: Record<string, unknown>, sessionId?: string): Promise<any>;
  /** resolves with the first event `method` whose params satisfy `pred` */
  waitEvent(method: string, pred?: (p: any) => boolean, timeoutMs?: number): Promise<any>;
}

export function startChromium(opts: { home: string; env: NodeJS.ProcessEnv; args?: string[]; cdp?: boolean }): Chromium {
  const chromium = which('chromium');
  if (!chromium) throw new Error('chromium is needed (Debian package chromium)');
  const args = [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-features=DisableLoadExtensionCommandLineSwitch',
    `--user-data-dir=${join(opts.home, '.config/chromium')}`,
    ...(opts.cdp ? ['--remote-debugging-pipe', '--enable-unsafe-extension-debugging'] : []),
    ...(opts.args ?? []),
  ];
  const proc = spawn(chromium, args, {
    env: opts.env,
    cwd: opts.home,
    detached: true,
    stdio: opts.cdp ? ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const closed = new Promise((r) => proc.once('close', r).once('error', r));
  return {
    proc,
    stderr: () => err,
    cdp: opts.cdp ? pipeCdp(proc.stdio[3] as Writable, proc.stdio[4] as Readable, () => err) : null,
    async stop() {
      try {
        process.kill(-proc.pid!, 'SIGTERM');
      } catch {
        /* gone already */
      }
      await closed;
    },
  };
}

function pipeCdp(w: Writable, r: Readable, stderr: () => string): Cdp {
  let buf = '';
  let id = 0;
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void; method: string }>();
  const listeners = new Set<(m: any) => void>();
  r.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\0')) >= 0) {
      const m = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      const p = m.id !== undefined ? pending.get(m.id) : undefined;
      if (p) {
        pending.delete(m.id);
        if (m.error) p.reject(new Error(`${p.method}: ${m.error.message}`));
        else p.resolve(m.result);
      } else for (const l of [...listeners]) l(m);
    }
  });
  r.on('close', () => {
    for (const p of pending.values()) p.reject(new Error(`chromium closed the DevTools pipe during ${p.method}; stderr:\n${stderr().slice(-3000)}`));
    pending.clear();
  });
  return {
    send(method, params = {}, sessionId) {
      return new Promise((resolve, reject) => {
        const n = ++id;
        pending.set(n, { resolve, reject, method });
        w.write(JSON.stringify({ id: n, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
      });
    },
    waitEvent(method, pred = () => true, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => (listeners.delete(l), reject(new Error(`no ${method} event within ${timeoutMs} ms`))), timeoutMs);
        const l = (m: any): void => {
          if (m.method === method && pred(m.params)) {
            clearTimeout(t);
            listeners.delete(l);
            resolve(m.params);
          }
        };
        listeners.add(l);
      });
    },
  };
}
