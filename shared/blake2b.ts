// BLAKE2b (RFC 7693), unkeyed, for the Equihash solver and verifier.
//
// Two implementations of the compression function:
// - `compress`: plain JS in 32-bit limbs (each 64-bit word is a lo/hi pair of
//   int32), one round per loop iteration with the 8 G calls written out. Used
//   for whole-message hashing (`blake2b`), for the constant leading blocks of a
//   batch, and as the batch fallback when WebAssembly SIMD is unavailable.
// - a WebAssembly kernel assembled at first use (no toolchain, no binary blob:
//   the bytes are emitted by `buildKernel` below) that hashes many inputs that
//   differ only in one u32 word. 64-bit adds/rotates are native there and two
//   inputs go through the rounds side by side in i64x2 lanes; on a 2-core VM
//   this is ~10x the JS limb code and ~4x a libsodium-wrappers call per hash.
// Both are checked against libsodium's crypto_generichash in
// test/equihash.blake2b.test.ts.
//
// Pure module: no top-level side effects besides constant tables (the kernel
// is compiled lazily, once per thread).

/** SIGMA schedule for the 12 rounds, pre-doubled (index into the int32 message array). */
const S = Uint8Array.of(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 28, 20, 8, 16, 18, 30, 26, 12, 2, 24, 0, 4, 22, 14, 10, 6, 22, 16, 24, 0, 10, 4, 30, 26, 20, 28, 6, 12, 14, 2, 18, 8, 14, 18, 6, 2, 26, 24, 22, 28, 4, 12, 10, 20, 8, 0, 30, 16, 18, 0, 10, 14, 4, 8, 20, 30, 28, 2, 22, 24, 12, 16, 6, 26, 4, 24, 12, 20, 0, 22, 16, 6, 8, 26, 14, 10, 30, 28, 2, 18, 24, 10, 2, 30, 28, 26, 8, 20, 0, 14, 12, 6, 18, 4, 16, 22, 26, 22, 14, 28, 24, 2, 6, 18, 10, 0, 30, 8, 16, 12, 4, 20, 12, 30, 28, 18, 22, 6, 0, 16, 24, 4, 26, 14, 2, 8, 20, 10, 20, 4, 16, 8, 14, 12, 2, 10, 30, 22, 18, 28, 6, 24, 26, 0, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 28, 20, 8, 16, 18, 30, 26, 12, 2, 24, 0, 4, 22, 14, 10, 6);

/** BLAKE2b IV as 16 int32 (lo, hi of each 64-bit word). */
const IV = Int32Array.of(-205731576, 1779033703, -2067093701, -1150833019, -23791573, 1013904242, 1595750129, -1521486534, -1377402159, 1359893119, 725511199, -1694144372, -79577749, 528734635, 327033209, 1541459225);

/**
 * One BLAKE2b compression.
 * h: chain value, 16 int32 (8 words as lo,hi); m: message block, 32 int32 (16
 * words as lo,hi, i.e. the block read as u32le); len: total bytes hashed so far
 * including this block (< 2^53); last: final-block flag. The new chain value is
 * written to out (which may be h).
 */
