// The Equihash solver core, in AssemblyScript, compiled ahead of time to
// WebAssembly (shared/equihash-core/build.mjs; the module's bytes are in
// shared/equihash-core/wasm.ts). shared/equihash.ts drives it; read the
// algorithm's description there ("Solver"). Everything here works on raw
// linear memory (load/store), with no AssemblyScript objects: the module
// imports nothing and runs with the stub runtime.
//
// Why WebAssembly: `sphinx get` solves one small puzzle per process. The same
// algorithm in JS spent most of a first solve in V8's interpreter and its
// first JIT tiers (a cold level-0 solve took 35-60 ms against ~6 warm). V8
// runs WebAssembly from its first call in its baseline compiler (Liftoff),
// which has no warm-up and is within ~2x of the optimised code (TurboFan) that
// replaces it once a function turns hot.
//
// Conventions: sizes and addresses are u32 (usize, wasm32). Rows are u32
// words; `perm` and the candidate list hold byte addresses / refs. A function
// that cannot get memory sets `failure` and traps (the JS side reports it).

// ---------------------------------------------------------------------------
// BLAKE2b, two inputs side by side in i64x2 lanes (lane 0 and lane 1). Each
// 64-bit word of a state or message is stored twice (16 bytes, one per lane).

/** Initial v0..v15 of a compression: v0..v7 = chain value, v8..v15 = IV with the byte counter and final flag folded in. */
const STATE = memory.data(256, 16);
/** Message words m0..m15. */
const MSG = memory.data(256, 16);
/** The two digests (64 bytes each, u32le words): lane 0's at OUT, lane 1's at OUT + 64. */
const OUT = memory.data(128, 16);
/** A 128-byte message block written by the caller (blockPtr()). */
const BLOCK = memory.data(128, 16);
/** The chain value h0..h7 (u64) while leading blocks are absorbed. */
const CHAIN = memory.data(64, 16);
/** Leaf indices of one expanded candidate (up to 2^7). */
const LEAVES_OUT = memory.data(512, 16);

/** SIGMA for rounds 0..11, as byte offsets (16 * word index) into MSG. */
const SIGMA = memory.data<u8>([
  0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240,
  224, 160, 64, 128, 144, 240, 208, 96, 16, 192, 0, 32, 176, 112, 80, 48,
  176, 128, 192, 0, 80, 32, 240, 208, 160, 224, 48, 96, 112, 16, 144, 64,
  112, 144, 48, 16, 208, 192, 176, 224, 32, 96, 80, 160, 64, 0, 240, 128,
  144, 0, 80, 112, 32, 64, 160, 240, 224, 16, 176, 192, 96, 128, 48, 208,
  32, 192, 96, 160, 0, 176, 128, 48, 64, 208, 112, 80, 240, 224, 16, 144,
  192, 80, 16, 240, 224, 208, 64, 160, 0, 112, 96, 48, 144, 32, 128, 176,
  208, 176, 112, 224, 192, 16, 48, 144, 80, 0, 240, 64, 128, 96, 32, 160,
  96, 240, 224, 144, 176, 48, 0, 128, 192, 32, 208, 112, 16, 64, 160, 80,
  160, 32, 128, 64, 112, 96, 16, 80, 240, 176, 144, 224, 48, 192, 208, 0,
  0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240,
  224, 160, 64, 128, 144, 240, 208, 96, 16, 192, 0, 32, 176, 112, 80, 48,
]);

const IV0: u64 = 0x6a09e667f3bcc908;
const IV1: u64 = 0xbb67ae8584caa73b;
const IV2: u64 = 0x3c6ef372fe94f82b;
const IV3: u64 = 0xa54ff53a5f1d36f1;
const IV4: u64 = 0x510e527fade682d1;
const IV5: u64 = 0x9b05688c2b3e6c1f;
const IV6: u64 = 0x1f83d9abfb41bd6b;
const IV7: u64 = 0x5be0cd19137e2179;

