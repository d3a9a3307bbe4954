// Equihash(n, k) as the SPHINX v1 ecosystem uses it (protocol.md §4; a fork of
// the Biryukov-Khovratovich reference, Debian libequihash 1.0.6).
//
// d = floor(n/(k+1)) bits per digit. The hash of index i under nonce N and seed
// (length L) is BLAKE2b-256 of a u32 array of floor(L/4)+2 words: the seed
// copied in from offset 0, then N (u32le) written at word floor(L/4) -- which
// overwrites the seed's last L mod 4 bytes, a quirk we must reproduce -- and i
// (u32le) in the last word. Digit j (0..k) is u32le word j of the hash >>> (32-d).
// A solution is nonce u32be followed by 2^k indices packed big-endian, d+1 bits each.
//
// verify() is strict (the reference only checks the overall XOR, see below).
// solve() is a Wagner solver that keeps every collision (no per-bucket caps), so
// each nonce yields all tree solutions and few nonces are needed. Its core
// (hashing, bucketing, collisions, tree expansion) is WebAssembly compiled
// ahead of time from AssemblyScript (equihash-core/); verify() is plain JS.
//
// Pure module: importable from a worker thread; no top-level side effects.
import { blake2b } from '@noble/hashes/blake2.js';
import { nowMs } from './clock.js';
import { CORE_WASM_BASE64 } from './equihash-core/wasm.js';

/** Parameters this module accepts (throws RangeError otherwise). */
function params(n: number, k: number): { d: number; bits: number; count: number } {
  if (!Number.isInteger(n) || !Number.isInteger(k)) throw new RangeError('equihash: n and k must be integers');
  // k+1 digits are read from the 8 u32 words of a 32-byte digest.
  if (k < 1 || k > 7) throw new RangeError(`equihash: k=${k} out of range 1..7`);
  const d = Math.floor(n / (k + 1));
  // 1 <= d keeps the shift 32-d defined; indices of d+1 bits must fit a u32.
  if (d < 1 || d > 31) throw new RangeError(`equihash: n=${n} gives ${d} bits per digit (need 1..31)`);
  const count = 2 ** k;
  // The reference's solsize divides by 8; only whole bytes serialise losslessly.
  if ((count * (d + 1)) % 8 !== 0) throw new RangeError(`equihash: 2^k*(d+1) = ${count * (d + 1)} bits is not whole bytes`);
  return { d, bits: d + 1, count };
}

/** Solution size in bytes: 4 (nonce) + 2^k*(d+1)/8. Throws RangeError for unsupported (n, k). */
export function solsize(n: number, k: number): number {
  const { bits, count } = params(n, k);
  return 4 + (count * bits) / 8;
}

/** Split a solution into nonce and indices (the reference's unserialize). Throws on wrong length. */
export function decode(n: number, k: number, solution: Uint8Array): { nonce: number; indices: number[] } {
  const { bits, count } = params(n, k);
  if (solution.length !== 4 + (count * bits) / 8) throw new RangeError('equihash: wrong solution length');
  const nonce = ((solution[0]! << 24) | (solution[1]! << 16) | (solution[2]! << 8) | solution[3]!) >>> 0;
  const indices: number[] = [];
  let acc = 0, have = 0, pos = 4; // acc holds `have` (< bits + 8 <= 40) pending bits: use float math, not <<
  for (let i = 0; i < count; i++) {
    while (have < bits) {
      acc = acc * 256 + solution[pos++]!;
      have += 8;
    }
    const div = 2 ** (have - bits);
    const v = Math.floor(acc / div);
    indices.push(v);
    acc -= v * div;
    have -= bits;
  }
  return { nonce, indices };
}

