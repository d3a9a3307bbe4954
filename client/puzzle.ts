// Solving the oracle's Equihash puzzle (protocol.md §4) off the main thread,
// with progress on a terminal and the reference's fd-3 protocol for UI
// wrappers: "<n> <k>\n" before solving, the solve time in seconds after.
import { fstatSync, writeSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import { nowMs } from '../shared/clock.js';
import { DIFFICULTIES } from '../shared/constants.js';
import { startNonce } from './nonce.js';

export type Solve = (n: number, k: number, seed: Uint8Array) => Promise<Uint8Array>;

/**
 * Puzzles up to this n (levels 0-2) are solved on the main thread. They take
 * ~5-15 ms in a fresh process (the WebAssembly solver, BENCHMARKS.md), less
 * than a worker thread costs to start (measured with bench/client.ts when they
 * took 30-50 ms: `sphinx get` was still ~30-80 ms slower with a worker, on 2
 * cores), the main thread has nothing else to do meanwhile, and
 * no progress is shown for them anyway. Larger puzzles (seconds to hours) go
 * to a worker thread, so the event loop stays free for progress and timeouts.
 */
export const INLINE_MAX_N = 70;

/** Small puzzles inline, large ones in a worker started on first need. */
export class Solver {
  private worker: WorkerSolver | null = null;
  private equihash: Promise<typeof import('../shared/equihash.js')> | null = null;
  /** how many puzzles went to the worker (tests) */
  offThread = 0;

  constructor(readonly inlineMaxN = INLINE_MAX_N) {}

  /** Starts loading the solver module (call while waiting for the network). */
  preload(): void {
    if (!this.equihash) {
      this.equihash = import('../shared/equihash.js');
      this.equihash.catch(() => undefined);
    }
  }

  solve: Solve = async (n, k, seed) => {
    if (n <= this.inlineMaxN) {
      this.preload();
      const { solve } = await this.equihash!;
      return solve(n, k, seed, { nonce: startNonce() });
    }
    this.offThread++;
    this.worker ??= new WorkerSolver();
    return this.worker.solve(n, k, seed);
  };

  close(): void {
    this.worker?.close();
    this.worker = null;
  }
}

/** Solves in a worker thread. */
export class WorkerSolver {
  private worker: Worker | null;
  private next = 0;
  private pending = new Map<number, { res: (b: Uint8Array) => void; rej: (e: Error) => void }>();
  private failed: Error | null = null;

  constructor() {
    // loaded on first need: worker_threads costs ~1.5 ms to load, and most puzzles are solved inline
    const { Worker: WorkerThread } = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
    this.worker = new WorkerThread(new URL('./puzzle-worker.js', import.meta.url));
    this.worker.unref();
    this.worker.on('message', (m: { id: number; solution?: Uint8Array; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker?.unref();
      if (m.solution) p.res(new Uint8Array(m.solution));
      else p.rej(new Error(`puzzle solver failed: ${m.error ?? 'unknown error'}`));
    });
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', (code) => this.failAll(new Error(`puzzle solver exited (${code})`)));
  }

  private failAll(e: Error): void {
    this.failed = e;
    for (const p of this.pending.values()) p.rej(e);
    this.pending.clear();
  }

  solve: Solve = (n, k, seed) => {
    if (this.failed || !this.worker) return Promise.reject(this.failed ?? new Error('puzzle solver closed'));
    const id = this.next++;
    this.worker.ref();
    return new Promise<Uint8Array>((res, rej) => {
      this.pending.set(id, { res, rej });
      this.worker!.postMessage({ id, n, k, seed });
    });
  };

  close(): void {
    const w = this.worker;
    this.worker = null;
    void w?.terminate();
  }
}

/** Is this inherited fd one a UI wrapper could have opened for us (not one of libuv's own)? Pure. */
export function isUiFd(st: Pick<Stats, 'isFIFO' | 'isFile' | 'isSocket' | 'isCharacterDevice'> | null): boolean {
  return !!st && (st.isFIFO() || st.isFile() || st.isSocket() || st.isCharacterDevice());
}

/**
 * Checks fd 3 once. Must run before this process could open fd 3 itself —
 * but Node's event loop already holds fd 3 (an epoll/eventfd anonymous inode)
 * when nothing was inherited there, so the type check above is what tells
 * them apart: anonymous inodes are neither FIFO, file, socket nor device.
 */
export function uiFd(fd = 3): number | null {
  try {
    return isUiFd(fstatSync(fd)) ? fd : null;
  } catch {
    return null;
  }
}

/** Formats progress for a terminal. Pure. */
export function progressLine(n: number, k: number, elapsedS: number): string {
  const level = DIFFICULTIES.findIndex((d) => d.n === n && d.k === k);
  const lv = level >= 0 ? `level ${level}/${DIFFICULTIES.length - 1}` : 'unknown level';
  return `solving the oracle's rate-limit puzzle (${lv}, n=${n} k=${k}): ${elapsedS.toFixed(1)} s`;
}

export interface PuzzleUi {
  fd3: number | null;
  /** progress goes to stderr only when it is a terminal */
  tty: boolean;
  verbose: boolean;
  progressAfterMs?: number;
}

/** Wraps a solver with the fd-3 notes and terminal progress. */
export function reportingSolve(solve: Solve, ui: PuzzleUi): Solve {
  return async (n, k, seed) => {
    const write = (s: string): void => {
      if (ui.fd3 === null) return;
      try {
        writeSync(ui.fd3, s);
      } catch {
        ui.fd3 = null; // the wrapper went away; carry on without it
      }
    };
    write(`${n} ${k}\n`);
    if (ui.verbose) process.stderr.write(`puzzle: n=${n} k=${k}\n`);
    const t0 = nowMs();
    let shown = false;
    let interval: NodeJS.Timeout | null = null;
    const show = (): void => {
      shown = true;
      process.stderr.write(`\r\x1b[K${progressLine(n, k, (nowMs() - t0) / 1000)}`);
    };
    // on a terminal, show progress once solving has taken about a second
    const delayed = ui.tty
      ? setTimeout(() => {
          show();
          interval = setInterval(show, 250);
        }, ui.progressAfterMs ?? 1000)
      : null;
    try {
      return await solve(n, k, seed);
    } finally {
      if (delayed) clearTimeout(delayed);
      if (interval) clearInterval(interval);
      if (shown) process.stderr.write('\r\x1b[K');
      const s = (nowMs() - t0) / 1000;
      write(String(s));
      if (ui.verbose) process.stderr.write(`puzzle solved in ${s.toFixed(3)} s\n`);
    }
  };
}