// Rotations right by 32, 24, 16 and 63 bits of each 64-bit lane. Shifts, not
// byte shuffles: V8's baseline compiler (Liftoff, which runs a first solve)
// builds a shuffle's 16-byte mask with 4 instructions on every use, and the
// optimising one (TurboFan) also ran this kernel faster with shifts (measured).
// @ts-ignore: decorator
@inline function rot32(x: v128): v128 { return v128.or(i64x2.shr_u(x, 32), i64x2.shl(x, 32)); }
// @ts-ignore: decorator
@inline function rot24(x: v128): v128 { return v128.or(i64x2.shr_u(x, 24), i64x2.shl(x, 40)); }
// @ts-ignore: decorator
@inline function rot16(x: v128): v128 { return v128.or(i64x2.shr_u(x, 16), i64x2.shl(x, 48)); }
// @ts-ignore: decorator
@inline function rot63(x: v128): v128 { return v128.or(i64x2.shr_u(x, 63), i64x2.add(x, x)); }

/** m[SIGMA[s + i]] */
// @ts-ignore: decorator
@inline function msg(s: usize, i: usize): v128 { return v128.load(MSG + <usize>load<u8>(s + i)); }

/**
 * One compression of both lanes: v = STATE, 12 rounds over MSG, then word w of
 * lane L's result, STATE[w] ^ v[w] ^ v[w+8], goes to OUT + 64 L + 8 w. A
 * separate function on purpose: called once per pair of leaves, it is small
 * and hot (and V8 tiers a function up between calls, never within one).
 */