/** Serialise nonce and indices (the reference's serialize). Throws RangeError on bad input. */
export function encode(n: number, k: number, nonce: number, indices: ArrayLike<number>): Uint8Array {
  const { bits, count } = params(n, k);
  if (!Number.isInteger(nonce) || nonce < 0 || nonce > 0xffffffff) throw new RangeError('equihash: bad nonce');
  if (indices.length !== count) throw new RangeError(`equihash: need ${count} indices`);
  const out = new Uint8Array(4 + (count * bits) / 8);
  out[0] = nonce >>> 24; out[1] = (nonce >>> 16) & 0xff; out[2] = (nonce >>> 8) & 0xff; out[3] = nonce & 0xff;
  const lim = 2 ** bits;
  let acc = 0, have = 0, pos = 4;
  for (let i = 0; i < count; i++) {
    const v = indices[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= lim) throw new RangeError(`equihash: index ${v} out of range`);
    acc = acc * lim + v;
    have += bits;
    while (have >= 8) {
      const div = 2 ** (have - 8);
      const b = Math.floor(acc / div);
      out[pos++] = b;
      acc -= b * div;
      have -= 8;
    }
  }
  return out;
}

/** The hash input for (seed, nonce) with index word 0, and the index word's byte offset. */
export function hashInput(seed: Uint8Array, nonce: number): { input: Uint8Array; indexOffset: number } {
  const w = Math.floor(seed.length / 4);
  const input = new Uint8Array(4 * (w + 2));
  input.set(seed);
  const dv = new DataView(input.buffer);
  dv.setUint32(4 * w, nonce >>> 0, true); // overwrites the seed's last L mod 4 bytes
  return { input, indexOffset: 4 * (w + 1) };
}

/**
 * Digits 0..k of each index, as rows of k+1 numbers. BLAKE2b from
 * @noble/hashes on purpose: verification does not depend on the solver's
 * WebAssembly kernel (the hashes are of public data; at most 2^k of them).
 */
export function digits(n: number, k: number, seed: Uint8Array, nonce: number, indices: ArrayLike<number>): number[][] {
  const { d } = params(n, k);
  const { input, indexOffset } = hashInput(seed, nonce);
  const dv = new DataView(input.buffer);
  const rows: number[][] = [];
  for (let i = 0; i < indices.length; i++) {
    dv.setUint32(indexOffset, indices[i]! >>> 0, true);
    const h = blake2b(input, { dkLen: 32 });
    const words = new DataView(h.buffer, h.byteOffset, h.length);
    const row: number[] = [];
    for (let j = 0; j <= k; j++) row.push(words.getUint32(4 * j, true) >>> (32 - d));
    rows.push(row);
  }
  return rows;
}

/**
 * Strict check of decoded indices. Requires, in this order:
 * 1. exactly 2^k integer indices, each in [0, 2^(d+1));
 * 2. all indices distinct;
 * 3. the tree: for j = 1..k, every aligned group of 2^j indices XORs to zero
 *    on digits 0..j-1, and digit k XORs to zero over all 2^k indices.
 * This is what protocol.md §4 asks for, and it closes the reference's hole
 * (equal indices, copied subtrees, leaves moved across groups all fail).
 * The ORDER of the two halves of a group is deliberately not checked: the
 * reference solver happens to output its collisions in one order (and ours
 * in the same), but another solver (a phone app's) may legitimately swap
 * children, and rejecting it would lock users out. Swapped variants give no
 * attacker anything: a challenge is accepted once (the oracle's replay cache
 * is keyed on the challenge MAC, not on the solution).
 */
export function verifyIndices(n: number, k: number, seed: Uint8Array, nonce: number, indices: ArrayLike<number>): boolean {
  let p;
  try {
    p = params(n, k);
  } catch {
    return false;
  }
  const { bits, count } = p;
  if (!(seed instanceof Uint8Array) || indices.length !== count) return false;
  if (!Number.isInteger(nonce) || nonce < 0 || nonce > 0xffffffff) return false;
  const lim = 2 ** bits;
  for (let i = 0; i < count; i++) {
    const v = indices[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= lim) return false;
  }
  const sorted = Array.from(indices).sort((a, b) => a - b);
  for (let i = 1; i < count; i++) if (sorted[i] === sorted[i - 1]) return false;
  const leaves = digits(n, k, seed, nonce, indices);
  let rows = leaves;
  for (let j = 1; j <= k; j++) {
    const next: number[][] = [];
    for (let g = 0; g < rows.length; g += 2) {
      const a = rows[g]!, b = rows[g + 1]!;
      const x = a.map((v, t) => v ^ b[t]!);
      if (x[j - 1] !== 0) return false; // digits < j-1 are zero by the lower levels
      next.push(x);
    }
    rows = next;
  }
  if (rows[0]![k] !== 0) return false;
  return true;
}

