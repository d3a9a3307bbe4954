// BLAKE2b (RFC 7693), unkeyed, in plain JS: the Equihash verifier's hash
// (shared/equihash.ts digits()/verify()), also used by client/fastcrypto.ts.
// `compress` works in 32-bit limbs (each 64-bit word is a lo/hi pair of
// int32), one round per loop iteration with the 8 G calls written out.
// The solver hashes leaves with its own WebAssembly SIMD BLAKE2b
// (shared/equihash-core/assembly/index.ts); the two share no code, so the
// verifier stays independent of the solver. Both are checked against
// libsodium's crypto_generichash in test/equihash.blake2b.test.ts.
//
// Pure module: no top-level side effects besides constant tables.

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