function compress2(): void {
  let v0 = v128.load(STATE, 0), v1 = v128.load(STATE, 16), v2 = v128.load(STATE, 32), v3 = v128.load(STATE, 48);
  let v4 = v128.load(STATE, 64), v5 = v128.load(STATE, 80), v6 = v128.load(STATE, 96), v7 = v128.load(STATE, 112);
  let v8 = v128.load(STATE, 128), v9 = v128.load(STATE, 144), v10 = v128.load(STATE, 160), v11 = v128.load(STATE, 176);
  let v12 = v128.load(STATE, 192), v13 = v128.load(STATE, 208), v14 = v128.load(STATE, 224), v15 = v128.load(STATE, 240);
  for (let s: usize = SIGMA, end: usize = SIGMA + 192; s < end; s += 16) {
    // G(v0, v4, v8, v12; m[s0], m[s1])
    v0 = i64x2.add(i64x2.add(v0, v4), msg(s, 0)); v12 = rot32(v128.xor(v12, v0)); v8 = i64x2.add(v8, v12); v4 = rot24(v128.xor(v4, v8));
    v0 = i64x2.add(i64x2.add(v0, v4), msg(s, 1)); v12 = rot16(v128.xor(v12, v0)); v8 = i64x2.add(v8, v12); v4 = rot63(v128.xor(v4, v8));
    // G(v1, v5, v9, v13; m[s2], m[s3])
    v1 = i64x2.add(i64x2.add(v1, v5), msg(s, 2)); v13 = rot32(v128.xor(v13, v1)); v9 = i64x2.add(v9, v13); v5 = rot24(v128.xor(v5, v9));
    v1 = i64x2.add(i64x2.add(v1, v5), msg(s, 3)); v13 = rot16(v128.xor(v13, v1)); v9 = i64x2.add(v9, v13); v5 = rot63(v128.xor(v5, v9));
    // G(v2, v6, v10, v14; m[s4], m[s5])
    v2 = i64x2.add(i64x2.add(v2, v6), msg(s, 4)); v14 = rot32(v128.xor(v14, v2)); v10 = i64x2.add(v10, v14); v6 = rot24(v128.xor(v6, v10));
    v2 = i64x2.add(i64x2.add(v2, v6), msg(s, 5)); v14 = rot16(v128.xor(v14, v2)); v10 = i64x2.add(v10, v14); v6 = rot63(v128.xor(v6, v10));
    // G(v3, v7, v11, v15; m[s6], m[s7])
    v3 = i64x2.add(i64x2.add(v3, v7), msg(s, 6)); v15 = rot32(v128.xor(v15, v3)); v11 = i64x2.add(v11, v15); v7 = rot24(v128.xor(v7, v11));
    v3 = i64x2.add(i64x2.add(v3, v7), msg(s, 7)); v15 = rot16(v128.xor(v15, v3)); v11 = i64x2.add(v11, v15); v7 = rot63(v128.xor(v7, v11));
    // G(v0, v5, v10, v15; m[s8], m[s9])
    v0 = i64x2.add(i64x2.add(v0, v5), msg(s, 8)); v15 = rot32(v128.xor(v15, v0)); v10 = i64x2.add(v10, v15); v5 = rot24(v128.xor(v5, v10));
    v0 = i64x2.add(i64x2.add(v0, v5), msg(s, 9)); v15 = rot16(v128.xor(v15, v0)); v10 = i64x2.add(v10, v15); v5 = rot63(v128.xor(v5, v10));
    // G(v1, v6, v11, v12; m[s10], m[s11])
    v1 = i64x2.add(i64x2.add(v1, v6), msg(s, 10)); v12 = rot32(v128.xor(v12, v1)); v11 = i64x2.add(v11, v12); v6 = rot24(v128.xor(v6, v11));
    v1 = i64x2.add(i64x2.add(v1, v6), msg(s, 11)); v12 = rot16(v128.xor(v12, v1)); v11 = i64x2.add(v11, v12); v6 = rot63(v128.xor(v6, v11));
    // G(v2, v7, v8, v13; m[s12], m[s13])
    v2 = i64x2.add(i64x2.add(v2, v7), msg(s, 12)); v13 = rot32(v128.xor(v13, v2)); v8 = i64x2.add(v8, v13); v7 = rot24(v128.xor(v7, v8));
    v2 = i64x2.add(i64x2.add(v2, v7), msg(s, 13)); v13 = rot16(v128.xor(v13, v2)); v8 = i64x2.add(v8, v13); v7 = rot63(v128.xor(v7, v8));
    // G(v3, v4, v9, v14; m[s14], m[s15])
    v3 = i64x2.add(i64x2.add(v3, v4), msg(s, 14)); v14 = rot32(v128.xor(v14, v3)); v9 = i64x2.add(v9, v14); v4 = rot24(v128.xor(v4, v9));
    v3 = i64x2.add(i64x2.add(v3, v4), msg(s, 15)); v14 = rot16(v128.xor(v14, v3)); v9 = i64x2.add(v9, v14); v4 = rot63(v128.xor(v4, v9));
  }
  out2(0, v128.xor(v128.load(STATE, 0), v128.xor(v0, v8)));
  out2(1, v128.xor(v128.load(STATE, 16), v128.xor(v1, v9)));
  out2(2, v128.xor(v128.load(STATE, 32), v128.xor(v2, v10)));
  out2(3, v128.xor(v128.load(STATE, 48), v128.xor(v3, v11)));
  out2(4, v128.xor(v128.load(STATE, 64), v128.xor(v4, v12)));
  out2(5, v128.xor(v128.load(STATE, 80), v128.xor(v5, v13)));
  out2(6, v128.xor(v128.load(STATE, 96), v128.xor(v6, v14)));
  out2(7, v128.xor(v128.load(STATE, 112), v128.xor(v7, v15)));
}

/** Word w of both lanes' results to OUT. */
// @ts-ignore: decorator
@inline function out2(w: usize, x: v128): void {
  v128.store64_lane(OUT + 8 * w, x, 0);
  v128.store64_lane(OUT + 8 * w, x, 1, 64);
}

/** Both lanes of STATE/MSG slot i = x. */
// @ts-ignore: decorator
@inline function put2(area: usize, i: usize, x: u64): void { v128.store(area + 16 * i, i64x2.splat(x)); }

