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
// solve() is a Wagner solver over flat typed arrays that keeps every collision
// (no per-bucket caps), so each nonce yields all tree solutions and few nonces
// are needed; hashing runs in a WebAssembly SIMD BLAKE2b kernel (blake2b.ts).
//
// Pure module: importable from a worker thread; no top-level side effects.
import { compress, createBatchHasher, initState, loadBlock, BATCH, type BatchHasher } from './blake2b.js';

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
 * Digits 0..k of each index, as rows of k+1 numbers. Plain-JS BLAKE2b on
 * purpose: verification does not depend on the solver's WebAssembly kernel.
 */
export function digits(n: number, k: number, seed: Uint8Array, nonce: number, indices: ArrayLike<number>): number[][] {
  const { d } = params(n, k);
  const { input, indexOffset } = hashInput(seed, nonce);
  const nblocks = Math.ceil(input.length / 128);
  const h = initState(32);
  const m = new Int32Array(32);
  for (let b = 0; b < nblocks - 1; b++) {
    loadBlock(input, b * 128, m);
    compress(h, m, (b + 1) * 128, false, h);
  }
  loadBlock(input, (nblocks - 1) * 128, m);
  const word = (indexOffset - (nblocks - 1) * 128) >> 2;
  const out = new Int32Array(16);
  const rows: number[][] = [];
  for (let i = 0; i < indices.length; i++) {
    m[word] = indices[i]! | 0;
    compress(h, m, input.length, true, out);
    const row: number[] = [];
    for (let j = 0; j <= k; j++) row.push(out[j]! >>> (32 - d));
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
// expanded and the first that passes verify() is returned. No collision is
// ever dropped, so one nonce yields every tree solution it has (~2 on average).
//
// Bucketing is a two-pass radix sort that stays in cache: rows are kept
// grouped by the top `cb` bits of their key ("coarse" buckets, written by a
// streaming scatter), and each coarse bucket (~2^(fb+1) rows, a few KB) is
// counting-sorted on the low `fb` bits just before its pairs are made. Within a
// bucket rows stay in generation order and buckets are visited in ascending key
// order, so each level is numbered as the reference numbers it and solutions
// come out in the reference's order (as the reference solver orders them).

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
  /** Bytes of the solver's typed arrays at the end (its working memory). */
  bytes: number;
}

/**
 * Hashes per kernel call. Small enough that a fresh kernel gets many calls:
 * V8 first runs WebAssembly from its baseline compiler (Liftoff, ~10x slower
 * here) and swaps in the optimised code only at a later call, so big calls
 * would keep a first solve on the slow code.
 */
const FILL_CHUNK = Math.min(512, BATCH);

/** Low key bits sorted inside a coarse bucket. */
const FINE_BITS = 9;

class Workspace {
  readonly d: number;
  readonly k: number;
  readonly leaves: number;
  readonly fb: number;
  readonly hasher: BatchHasher;
  /** Rows of the current level, grouped by coarse bucket: bucket c is rows [cstart[c], cstart[c+1]). */
  rows: Uint32Array;
  /** Rows of the next level in generation order, before the coarse scatter. */
  tmp: Uint32Array;
  readonly cstart: Uint32Array;
  readonly ccount: Uint32Array;
  readonly fcount: Uint32Array;
  perm: Uint32Array;
  readonly L: Uint32Array[] = [];
  readonly R: Uint32Array[] = [];
  stats: SolveStats = { nonces: 0, candidates: 0, hashMs: 0, sortMs: 0, bytes: 0 };

  constructor(n: number, k: number, hasher?: BatchHasher) {
    const { d } = params(n, k);
    if (d > 26) throw new RangeError(`equihash: n=${n} is beyond this solver (2^${d + 1} hashes per nonce)`);
    this.d = d;
    this.k = k;
    this.leaves = 2 ** (d + 1);
    this.fb = Math.min(d, FINE_BITS);
    this.hasher = hasher ?? createBatchHasher();
    const C = 2 ** (d - this.fb);
    this.cstart = new Uint32Array(C + 1);
    this.ccount = new Uint32Array(C);
    this.fcount = new Uint32Array(2 ** this.fb);
    this.perm = new Uint32Array(2 ** (this.fb + 2));
    const words = Math.ceil(this.leaves * 1.0625) * (k + 2);
    this.rows = new Uint32Array(words);
    this.tmp = new Uint32Array(words);
    for (let j = 0; j < k; j++) {
      this.L.push(new Uint32Array(j === 0 ? 0 : Math.ceil(this.leaves * 1.0625)));
      this.R.push(new Uint32Array(j === 0 ? 0 : Math.ceil(this.leaves * 1.0625)));
    }
  }

  /** Stable scatter of M rows of RW words from tmp into rows by coarse bucket (counts in ccount). */
  private scatter(M: number, RW: number): void {
    const { ccount, cstart, fb } = this;
    const C = ccount.length;
    if (this.rows.length < M * RW) this.rows = new Uint32Array(Math.ceil(M * 1.0625) * RW);
    let pos = 0;
    for (let c = 0; c < C; c++) {
      cstart[c] = pos;
      const n = ccount[c]!;
      ccount[c] = pos; // write cursor
      pos += n;
    }
    cstart[C] = pos;
    const rows = this.rows, tmp = this.tmp;
    for (let e = 0, o = 0; e < M; e++, o += RW) {
      let w = ccount[tmp[o]! >>> fb]!++ * RW;
      for (let t = 0; t < RW; t++) rows[w++] = tmp[o + t]!;
    }
  }

  /** Hash all leaves under `nonce` into level 0. */
  fill(seed: Uint8Array, nonce: number): void {
    const { d, k, leaves, fb } = this;
    const RW = k + 2, sh = 32 - d;
    const { input, indexOffset } = hashInput(seed, nonce);
    this.hasher.setInput(input, indexOffset);
    const tmp = this.tmp, ccount = this.ccount;
    ccount.fill(0);
    let o = 0;
    for (let start = 0; start < leaves; start += FILL_CHUNK) {
      const cnt = Math.min(FILL_CHUNK, leaves - start);
      const h = this.hasher.hash(start, cnt);
      for (let i = 0; i < cnt; i++) {
        const hb = 8 * i;
        const key = h[hb]! >>> sh;
        ccount[key >>> fb]!++;
        tmp[o] = key;
        for (let j = 1; j <= k; j++) tmp[o + j] = h[hb + j]! >>> sh;
        tmp[o + k + 1] = start + i;
        o += RW;
      }
    }
    this.scatter(leaves, RW);
  }

  /**
   * Counting-sort coarse bucket [s, e) of rows (RW words each) on the fine key
   * bits into perm; fcount[f] ends as the end of fine bucket f. Returns the
   * number of pairs inside fine buckets.
   */
  private fineSort(s: number, e: number, RW: number): number {
    const fcount = this.fcount, rows = this.rows;
    const F = fcount.length, fmask = F - 1;
    if (this.perm.length < e - s) this.perm = new Uint32Array((e - s) * 2);
    const perm = this.perm;
    fcount.fill(0);
    for (let r = s, o = s * RW; r < e; r++, o += RW) fcount[rows[o]! & fmask]!++;
    let pos = 0, pairs = 0;
    for (let f = 0; f < F; f++) {
      const c = fcount[f]!;
      fcount[f] = pos;
      pos += c;
      pairs += (c * (c - 1)) / 2;
    }
    for (let r = s, o = s * RW; r < e; r++, o += RW) perm[fcount[rows[o]! & fmask]!++] = o;
    return pairs;
  }

  /** Collide level j (M rows) into level j+1; returns its size. */
  collide(j: number, M: number): number {
    const { k, fb, cstart, ccount, fcount } = this;
    const W = k + 1 - j, RW = W + 1, RW1 = W; // next level: W-1 digits + ref
    const C = ccount.length, F = fcount.length;
    const lvl = j + 1;
    ccount.fill(0);
    let p = 0, o = 0;
    for (let c = 0; c < C; c++) {
      const pairs = this.fineSort(cstart[c]!, cstart[c + 1]!, RW);
      if (pairs === 0) continue;
      if (this.L[lvl]!.length < p + pairs) this.growTree(lvl, p + pairs);
      if (this.tmp.length < (p + pairs) * RW1) this.growTmp((p + pairs) * RW1, o);
      const rows = this.rows, tmp = this.tmp, perm = this.perm, L = this.L[lvl]!, R = this.R[lvl]!;
      let start = 0;
      for (let f = 0; f < F; f++) {
        const end = fcount[f]!;
        for (let x = start; x < end - 1; x++) {
          const oa = perm[x]!;
          const ra = rows[oa + W]!;
          for (let y = x + 1; y < end; y++) {
            const ob = perm[y]!;
            const key = rows[oa + 1]! ^ rows[ob + 1]!;
            tmp[o] = key;
            ccount[key >>> fb]!++;
            for (let t = 2; t < W; t++) tmp[o + t - 1] = rows[oa + t]! ^ rows[ob + t]!;
            tmp[o + W - 1] = p;
            L[p] = ra;
            R[p] = rows[ob + W]!;
            p++;
            o += RW1;
          }
        }
        start = end;
      }
    }
    this.scatter(p, RW1);
    return p;
  }

  private growTree(lvl: number, need: number): void {
    const cap = Math.ceil(need * 1.25);
    const L = new Uint32Array(cap), R = new Uint32Array(cap);
    L.set(this.L[lvl]!);
    R.set(this.R[lvl]!);
    this.L[lvl] = L;
    this.R[lvl] = R;
  }

  private growTmp(need: number, used: number): void {
    const t = new Uint32Array(Math.ceil(need * 1.25));
    t.set(this.tmp.subarray(0, used));
    this.tmp = t;
  }

  /** Final step on level k-1 (rows [digit k-1, digit k, ref]): ref pairs agreeing on both digits. */
  finals(): Array<[number, number]> {
    const { cstart, fcount } = this;
    const C = cstart.length - 1, F = fcount.length;
    const out: Array<[number, number]> = [];
    for (let c = 0; c < C; c++) {
      if (this.fineSort(cstart[c]!, cstart[c + 1]!, 3) === 0) continue;
      const rows = this.rows, perm = this.perm;
      let start = 0;
      for (let f = 0; f < F; f++) {
        const end = fcount[f]!;
        for (let x = start; x < end - 1; x++) {
          const oa = perm[x]!;
          for (let y = x + 1; y < end; y++) {
            const ob = perm[y]!;
            if (rows[oa + 1] === rows[ob + 1]) out.push([rows[oa + 2]!, rows[ob + 2]!]);
          }
        }
        start = end;
      }
    }
    return out;
  }

  /** Bytes held in typed arrays (the BLAKE2b kernel's memory excluded). */
  bytes(): number {
    const arrs: Uint32Array[] = [this.rows, this.tmp, this.cstart, this.ccount, this.fcount, this.perm, ...this.L, ...this.R];
    return arrs.reduce((s, a) => s + a.byteLength, 0);
  }

  /** Leaf indices under ref of level j, left to right. */
  expand(j: number, ref: number, out: number[]): void {
    if (j === 0) {
      out.push(ref);
      return;
    }
    this.expand(j - 1, this.L[j]![ref]!, out);
    this.expand(j - 1, this.R[j]![ref]!, out);
  }

  /** All candidate index lists for one nonce (distinct or not). */
  candidates(seed: Uint8Array, nonce: number): number[][] {
    const t0 = performance.now();
    this.fill(seed, nonce);
    const t1 = performance.now();
    let M = this.leaves;
    for (let j = 0; j < this.k - 1; j++) M = this.collide(j, M);
    const fin = this.finals();
    const t2 = performance.now();
    this.stats.hashMs += t1 - t0;
    this.stats.sortMs += t2 - t1;
    return fin.map(([a, b]) => {
      const idx: number[] = [];
      this.expand(this.k - 1, a, idx);
      this.expand(this.k - 1, b, idx);
      return idx;
    });
  }
}

/**
 * Every solution the solver finds for one nonce, as index lists that pass
 * verifyIndices (tests and benchmarks; solve() stops at the first).
 */
export function solutionsForNonce(n: number, k: number, seed: Uint8Array, nonce: number, opts?: { js?: boolean }): number[][] {
  const ws = new Workspace(n, k, opts?.js ? createBatchHasher('js') : undefined);
  return ws.candidates(seed, nonce).filter((idx) => verifyIndices(n, k, seed, nonce, idx));
}

let lastStats: SolveStats | null = null;
/** Counters of the last solve() in this thread. */
export const lastSolveStats = (): SolveStats | null => lastStats;

// One workspace per thread, reused while (n, k) stays the same: the arrays are
// a few MB at the usual levels and re-allocating them per solve only feeds the GC.
let cached: Workspace | null = null;
let cachedKey = '';
function workspace(n: number, k: number): Workspace {
  const key = `${n},${k}`;
  if (!cached || cachedKey !== key) {
    cached = null; // let the old arrays go before allocating the new ones
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

/** Cheap pre-check before hashing: all indices distinct. */
function distinct(idx: number[]): boolean {
  const s = idx.slice().sort((a, b) => a - b);
  for (let i = 1; i < s.length; i++) if (s[i] === s[i - 1]) return false;
  return true;
}

/**
 * Solve Equihash(n, k) for seed: tries nonces from opts.nonce (default 0) until
 * one yields a solution, and returns it serialised (nonce u32be | indices),
 * checked by verify() first. Rejects with RangeError for unsupported (n, k).
 * CPU-bound: run it in a worker thread to keep an event loop responsive (it
 * only yields between nonces).
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
    const cands = ws.candidates(seed, nonce);
    stats.candidates += cands.length;
    for (const idx of cands) {
      if (!distinct(idx)) continue; // most candidates repeat an index: skip them before hashing
      const sol = encode(n, k, nonce, idx);
      if (verify(n, k, seed, sol)) {
        stats.bytes = ws.bytes();
        return sol; // never hand out anything our verifier rejects
      }
    }
    opts.onProgress?.({ nonce, tried });
    await yieldToLoop();
  }
  throw new Error('equihash: nonce space exhausted');
}