/**
 * Strict verification of a serialised solution: exact length solsize(n,k),
 * then everything verifyIndices checks. Never throws; false for unsupported
 * (n, k) or non-byte input.
 */
export function verify(n: number, k: number, seed: Uint8Array, solution: Uint8Array): boolean {
  try {
    if (!(solution instanceof Uint8Array) || !(seed instanceof Uint8Array)) return false;
    if (solution.length !== solsize(n, k)) return false;
    const { nonce, indices } = decode(n, k, solution);
    return verifyIndices(n, k, seed, nonce, indices);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Solver.
//
// Level j (0..k-1) is a list of rows [digit j, ..., digit k, ref] (u32s). A
// level-0 row is one leaf and ref is its index. Going from level j to j+1,
// every pair of rows that agree on digit j becomes a level-(j+1) row holding
// the XOR of digits j+1..k; its ref is its generation number g, and the tree
// arrays remember its parents' refs: L[j+1][g], R[j+1][g]. At level k-1, pairs
// that agree on digits k-1 and k are candidate solutions; their trees are
// expanded and the first whose 2^k indices are distinct is returned. No collision is
// ever dropped, so one nonce yields every tree solution it has (~2 on average).
//
// Bucketing is a two-pass radix sort that stays in cache: rows are kept
// grouped by the top `cb` bits of their key ("coarse" buckets, written by a
// streaming scatter), and each coarse bucket (~2^(fb+1) rows, a few KB) is
// counting-sorted on the low `fb` bits just before its pairs are made. Within a
// bucket rows stay in generation order and buckets are visited in ascending key
// order, so each level is numbered as the reference numbers it and solutions
// come out in the reference's order (as the reference solver orders them).
//
// The algorithm runs in WebAssembly: shared/equihash-core/assembly/index.ts
// (AssemblyScript over raw linear memory, compiled ahead of time by
// shared/equihash-core/build.mjs into equihash-core/wasm.ts), leaf hashing
// included (its own BLAKE2b, two leaves per compression in i64x2 lanes). This
// file prepares the hash input, calls the core once for the leaves and once
// for the collisions of each nonce, and serialises the answer. verify() above
// shares no code with the core. Why: a short-lived `sphinx get` solves one
// puzzle per process, and the same algorithm in JS spent most of a first solve
// in V8's interpreter and first JIT tiers; WebAssembly starts in V8's baseline
// compiler, with no warm-up. There is no JS fallback: without WebAssembly
// (node --jitless) solve() rejects.

/** Options for solve. */
export interface SolveOptions {
  /** First nonce to try (default 0). */
  nonce?: number;
  /** Called after each nonce that gave no valid solution. */
  onProgress?: (info: { nonce: number; tried: number }) => void;
  /** Abort between nonces. */
  signal?: AbortSignal;
}

/** Counters of the last solver run (benchmarks). */
export interface SolveStats {
  nonces: number;
  candidates: number;
  hashMs: number;
  /** Collision phases: bucketing, pairing, the final step, tree expansion. */
  sortMs: number;
  /** Bytes of the solver's WebAssembly memory at the end (its working memory). */
  bytes: number;
}

/** Low key bits sorted inside a coarse bucket. */
const FINE_BITS = 9;

/** The core module's exports (shared/equihash-core/assembly/index.ts). */
interface Core {
  memory: { buffer: ArrayBuffer };
  blockPtr(): number;
  hashStart(): void;
  absorb(len: number): void;
  setLeafInput(len: number, idxWord: number): void;
  init(d: number, k: number, fb: number): void;
  fill(): void;
  collisions(): number;
  candidate(i: number): number;
  hashLeaves(start: number, count: number): number;
  lastFailure(): number;
}

// Minimal typing of the WebAssembly global (tsconfig has no DOM lib).
interface WasmModule { readonly __wasmModule?: never }
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (mod: WasmModule, imports: object) => { exports: Record<string, unknown> };
}
const wasmApi = (): WasmApi | undefined => (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let coreModule: WasmModule | undefined;
/**
 * The compiled core (once per thread; V8 compiles each function when first
 * called). Throws when this engine has no WebAssembly or no WebAssembly SIMD.
 */
function core(): WasmModule {
  if (!coreModule) {
    const api = wasmApi();
    if (!api) throw new Error('equihash: the solver needs WebAssembly, which this Node.js lacks (run without --jitless)');
    try {
      coreModule = new api.Module(Buffer.from(CORE_WASM_BASE64, 'base64'));
    } catch (e) {
      throw new Error(`equihash: cannot compile the solver (it needs WebAssembly SIMD): ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return coreModule;
}

/** A fresh core instance (its own linear memory). */
function coreInstance(): Core {
  const mod = core(); // first: it says why when there is no WebAssembly
  return new (wasmApi()!.Instance)(mod, {}).exports as unknown as Core;
}

/** Turns a trap of the core into an error that says why. */
function coreError(x: Core, n: number, e: unknown): Error {
  if (x.lastFailure() === 1) {
    return new RangeError(`equihash: out of memory at n=${n} (the solver's WebAssembly memory cannot grow beyond 4 GB)`);
  }
  return e instanceof Error ? e : new Error(String(e));
}

/**
 * Load the hash input for (seed, nonce) into the core: leading 128-byte blocks
 * are compressed there, the last block is kept with its index word variable.
 */
function setInput(x: Core, seed: Uint8Array, nonce: number): void {
  const { input, indexOffset } = hashInput(seed, nonce);
  const nblocks = Math.ceil(input.length / 128); // >= 1: the input has >= 8 bytes
  const lastOff = (nblocks - 1) * 128;
  const block = new Uint8Array(x.memory.buffer, x.blockPtr() >>> 0, 128);
  x.hashStart();
  for (let b = 0; b < nblocks - 1; b++) {
    block.set(input.subarray(b * 128, b * 128 + 128));
    x.absorb((b + 1) * 128);
  }
  block.fill(0);
  block.set(input.subarray(lastOff));
  x.setLeafInput(input.length, (indexOffset - lastOff) >> 2);
}

/**
 * Hash leaves start..start+count-1 of (seed, nonce) with the core's BLAKE2b;
 * returns count 32-byte digests (tests: checked against libsodium).
 */
export function coreLeafHashes(seed: Uint8Array, nonce: number, start: number, count: number): Uint8Array {
  const x = coreInstance();
  setInput(x, seed, nonce);
  const p = x.hashLeaves(start, count) >>> 0; // addresses are u32; WebAssembly hands them over as i32
  return new Uint8Array(x.memory.buffer, p, 32 * count).slice();
}

class Workspace {
  readonly n: number;
  readonly k: number;
  private readonly x: Core;
  stats: SolveStats = { nonces: 0, candidates: 0, hashMs: 0, sortMs: 0, bytes: 0 };

  constructor(n: number, k: number) {
    const { d } = params(n, k);
    if (d > 26) throw new RangeError(`equihash: n=${n} is beyond this solver (2^${d + 1} hashes per nonce)`);
    this.n = n;
    this.k = k;
    this.x = coreInstance();
    try {
      this.x.init(d, k, Math.min(d, FINE_BITS));
    } catch (e) {
      throw coreError(this.x, n, e);
    }
  }

  /** Bytes of the core's linear memory. */
  bytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  /**
   * The candidates of one nonce whose 2^k indices are distinct (the others,
   * most of them, reuse a leaf), all or only the first; `total` counts them all.
   */
  candidates(seed: Uint8Array, nonce: number, firstOnly: boolean): { total: number; distinct: number[][] } {
    const x = this.x;
    try {
      const t0 = nowMs();
      setInput(x, seed, nonce);
      x.fill();
      const t1 = nowMs();
      const total = x.collisions() >>> 0;
      const distinct: number[][] = [];
      const size = 2 ** this.k;
      for (let i = 0; i < total && !(firstOnly && distinct.length); i++) {
        const p = x.candidate(i) >>> 0;
        if (p !== 0) distinct.push(Array.from(new Uint32Array(x.memory.buffer, p, size)));
      }
      const t2 = nowMs();
      this.stats.hashMs += t1 - t0;
      this.stats.sortMs += t2 - t1;
      return { total, distinct };
    } catch (e) {
      throw coreError(x, this.n, e);
    }
  }
}

/**
 * Every solution the solver finds for one nonce, as index lists that pass
 * verifyIndices (tests and benchmarks; solve() stops at the first).
 */
export function solutionsForNonce(n: number, k: number, seed: Uint8Array, nonce: number): number[][] {
  const ws = new Workspace(n, k);
  return ws.candidates(seed, nonce, false).distinct.filter((idx) => verifyIndices(n, k, seed, nonce, idx));
}

let lastStats: SolveStats | null = null;
/** Counters of the last solve() in this thread. */
export const lastSolveStats = (): SolveStats | null => lastStats;

// One workspace per thread, reused while (n, k) stays the same: its memory is
// a few MB at the usual levels and re-allocating it per solve only feeds the GC.
let cached: Workspace | null = null;
let cachedKey = '';
function workspace(n: number, k: number): Workspace {
  const key = `${n},${k}`;
  if (!cached || cachedKey !== key) {
    cached = null; // let the old memory go before allocating the new one
    cachedKey = '';
    cached = new Workspace(n, k);
    cachedKey = key;
  }
  return cached;
}

/** Drop the solver's cached working memory (it is otherwise kept for the next solve). */
export function releaseSolverMemory(): void {
  cached = null;
  cachedKey = '';
}

const yieldToLoop = (): Promise<void> => new Promise((res) => setImmediate(res));

/**
 * Solve Equihash(n, k) for seed: tries nonces from opts.nonce (default 0) until
 * one yields a solution, and returns it serialised (nonce u32be | indices).
 * Rejects with RangeError for unsupported (n, k).
 * CPU-bound: run it in a worker thread to keep an event loop responsive (it
 * only yields between nonces).
 *
 * The solution is the first candidate of the first fruitful nonce with distinct
 * indices, as before; the core re-hashes its leaves and re-checks the tree
 * before handing it out (see treeHolds in equihash-core/assembly/index.ts).
 * It no longer runs the plain-JS verify(): in a fresh process that costs ~3 ms
 * of interpreted BLAKE2b, as much as the rest of a level-0 solve; the tests
 * pass every solution of every kind of seed through verify().
 */
export async function solve(n: number, k: number, seed: Uint8Array, opts: SolveOptions = {}): Promise<Uint8Array> {
  if (!(seed instanceof Uint8Array)) throw new TypeError('equihash: seed must be a Uint8Array');
  const first = opts.nonce ?? 0;
  if (!Number.isInteger(first) || first < 0 || first > 0xffffffff) throw new RangeError('equihash: bad start nonce');
  const ws = workspace(n, k);
  const stats: SolveStats = (ws.stats = { nonces: 0, candidates: 0, hashMs: 0, sortMs: 0, bytes: 0 });
  lastStats = stats;
  for (let nonce = first, tried = 1; nonce <= 0xffffffff; nonce++, tried++) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('equihash: aborted');
    stats.nonces++;
    let cands;
    try {
      cands = ws.candidates(seed, nonce, true);
    } catch (e) {
      releaseSolverMemory(); // a trapped instance is in an unknown state
      throw e;
    }
    stats.candidates += cands.total;
    const idx = cands.distinct[0];
    if (idx) {
      stats.bytes = ws.bytes();
      return encode(n, k, nonce, idx);
    }
    opts.onProgress?.({ nonce, tried });
    await yieldToLoop();
  }
  throw new Error('equihash: nonce space exhausted');
}