/** STATE = chain value, IV with counter `len` (< 2^32) and the final flag. */
function loadState(len: u32, last: bool): void {
  for (let i: usize = 0; i < 8; i++) put2(STATE, i, load<u64>(CHAIN + 8 * i));
  put2(STATE, 8, IV0);
  put2(STATE, 9, IV1);
  put2(STATE, 10, IV2);
  put2(STATE, 11, IV3);
  put2(STATE, 12, IV4 ^ <u64>len);
  put2(STATE, 13, IV5);
  put2(STATE, 14, last ? ~IV6 : IV6);
  put2(STATE, 15, IV7);
}

/** Address of the 128-byte block the caller writes before absorb() / setLeafInput(). */
export function blockPtr(): usize { return BLOCK; }

/** Start an unkeyed hash with 32 bytes of output. */
export function hashStart(): void {
  store<u64>(CHAIN, IV0 ^ 0x01010020, 0);
  store<u64>(CHAIN, IV1, 8);
  store<u64>(CHAIN, IV2, 16);
  store<u64>(CHAIN, IV3, 24);
  store<u64>(CHAIN, IV4, 32);
  store<u64>(CHAIN, IV5, 40);
  store<u64>(CHAIN, IV6, 48);
  store<u64>(CHAIN, IV7, 56);
}

/** Compress BLOCK (a leading block; `len` = bytes hashed up to its end) into the chain value. */
export function absorb(len: u32): void {
  loadState(len, false);
  for (let i: usize = 0; i < 16; i++) put2(MSG, i, load<u64>(BLOCK + 8 * i));
  compress2();
  memory.copy(CHAIN, OUT, 64);
}

/** Address of the variable index word in MSG, lane 0 (lane 1 is 8 bytes on). */
let idxAddr: usize = 0;

/**
 * BLOCK holds the final block (zero padded) of a `len`-byte message whose u32
 * word number `idxWord` of that block varies (the leaf index): prepare STATE
 * and MSG for leafPair().
 */
export function setLeafInput(len: u32, idxWord: u32): void {
  loadState(len, true);
  for (let i: usize = 0; i < 16; i++) put2(MSG, i, load<u64>(BLOCK + 8 * i));
  idxAddr = MSG + 16 * (idxWord >> 1) + 4 * (idxWord & 1);
}

/** Hash leaves i (lane 0) and i+1 (lane 1): their digests go to OUT and OUT + 64. */
// @ts-ignore: decorator
@inline function leafPair(i: u32): void {
  store<u32>(idxAddr, i, 0);
  store<u32>(idxAddr, i + 1, 8);
  compress2();
}

// ---------------------------------------------------------------------------
// Memory: a bump allocator over linear memory. Regions that must grow are
// re-allocated at the top (the old space is not reused; growth is rare, the
// first sizes have 1/16 slack). A fresh instance per (n, k) starts empty.

/**
 * Rows are written (and read) 16 or 32 bytes at a time, past their end: the
 * bytes after a row belong to the next row, written later, or to this slack
 * at the end of each region that holds rows.
 */
const SLACK: u64 = 32;

/** Why the last call trapped: 1 = out of memory. */
let failure: i32 = 0;
export function lastFailure(): i32 { return failure; }

let top: usize = 0;

function alloc(bytes: u64): usize {
  if (top == 0) top = (__heap_base + 63) & ~(<usize>63);
  const start = <u64>top;
  const end = (start + bytes + 63) & ~(<u64>63);
  if (end > 0xffff_0000) {
    failure = 1;
    unreachable();
  }
  const have = <u64>memory.size() << 16;
  if (end > have) {
    const pages = <i32>((end - have + 0xffff) >> 16);
    if (memory.grow(pages) < 0) {
      failure = 1;
      unreachable();
    }
  }
  top = <usize>end;
  return <usize>start;
}

// ---------------------------------------------------------------------------
// Workspace (see shared/equihash.ts for the algorithm).