export function compress(h: Int32Array, m: Int32Array, len: number, last: boolean, out: Int32Array): void {
  let v0l = h[0] | 0, v0h = h[1] | 0;
  let v1l = h[2] | 0, v1h = h[3] | 0;
  let v2l = h[4] | 0, v2h = h[5] | 0;
  let v3l = h[6] | 0, v3h = h[7] | 0;
  let v4l = h[8] | 0, v4h = h[9] | 0;
  let v5l = h[10] | 0, v5h = h[11] | 0;
  let v6l = h[12] | 0, v6h = h[13] | 0;
  let v7l = h[14] | 0, v7h = h[15] | 0;
  let v8l = -205731576, v8h = 1779033703;
  let v9l = -2067093701, v9h = -1150833019;
  let v10l = -23791573, v10h = 1013904242;
  let v11l = 1595750129, v11h = -1521486534;
  let v12l = -1377402159 ^ (len | 0), v12h = 1359893119 ^ ((len / 4294967296) | 0);
  let v13l = 725511199, v13h = -1694144372;
  let v14l = last ? ~-79577749 : -79577749, v14h = last ? ~528734635 : 528734635;
  let v15l = 327033209, v15h = 1541459225;
  let t = 0, xl = 0, xh = 0, x = 0, y = 0;
  for (let o = 0; o < 192; o += 16) {
    // G0
    x = S[o + 0]!; y = S[o + 1]!;
    t = (v0l + v4l) | 0; v0h = (v0h + v4h + ((t >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = t;
    t = (v0l + m[x]!) | 0; v0h = (v0h + m[x + 1]! + ((t >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = t;
    xl = v12l ^ v0l; xh = v12h ^ v0h; v12l = xh; v12h = xl;
    t = (v8l + v12l) | 0; v8h = (v8h + v12h + ((t >>> 0) < (v8l >>> 0) ? 1 : 0)) | 0; v8l = t;
    xl = v4l ^ v8l; xh = v4h ^ v8h; v4l = (xl >>> 24) | (xh << 8); v4h = (xh >>> 24) | (xl << 8);
    t = (v0l + v4l) | 0; v0h = (v0h + v4h + ((t >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = t;
    t = (v0l + m[y]!) | 0; v0h = (v0h + m[y + 1]! + ((t >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = t;
    xl = v12l ^ v0l; xh = v12h ^ v0h; v12l = (xl >>> 16) | (xh << 16); v12h = (xh >>> 16) | (xl << 16);
    t = (v8l + v12l) | 0; v8h = (v8h + v12h + ((t >>> 0) < (v8l >>> 0) ? 1 : 0)) | 0; v8l = t;
    xl = v4l ^ v8l; xh = v4h ^ v8h; v4l = (xh >>> 31) | (xl << 1); v4h = (xl >>> 31) | (xh << 1);
    // G1
    x = S[o + 2]!; y = S[o + 3]!;
    t = (v1l + v5l) | 0; v1h = (v1h + v5h + ((t >>> 0) < (v1l >>> 0) ? 1 : 0)) | 0; v1l = t;
    t = (v1l + m[x]!) | 0; v1h = (v1h + m[x + 1]! + ((t >>> 0) < (v1l >>> 0) ? 1 : 0)) | 0; v1l = t;
    xl = v13l ^ v1l; xh = v13h ^ v1h; v13l = xh; v13h = xl;
    t = (v9l + v13l) | 0; v9h = (v9h + v13h + ((t >>> 0) < (v9l >>> 0) ? 1 : 0)) | 0; v9l = t;
    xl = v5l ^ v9l; xh = v5h ^ v9h; v5l = (xl >>> 24) | (xh << 8); v5h = (xh >>> 24) | (xl << 8);
    t = (v1l + v5l) | 0; v1h = (v1h + v5h + ((t >>> 0) < (v1l >>> 0) ? 1 : 0)) | 0; v1l = t;
    t = (v1l + m[y]!) | 0; v1h = (v1h + m[y + 1]! + ((t >>> 0) < (v1l >>> 0) ? 1 : 0)) | 0; v1l = t;
    xl = v13l ^ v1l; xh = v13h ^ v1h; v13l = (xl >>> 16) | (xh << 16); v13h = (xh >>> 16) | (xl << 16);
    t = (v9l + v13l) | 0; v9h = (v9h + v13h + ((t >>> 0) < (v9l >>> 0) ? 1 : 0)) | 0; v9l = t;
    xl = v5l ^ v9l; xh = v5h ^ v9h; v5l = (xh >>> 31) | (xl << 1); v5h = (xl >>> 31) | (xh << 1);
    // G2
    x = S[o + 4]!; y = S[o + 5]!;
    t = (v2l + v6l) | 0; v2h = (v2h + v6h + ((t >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = t;
    t = (v2l + m[x]!) | 0; v2h = (v2h + m[x + 1]! + ((t >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = t;
    xl = v14l ^ v2l; xh = v14h ^ v2h; v14l = xh; v14h = xl;
    t = (v10l + v14l) | 0; v10h = (v10h + v14h + ((t >>> 0) < (v10l >>> 0) ? 1 : 0)) | 0; v10l = t;
    xl = v6l ^ v10l; xh = v6h ^ v10h; v6l = (xl >>> 24) | (xh << 8); v6h = (xh >>> 24) | (xl << 8);
    t = (v2l + v6l) | 0; v2h = (v2h + v6h + ((t >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = t;
    t = (v2l + m[y]!) | 0; v2h = (v2h + m[y + 1]! + ((t >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = t;
    xl = v14l ^ v2l; xh = v14h ^ v2h; v14l = (xl >>> 16) | (xh << 16); v14h = (xh >>> 16) | (xl << 16);
    t = (v10l + v14l) | 0; v10h = (v10h + v14h + ((t >>> 0) < (v10l >>> 0) ? 1 : 0)) | 0; v10l = t;
    xl = v6l ^ v10l; xh = v6h ^ v10h; v6l = (xh >>> 31) | (xl << 1); v6h = (xl >>> 31) | (xh << 1);
    // G3
    x = S[o + 6]!; y = S[o + 7]!;
    t = (v3l + v7l) | 0; v3h = (v3h + v7h + ((t >>> 0) < (v3l >>> 0) ? 1 : 0)) | 0; v3l = t;
    t = (v3l + m[x]!) | 0; v3h = (v3h + m[x + 1]! + ((t >>> 0) < (v3l >>> 0) ? 1 : 0)) | 0; v3l = t;
    xl = v15l ^ v3l; xh = v15h ^ v3h; v15l = xh; v15h = xl;
    t = (v11l + v15l) | 0; v11h = (v11h + v15h + ((t >>> 0) < (v11l >>> 0) ? 1 : 0)) | 0; v11l = t;
    xl = v7l ^ v11l; xh = v7h ^ v11h; v7l = (xl >>> 24) | (xh << 8); v7h = (xh >>> 24) | (xl << 8);
    t = (v3l + v7l) | 0; v3h = (v3h + v7h + ((t >>> 0) < (v3l >>> 0) ? 1 : 0)) | 0; v3l = t;
    t = (v3l + m[y]!) | 0; v3h = (v3h + m[y + 1]! + ((t >>> 0) < (v3l >>> 0) ? 1 : 0)) | 0; v3l = t;
    xl = v15l ^ v3l; xh = v15h ^ v3h; v15l = (xl >>> 16) | (xh << 16); v15h = (xh >>> 16) | (xl << 16);
    t = (v11l + v15l) | 0; v11h = (v11h + v15h + ((t >>> 0) < (v11l >>> 0) ? 1 : 0)) | 0; v11l = t;
    xl = v7l ^ v11l; xh = v7h ^ v11h; v7l = (xh >>> 31) | (xl << 1); v7h = (xl >>> 31) | (xh << 1);
    // G4
    x = S[o + 8]!; y = S[o + 9]!;
    t = (v0l + v5l) | 0; v0h = (v0h + v5h + ((t >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = t;
    t = (v0l + m[x]!) | 0; v0h = (v0h + m[x + 1]! + ((t >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = t;
    xl = v15l ^ v0l; xh = v15h ^ v0h; v15l = xh; v15h = xl;
    t = (v10l + v15l) | 0; v10h = (v10h + v15h + ((t >>> 0) < (v10l >>> 0) ? 1 : 0)) | 0; v10l = t;
    xl = v5l ^ v10l; xh = v5h ^ v10h; v5l = (xl >>> 24) | (xh << 8); v5h = (xh >>> 24) | (xl << 8);
    t = (v0l + v5l) | 0; v0h = (v0h + v5h + ((t >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = t;
    t = (v0l + m[y]!) | 0; v0h = (v0h + m[y + 1]! + ((t >>> 0) < (v0l >>> 0) ? 1 : 0)) | 0; v0l = t;
    xl = v15l ^ v0l; xh = v15h ^ v0h; v15l = (xl >>> 16) | (xh << 16); v15h = (xh >>> 16) | (xl << 16);
    t = (v10l + v15l) | 0; v10h = (v10h + v15h + ((t >>> 0) < (v10l >>> 0) ? 1 : 0)) | 0; v10l = t;
    xl = v5l ^ v10l; xh = v5h ^ v10h; v5l = (xh >>> 31) | (xl << 1); v5h = (xl >>> 31) | (xh << 1);
    // G5
    x = S[o + 10]!; y = S[o + 11]!;
    t = (v1l + v6l) | 0; v1h = (v1h + v6h + ((t >>> 0) < (v1l >>> 0) ? 1 : 0)) | 0; v1l = t;
    t = (v1l + m[x]!) | 0; v1h = (v1h + m[x + 1]! + ((t >>> 0) < (v1l >>> 0) ? 1 : 0)) | 0; v1l = t;
    xl = v12l ^ v1l; xh = v12h ^ v1h; v12l = xh; v12h = xl;
    t = (v11l + v12l) | 0; v11h = (v11h + v12h + ((t >>> 0) < (v11l >>> 0) ? 1 : 0)) | 0; v11l = t;
    xl = v6l ^ v11l; xh = v6h ^ v11h; v6l = (xl >>> 24) | (xh << 8); v6h = (xh >>> 24) | (xl << 8);
    t = (v1l + v6l) | 0; v1h = (v1h + v6h + ((t >>> 0) < (v1l >>> 0) ? 1 : 0)) | 0; v1l = t;
    t = (v1l + m[y]!) | 0; v1h = (v1h + m[y + 1]! + ((t >>> 0) < (v1l >>> 0) ? 1 : 0)) | 0; v1l = t;
    xl = v12l ^ v1l; xh = v12h ^ v1h; v12l = (xl >>> 16) | (xh << 16); v12h = (xh >>> 16) | (xl << 16);
    t = (v11l + v12l) | 0; v11h = (v11h + v12h + ((t >>> 0) < (v11l >>> 0) ? 1 : 0)) | 0; v11l = t;
    xl = v6l ^ v11l; xh = v6h ^ v11h; v6l = (xh >>> 31) | (xl << 1); v6h = (xl >>> 31) | (xh << 1);
    // G6
    x = S[o + 12]!; y = S[o + 13]!;
    t = (v2l + v7l) | 0; v2h = (v2h + v7h + ((t >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = t;
    t = (v2l + m[x]!) | 0; v2h = (v2h + m[x + 1]! + ((t >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = t;
    xl = v13l ^ v2l; xh = v13h ^ v2h; v13l = xh; v13h = xl;
    t = (v8l + v13l) | 0; v8h = (v8h + v13h + ((t >>> 0) < (v8l >>> 0) ? 1 : 0)) | 0; v8l = t;
    xl = v7l ^ v8l; xh = v7h ^ v8h; v7l = (xl >>> 24) | (xh << 8); v7h = (xh >>> 24) | (xl << 8);
    t = (v2l + v7l) | 0; v2h = (v2h + v7h + ((t >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = t;
    t = (v2l + m[y]!) | 0; v2h = (v2h + m[y + 1]! + ((t >>> 0) < (v2l >>> 0) ? 1 : 0)) | 0; v2l = t;
    xl = v13l ^ v2l; xh = v13h ^ v2h; v13l = (xl >>> 16) | (xh << 16); v13h = (xh >>> 16) | (xl << 16);
    t = (v8l + v13l) | 0; v8h = (v8h + v13h + ((t >>> 0) < (v8l >>> 0) ? 1 : 0)) | 0; v8l = t;
    xl = v7l ^ v8l; xh = v7h ^ v8h; v7l = (xh >>> 31) | (xl << 1); v7h = (xl >>> 31) | (xh << 1);
    // G7
    x = S[o + 14]!; y = S[o + 15]!;
    t = (v3l + v4l) | 0; v3h = (v3h + v4h + ((t >>> 0) < (v3l >>> 0) ? 1 : 0)) | 0; v3l = t;
    t = (v3l + m[x]!) | 0; v3h = (v3h + m[x + 1]! + ((t >>> 0) < (v3l >>> 0) ? 1 : 0)) | 0; v3l = t;
    xl = v14l ^ v3l; xh = v14h ^ v3h; v14l = xh; v14h = xl;
    t = (v9l + v14l) | 0; v9h = (v9h + v14h + ((t >>> 0) < (v9l >>> 0) ? 1 : 0)) | 0; v9l = t;
    xl = v4l ^ v9l; xh = v4h ^ v9h; v4l = (xl >>> 24) | (xh << 8); v4h = (xh >>> 24) | (xl << 8);
    t = (v3l + v4l) | 0; v3h = (v3h + v4h + ((t >>> 0) < (v3l >>> 0) ? 1 : 0)) | 0; v3l = t;
    t = (v3l + m[y]!) | 0; v3h = (v3h + m[y + 1]! + ((t >>> 0) < (v3l >>> 0) ? 1 : 0)) | 0; v3l = t;
    xl = v14l ^ v3l; xh = v14h ^ v3h; v14l = (xl >>> 16) | (xh << 16); v14h = (xh >>> 16) | (xl << 16);
    t = (v9l + v14l) | 0; v9h = (v9h + v14h + ((t >>> 0) < (v9l >>> 0) ? 1 : 0)) | 0; v9l = t;
    xl = v4l ^ v9l; xh = v4h ^ v9h; v4l = (xh >>> 31) | (xl << 1); v4h = (xl >>> 31) | (xh << 1);
  }
  out[0] = h[0] ^ v0l ^ v8l;
  out[1] = h[1] ^ v0h ^ v8h;
  out[2] = h[2] ^ v1l ^ v9l;
  out[3] = h[3] ^ v1h ^ v9h;
  out[4] = h[4] ^ v2l ^ v10l;
  out[5] = h[5] ^ v2h ^ v10h;
  out[6] = h[6] ^ v3l ^ v11l;
  out[7] = h[7] ^ v3h ^ v11h;
  out[8] = h[8] ^ v4l ^ v12l;
  out[9] = h[9] ^ v4h ^ v12h;
  out[10] = h[10] ^ v5l ^ v13l;
  out[11] = h[11] ^ v5h ^ v13h;
  out[12] = h[12] ^ v6l ^ v14l;
  out[13] = h[13] ^ v6h ^ v14h;
  out[14] = h[14] ^ v7l ^ v15l;
  out[15] = h[15] ^ v7h ^ v15h;
}

/** The initial chain value for an unkeyed hash with outlen bytes of output (1..64). */
export function initState(outlen: number): Int32Array {
  if (!Number.isInteger(outlen) || outlen < 1 || outlen > 64) throw new RangeError('blake2b: outlen must be 1..64');
  const h = IV.slice();
  h[0] ^= 0x01010000 ^ outlen;
  return h;
}

/** Read a 128-byte block (zero padded) of msg starting at off into m as u32le words. */
export function loadBlock(msg: Uint8Array, off: number, m: Int32Array): void {
  const end = Math.min(msg.length, off + 128);
  m.fill(0);
  for (let i = off; i < end; i++) {
    const j = i - off;
    m[j >> 2] |= msg[i]! << ((j & 3) << 3);
  }
}

/** Unkeyed BLAKE2b of msg with outlen bytes of output (default 32). */
export function blake2b(msg: Uint8Array, outlen = 32): Uint8Array {
  const h = initState(outlen);
  const m = new Int32Array(32);
  const nblocks = Math.max(1, Math.ceil(msg.length / 128));
  for (let b = 0; b < nblocks; b++) {
    const last = b === nblocks - 1;
    loadBlock(msg, b * 128, m);
    compress(h, m, last ? msg.length : (b + 1) * 128, last, h);
  }
  const out = new Uint8Array(outlen);
  for (let i = 0; i < outlen; i++) out[i] = (h[i >> 2]! >>> ((i & 3) << 3)) & 0xff;
  return out;
}

// ---------------------------------------------------------------------------
// Batch hashing: many inputs that differ only in one u32le word of the last
// block (the Equihash index word).

/** Hashes per `hash()` call at most (sizes the kernel's output area). */
export const BATCH = 4096;

export interface BatchHasher {
  /**
   * Fix the input: `input` is the whole message with the variable u32le word at
   * byte `wordOffset` (4-aligned, inside the last 128-byte block). Leading
   * blocks are compressed once here.
   */
  setInput(input: Uint8Array, wordOffset: number): void;
  /**
   * Hash the inputs with word = start .. start+count-1 (count <= BATCH) with
   * 32-byte output; returns a view of count*8 u32 (digest i at [8i, 8i+8), the
   * digest read as u32le words). The view is overwritten by the next call.
   */
  hash(start: number, count: number): Uint32Array;
  /** 'wasm-simd' or 'js'. */
  readonly kind: string;
}

interface Prepared { h: Int32Array; m: Int32Array; len: number; idxWord: number }

function prepare(input: Uint8Array, wordOffset: number): Prepared {
  if (!Number.isInteger(wordOffset) || wordOffset < 0 || (wordOffset & 3) !== 0 || wordOffset + 4 > input.length)
    throw new RangeError('blake2b batch: bad word offset');
  const nblocks = Math.max(1, Math.ceil(input.length / 128));
  const lastOff = (nblocks - 1) * 128;
  if (wordOffset < lastOff) throw new RangeError('blake2b batch: word must be in the last block');
  const h = initState(32);
  const m = new Int32Array(32);
  for (let b = 0; b < nblocks - 1; b++) {
    loadBlock(input, b * 128, m);
    compress(h, m, (b + 1) * 128, false, h);
  }
  loadBlock(input, lastOff, m);
  return { h, m, len: input.length, idxWord: (wordOffset - lastOff) >> 2 };
}

class JsBatchHasher implements BatchHasher {
  readonly kind = 'js';
  private p: Prepared | null = null;
  private readonly out = new Uint32Array(BATCH * 8);
  private readonly st = new Int32Array(16);
  setInput(input: Uint8Array, wordOffset: number): void {
    this.p = prepare(input, wordOffset);
  }
  hash(start: number, count: number): Uint32Array {
    const p = this.p;
    if (!p) throw new Error('blake2b batch: no input');
    if (count > BATCH) throw new RangeError('blake2b batch: count too large');
    const { h, m, len, idxWord } = p;
    const st = this.st, out = this.out;
    for (let i = 0; i < count; i++) {
      m[idxWord] = (start + i) | 0;
      compress(h, m, len, true, st);
      for (let w = 0; w < 8; w++) out[8 * i + w] = st[w]!;
    }
    return out.subarray(0, 8 * count);
  }
}

// --- WebAssembly kernel ---------------------------------------------------
// Memory layout (bytes), every 64-bit word stored twice (lane 0, lane 1):
//   [0, 256)    initial v0..v15: v0..v7 = chain value h, v8..v15 = IV with the
//               byte counter and the final-block flag folded into v12/v14;
//   [256, 512)  message words m0..m15; lane 0 hashes word value i, lane 1 i+1;
//   [512, ...)  output: 32 bytes per hash.
const K_STATE = 0, K_MSG = 256, K_OUT = 512;
const K_PAGES = Math.ceil((K_OUT + BATCH * 32) / 65536);

const SIGMA10 = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
  [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
  [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
  [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
  [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];

function uleb(out: number[], n: number): void {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}

function sleb(out: number[], n: number): void {
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

function section(mod: number[], id: number, body: number[]): void {
  mod.push(id);
  uleb(mod, body.length);
  mod.push(...body);
}

/**
 * Assemble the kernel module: export "mem" (memory) and "hash"(start, count,
 * idxAddr), which for i = start, start+2, ... < start+count writes i at
 * idxAddr and i+1 at idxAddr+8 (the word's two lanes), runs the 12 rounds on
 * both lanes and stores h ^ v[0..3] ^ v[8..11] of each lane to the output.
 */
function buildKernel(): Uint8Array {
  const c: number[] = [];
  const op = (...xs: number[]): void => { c.push(...xs); };
  const simd = (code: number): void => { c.push(0xfd); uleb(c, code); };
  const get = (l: number): void => { op(0x20); uleb(c, l); };
  const set = (l: number): void => { op(0x21); uleb(c, l); };
  const tee = (l: number): void => { op(0x22); uleb(c, l); };
  const i32c = (n: number): void => { op(0x41); sleb(c, n); };
  const memarg = (align: number, offset: number): void => { uleb(c, align); uleb(c, offset); };
  const v128load = (offset: number): void => { simd(0x00); memarg(4, offset); };
  const shuffle = (lanes: number[]): void => { simd(0x0d); op(...lanes); };
  const xor = (): void => simd(0x51);
  const add = (): void => simd(0xce);
  // locals: 0 start, 1 count, 2 idxAddr | 3 i, 4 end, 5 o, 6 tmp(v128), 7..22 v0..v15 (v128)
  const START = 0, COUNT = 1, IDX = 2, I = 3, END = 4, O = 5, TMP = 6;
  const v = (j: number): number => 7 + j;
  const byteRot = (r: number): number[] => {
    const l: number[] = [];
    for (let lane = 0; lane < 2; lane++) for (let j = 0; j < 8; j++) l.push(lane * 8 + ((j + r) & 7));
    return l;
  };
  const ROT32 = byteRot(4), ROT24 = byteRot(3), ROT16 = byteRot(2);
  // a = a + b + m[x]
  const addm = (a: number, b: number, x: number): void => {
    get(v(a)); get(v(b)); add(); i32c(0); v128load(K_MSG + 16 * x); add(); set(v(a));
  };
  const xorRot = (d: number, a: number, lanes: number[]): void => {
    get(v(d)); get(v(a)); xor(); tee(TMP); get(TMP); shuffle(lanes); set(v(d)); // shuffle takes two vectors
  };
  const addTo = (cc: number, d: number): void => { get(v(cc)); get(v(d)); add(); set(v(cc)); };
  const G = (a: number, b: number, cc: number, d: number, x: number, y: number): void => {
    addm(a, b, x); xorRot(d, a, ROT32); addTo(cc, d); xorRot(b, cc, ROT24);
    addm(a, b, y); xorRot(d, a, ROT16); addTo(cc, d);
    // b = rotr63(b ^ c) = (t + t) | (t >>> 63)
    get(v(b)); get(v(cc)); xor(); tee(TMP); get(TMP); add(); get(TMP); i32c(63); simd(0xcd); simd(0x50); set(v(b));
  };
  get(START); set(I);
  get(START); get(COUNT); op(0x6a); set(END);
  i32c(K_OUT); set(O);
  op(0x02, 0x40, 0x03, 0x40); // block, loop
  get(I); get(END); op(0x4f); op(0x0d, 0x01); // if i >= end: break
  get(IDX); get(I); op(0x36); memarg(2, 0); // i32.store [idx] = i
  get(IDX); get(I); i32c(1); op(0x6a); op(0x36); memarg(2, 8); // i32.store [idx+8] = i+1
  for (let j = 0; j < 16; j++) { i32c(0); v128load(K_STATE + 16 * j); set(v(j)); }
  for (let r = 0; r < 12; r++) {
    const s = SIGMA10[r % 10]!;
    G(0, 4, 8, 12, s[0]!, s[1]!); G(1, 5, 9, 13, s[2]!, s[3]!); G(2, 6, 10, 14, s[4]!, s[5]!); G(3, 7, 11, 15, s[6]!, s[7]!);
    G(0, 5, 10, 15, s[8]!, s[9]!); G(1, 6, 11, 12, s[10]!, s[11]!); G(2, 7, 8, 13, s[12]!, s[13]!); G(3, 4, 9, 14, s[14]!, s[15]!);
  }
  for (let w = 0; w < 4; w++) {
    i32c(0); v128load(K_STATE + 16 * w); get(v(w)); xor(); get(v(w + 8)); xor(); set(TMP);
    get(O); get(TMP); simd(0x5b); memarg(3, 8 * w); op(0); // v128.store64_lane lane 0
    get(O); get(TMP); simd(0x5b); memarg(3, 32 + 8 * w); op(1); // lane 1
  }
  get(O); i32c(64); op(0x6a); set(O);
  get(I); i32c(2); op(0x6a); set(I);
  op(0x0c, 0x00); // br loop
  op(0x0b, 0x0b); // end loop, end block
  op(0x0b); // end function

  const body: number[] = [];
  uleb(body, 2); // local groups
  uleb(body, 3); body.push(0x7f); // i, end, o : i32
  uleb(body, 17); body.push(0x7b); // tmp, v0..v15 : v128
  body.push(...c);
  const code: number[] = [1];
  uleb(code, body.length);
  code.push(...body);

  const mod: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  section(mod, 1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 0]); // type: (i32 i32 i32) -> ()
  section(mod, 3, [1, 0]); // function 0 has type 0
  const mem: number[] = [1, 0x00]; uleb(mem, K_PAGES);
  section(mod, 5, mem); // memory 0: min K_PAGES
  section(mod, 7, [2, 3, 0x6d, 0x65, 0x6d, 0x02, 0, 4, 0x68, 0x61, 0x73, 0x68, 0x00, 0]); // "mem", "hash"
  section(mod, 10, code);
  return Uint8Array.from(mod);
}

// Minimal typing of the WebAssembly global (tsconfig has no DOM lib).
interface WasmModule { readonly __wasmModule?: never }
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (mod: WasmModule, imports: object) => { exports: Record<string, unknown> };
}
const wasmApi = (): WasmApi | undefined => (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let kernelModule: WasmModule | null | undefined;
/** Why the kernel is unavailable (diagnostics), if it is. */
export let kernelError: string | undefined;

/** The compiled kernel, or null when this engine lacks WebAssembly SIMD. */
function kernel(): WasmModule | null {
  if (kernelModule === undefined) {
    try {
      const api = wasmApi();
      if (!api) throw new Error('no WebAssembly');
      kernelModule = new api.Module(buildKernel());
    } catch (e) {
      kernelModule = null;
      kernelError = e instanceof Error ? e.message : String(e);
    }
  }
  return kernelModule;
}

class WasmBatchHasher implements BatchHasher {
  readonly kind = 'wasm-simd';
  private readonly fn: (start: number, count: number, idxAddr: number) => void;
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;
  private idxAddr = -1;
  constructor(mod: WasmModule) {
    const inst = new (wasmApi()!.Instance)(mod, {});
    const mem = inst.exports['mem'] as { buffer: ArrayBuffer };
    this.fn = inst.exports['hash'] as (start: number, count: number, idxAddr: number) => void;
    this.u32 = new Uint32Array(mem.buffer);
    this.i32 = new Int32Array(mem.buffer);
  }
  setInput(input: Uint8Array, wordOffset: number): void {
    const { h, m, len, idxWord } = prepare(input, wordOffset);
    const a = this.i32;
    const put = (byteOff: number, lo: number, hi: number): void => {
      const w = byteOff >> 2;
      a[w] = lo; a[w + 1] = hi; a[w + 2] = lo; a[w + 3] = hi; // both lanes
    };
    for (let j = 0; j < 8; j++) put(K_STATE + 16 * j, h[2 * j]!, h[2 * j + 1]!);
    for (let j = 0; j < 8; j++) {
      let lo = IV[2 * j]!, hi = IV[2 * j + 1]!;
      if (j === 4) { lo ^= len | 0; hi ^= (len / 4294967296) | 0; }
      if (j === 6) { lo = ~lo; hi = ~hi; }
      put(K_STATE + 16 * (8 + j), lo, hi);
    }
    for (let j = 0; j < 16; j++) put(K_MSG + 16 * j, m[2 * j]!, m[2 * j + 1]!);
    this.idxAddr = K_MSG + 16 * (idxWord >> 1) + 4 * (idxWord & 1);
  }
  hash(start: number, count: number): Uint32Array {
    if (this.idxAddr < 0) throw new Error('blake2b batch: no input');
    if (count > BATCH) throw new RangeError('blake2b batch: count too large');
    this.fn(start, count, this.idxAddr); // an odd count computes one spare hash
    return this.u32.subarray(K_OUT >> 2, (K_OUT >> 2) + 8 * count);
  }
}

/**
 * A batch hasher for this thread: the WebAssembly SIMD kernel when the engine
 * supports it (Node >= 16.4 on x86-64/arm64), else the JS compression.
 * `prefer: 'js'` forces the fallback (tests).
 */
export function createBatchHasher(prefer?: 'js'): BatchHasher {
  const mod = prefer === 'js' ? null : kernel();
  return mod ? new WasmBatchHasher(mod) : new JsBatchHasher();
}