let D: u32 = 0; // bits per digit
let K: u32 = 0;
let FB: u32 = 0; // fine bits sorted inside a coarse bucket
let NC: u32 = 0; // coarse buckets, 2^(D-FB)
let NF: u32 = 0; // fine buckets, 2^FB
let NLEAVES: u32 = 0; // 2^(D+1)

/** Rows of the current level grouped by coarse bucket c: rows [cstart[c], cstart[c+1]). */
let rows: usize = 0;
let rowsCap: u64 = 0; // bytes
/** Rows of the next level in generation order, before the coarse scatter. */
let tmp: usize = 0;
let tmpCap: u64 = 0; // bytes
let cstart: usize = 0; // NC + 1 u32
let ccount: usize = 0; // NC u32
let fcount: usize = 0; // NF u32
/** Byte addresses of a coarse bucket's rows, sorted by fine key. */
let perm: usize = 0;
let permCap: u32 = 0; // entries
/** Level j >= 1 of the tree: L[j][g], R[j][g] are the refs of row g's parents. */
const TREE_L = memory.data(32, 16);
const TREE_R = memory.data(32, 16);
const TREE_CAP = memory.data(32, 16); // entries
/** Candidate pairs of level-(k-1) refs found by the final step. */
let cand: usize = 0;
let candCap: u32 = 0; // pairs
let candCount: u32 = 0;

// @ts-ignore: decorator
@inline function treeL(j: u32): usize { return load<usize>(TREE_L + 4 * j); }
// @ts-ignore: decorator
@inline function treeR(j: u32): usize { return load<usize>(TREE_R + 4 * j); }

/** Set up the workspace for d bits per digit, k, fb fine bits. Call once per instance. */
export function init(d: u32, k: u32, fb: u32): void {
  D = d;
  K = k;
  FB = fb;
  NC = 1 << (d - fb);
  NF = 1 << fb;
  NLEAVES = <u32>(1 << (d + 1));
  const slack = <u64>Math.ceil(<f64>NLEAVES * 1.0625);
  cstart = alloc(4 * (<u64>NC + 1));
  ccount = alloc(4 * <u64>NC);
  fcount = alloc(4 * <u64>NF);
  permCap = 1 << (fb + 2);
  perm = alloc(4 * <u64>permCap);
  for (let j: u32 = 1; j < k; j++) {
    store<usize>(TREE_L + 4 * j, alloc(4 * slack));
    store<usize>(TREE_R + 4 * j, alloc(4 * slack));
    store<u32>(TREE_CAP + 4 * j, <u32>slack);
  }
  candCap = 64;
  cand = alloc(8 * <u64>candCap);
  rowsCap = slack * (k + 2) * 4;
  rows = alloc(rowsCap + SLACK);
  tmpCap = rowsCap;
  tmp = alloc(tmpCap + SLACK);
}

/** Stable scatter of M rows of RW words from tmp into rows by coarse bucket (counts in ccount). */
function scatter(M: u32, RW: u32): void {
  const need = <u64>M * RW * 4;
  if (rowsCap < need) {
    rowsCap = <u64>Math.ceil(<f64>M * 1.0625) * RW * 4;
    rows = alloc(rowsCap + SLACK);
  }
  let pos: u32 = 0;
  for (let c: u32 = 0; c < NC; c++) {
    const n = load<u32>(ccount + 4 * c);
    store<u32>(cstart + 4 * c, pos);
    store<u32>(ccount + 4 * c, pos); // write cursor
    pos += n;
  }
  store<u32>(cstart + 4 * NC, pos);
  const fb = FB, rw4 = RW * 4;
  for (let o: usize = tmp, end: usize = tmp + M * rw4; o < end; o += rw4) {
    const cp = ccount + 4 * (load<u32>(o) >>> fb);
    const w = load<u32>(cp);
    store<u32>(cp, w + 1);
    const dst = rows + w * rw4;
    for (let t: usize = 0; t + 8 <= rw4; t += 8) store<u64>(dst + t, load<u64>(o + t));
    if (rw4 & 4) store<u32>(dst + rw4 - 4, load<u32>(o + rw4 - 4));
  }
}

/** Hash all leaves (the input set by setLeafInput) into level 0. */
export function fill(): void {
  const fb = FB, sh = 32 - D, rw4: usize = (K + 2) * 4, idx4: usize = (K + 1) * 4;
  memory.fill(ccount, 0, 4 * NC);
  let o = tmp;
  for (let i: u32 = 0; i < NLEAVES; i += 2) {
    leafPair(i);
    for (let lane: u32 = 0; lane < 2; lane++) {
      // Row: digits 0..k (digest words >>> sh), then the leaf index. All 8
      // words are written: those past the row are overwritten by the next one.
      const h = OUT + 64 * lane;
      const d = i32x4.shr_u(v128.load(h), sh);
      v128.store(o, d);
      v128.store(o, i32x4.shr_u(v128.load(h, 16), sh), 16);
      store<u32>(o + idx4, i + lane);
      const cp = ccount + 4 * (<u32>i32x4.extract_lane(d, 0) >>> fb);
      store<u32>(cp, load<u32>(cp) + 1);
      o += rw4;
    }
  }
  scatter(NLEAVES, K + 2);
}

/**
 * Counting-sort the rows [s, e) (RW words each) on the fine key bits into
 * perm (byte addresses); fcount[f] ends as the end of fine bucket f. Returns
 * the number of pairs inside fine buckets.
 */
function fineSort(s: u32, e: u32, RW: u32): u64 {
  if (permCap < e - s) {
    permCap = (e - s) * 2;
    perm = alloc(4 * <u64>permCap);
  }
  const fmask = NF - 1, rw4 = RW * 4;
  memory.fill(fcount, 0, 4 * NF);
  const first = rows + s * rw4, last = rows + e * rw4;
  for (let o = first; o < last; o += rw4) {
    const fp = fcount + 4 * (load<u32>(o) & fmask);
    store<u32>(fp, load<u32>(fp) + 1);
  }
  let pos: u32 = 0;
  let pairs: u64 = 0;
  for (let f: u32 = 0; f < NF; f++) {
    const fp = fcount + 4 * f;
    const c = load<u32>(fp);
    store<u32>(fp, pos);
    pos += c;
    pairs += (<u64>c * (c - 1)) >> 1;
  }
  for (let o = first; o < last; o += rw4) {
    const fp = fcount + 4 * (load<u32>(o) & fmask);
    const x = load<u32>(fp);
    store<u32>(fp, x + 1);
    store<u32>(perm + 4 * x, o);
  }
  return pairs;
}

function growTree(lvl: u32, need: u64): void {
  const cap = <u64>Math.ceil(<f64>need * 1.25);
  const old = <u64>load<u32>(TREE_CAP + 4 * lvl);
  const L = alloc(4 * cap), R = alloc(4 * cap);
  memory.copy(L, treeL(lvl), <usize>(4 * old));
  memory.copy(R, treeR(lvl), <usize>(4 * old));
  store<usize>(TREE_L + 4 * lvl, L);
  store<usize>(TREE_R + 4 * lvl, R);
  store<u32>(TREE_CAP + 4 * lvl, <u32>cap);
}

function growTmp(need: u64, used: usize): void {
  tmpCap = <u64>Math.ceil(<f64>need * 1.25);
  const t = alloc(tmpCap + SLACK);
  memory.copy(t, tmp, used);
  tmp = t;
}

/** Rows generated so far at the level being built, and the byte offset of the next one in tmp. */
let gen: u32 = 0;
let genOff: usize = 0;

// The collision work is done per coarse bucket by functions called many times
// per nonce (collideBucket, finalsBucket, fineSort), not in one long call per
// level: V8 switches a hot function to its optimised code at its next call, so
// at the larger levels the optimised code takes over within the first nonce
// (n = 90 cold: collisions 52 ms instead of 62, measured).

/** Collide the rows of coarse bucket c of level j into tmp (level j+1, generation order). */
function collideBucket(j: u32, c: u32): void {
  const W = K + 1 - j, RW = W + 1, RW1 = W; // next level: W-1 digits + ref
  const pairs = fineSort(load<u32>(cstart + 4 * c), load<u32>(cstart + 4 * c + 4), RW);
  if (pairs == 0) return;
  const fb = FB, lvl = j + 1, w4: usize = W * 4, rw14: usize = RW1 * 4;
  const need = <u64>gen + pairs;
  if (<u64>load<u32>(TREE_CAP + 4 * lvl) < need) growTree(lvl, need);
  if (tmpCap < need * rw14) growTmp(need * rw14, genOff);
  const L = treeL(lvl), R = treeR(lvl);
  let p = gen, t = tmp + genOff;
  let start: u32 = 0;
  for (let f: u32 = 0; f < NF; f++) {
    const end = load<u32>(fcount + 4 * f);
    for (let x = start; x + 1 < end; x++) {
      const oa = load<usize>(perm + 4 * x);
      const ra = load<u32>(oa + w4);
      for (let y = x + 1; y < end; y++) {
        const ob = load<usize>(perm + 4 * y);
        // New row: digits 1..W-1 of the pair XORed, then its generation
        // number p. Four (or eight) words are XORed and stored: the ones past
        // the row are overwritten by p and by the next row.
        const x4 = v128.xor(v128.load(oa, 4), v128.load(ob, 4));
        v128.store(t, x4);
        if (W > 5) v128.store(t, v128.xor(v128.load(oa, 20), v128.load(ob, 20)), 16);
        store<u32>(t + w4 - 4, p);
        const cp = ccount + 4 * (<u32>i32x4.extract_lane(x4, 0) >>> fb);
        store<u32>(cp, load<u32>(cp) + 1);
        store<u32>(L + 4 * p, ra);
        store<u32>(R + 4 * p, load<u32>(ob + w4));
        p++;
        t += rw14;
      }
    }
    start = end;
  }
  gen = p;
  genOff = t - tmp;
}

/** Collide level j (rows grouped by coarse bucket) into level j+1; returns its size. */
function collide(j: u32): u32 {
  memory.fill(ccount, 0, 4 * NC);
  gen = 0;
  genOff = 0;
  for (let c: u32 = 0; c < NC; c++) collideBucket(j, c);
  scatter(gen, K + 1 - j);
  return gen;
}

/** Final step on coarse bucket c of level k-1 (rows [digit k-1, digit k, ref]): append ref pairs agreeing on both digits to cand. */
function finalsBucket(c: u32): void {
  if (fineSort(load<u32>(cstart + 4 * c), load<u32>(cstart + 4 * c + 4), 3) == 0) return;
  let count = candCount;
  let start: u32 = 0;
  for (let f: u32 = 0; f < NF; f++) {
    const end = load<u32>(fcount + 4 * f);
    for (let x = start; x + 1 < end; x++) {
      const oa = load<usize>(perm + 4 * x);
      const a1 = load<u32>(oa, 4);
      for (let y = x + 1; y < end; y++) {
        const ob = load<usize>(perm + 4 * y);
        if (a1 != load<u32>(ob, 4)) continue;
        if (count == candCap) growCand();
        store<u32>(cand + 8 * count, load<u32>(oa, 8));
        store<u32>(cand + 8 * count, load<u32>(ob, 8), 4);
        count++;
      }
    }
    start = end;
  }
  candCount = count;
}

function growCand(): void {
  const c2 = alloc(16 * <u64>candCap);
  memory.copy(c2, cand, 8 * candCap);
  cand = c2;
  candCap *= 2;
}

/**
 * Everything after fill() for one nonce: levels 0..k-2 collide into the next,
 * then the final step. Returns the number of candidates (see candidate()).
 */
export function collisions(): u32 {
  for (let j: u32 = 0; j + 1 < K; j++) collide(j);
  candCount = 0;
  for (let c: u32 = 0; c < NC; c++) finalsBucket(c);
  return candCount;
}

/** Write the leaf indices under ref of level j, left to right, from `out`; returns the address after them. */
function expand(j: u32, ref: u32, out: usize): usize {
  if (j == 0) {
    store<u32>(out, ref);
    return out + 4;
  }
  out = expand(j - 1, load<u32>(treeL(j) + 4 * ref), out);
  return expand(j - 1, load<u32>(treeR(j) + 4 * ref), out);
}

/** Digits 0..k of the leaves of one candidate (2^k rows of k+1 u32), for the self-check. */
const CHECK = memory.data(4096 + <i32>SLACK, 16);

/**
 * The self-check of a candidate whose leaves are at LEAVES_OUT: re-hash every
 * leaf and require, as verify() in shared/equihash.ts does, that each aligned
 * group of 2^j leaves XORs to zero on digit j-1 (j = 1..k) and all of them on
 * digit k. The collision code builds only such trees, so this fails only on a
 * bug there; it is cheap (2^k hashes) where the plain-JS verify() costs a
 * first solve milliseconds of interpreted BLAKE2b.
 */
function treeHolds(): bool {
  const k = K, sh = 32 - D, n: u32 = 1 << k, rw4: usize = (k + 1) * 4;
  for (let i: u32 = 0; i < n; i += 2) {
    store<u32>(idxAddr, load<u32>(LEAVES_OUT + 4 * i), 0);
    store<u32>(idxAddr, load<u32>(LEAVES_OUT + 4 * i, 4), 8);
    compress2();
    for (let lane: u32 = 0; lane < 2; lane++) {
      const row = CHECK + <usize>(i + lane) * rw4, h = OUT + 64 * lane; // 8 words written, in row order (as fill)
      v128.store(row, i32x4.shr_u(v128.load(h), sh));
      v128.store(row, i32x4.shr_u(v128.load(h, 16), sh), 16);
    }
  }
  // Level j: row g/2 = row g ^ row g+1 (in place: row g/2 never overlaps rows not yet read).
  for (let j: u32 = 1, rows = n; j <= k; j++, rows >>= 1) {
    for (let g: u32 = 0; g < rows; g += 2) {
      const a = CHECK + <usize>g * rw4, b = a + rw4, c = CHECK + <usize>(g >> 1) * rw4;
      for (let t: usize = 0; t < rw4; t += 4) store<u32>(c + t, load<u32>(a + t) ^ load<u32>(b + t));
      if (load<u32>(c + 4 * (j - 1)) != 0) return false;
    }
  }
  return load<u32>(CHECK + 4 * k) == 0;
}

/**
 * Expand candidate i (of the last collisions()) into its 2^k leaf indices at the
 * returned address. Returns 0 instead when two indices are equal (most
 * candidates: a tree that reuses a leaf is no solution) or, never unless the
 * collision code has a bug, when the self-check fails. Call after fill():
 * the self-check hashes with the same input.
 */
export function candidate(i: u32): usize {
  const end = expand(K - 1, load<u32>(cand + 8 * i, 4), expand(K - 1, load<u32>(cand + 8 * i), LEAVES_OUT));
  for (let a: usize = LEAVES_OUT + 4; a < end; a += 4) {
    const v = load<u32>(a);
    for (let b: usize = LEAVES_OUT; b < a; b += 4) if (load<u32>(b) == v) return 0;
  }
  return treeHolds() ? LEAVES_OUT : 0;
}

/** Test hook: hash `count` leaves from `start` (setLeafInput first) and return the address of their 32-byte digests. */
export function hashLeaves(start: u32, count: u32): usize {
  const out = alloc(32 * (<u64>count + 1));
  for (let i: u32 = 0; i < count; i += 2) {
    leafPair(start + i);
    memory.copy(out + 32 * i, OUT, 32);
    memory.copy(out + 32 * i + 32, OUT + 64, 32);
  }
  return out;
}
