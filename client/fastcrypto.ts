// The client's crypto before argon2 on the `get` path, without libsodium.
// Loading libsodium-wrappers-sumo costs ~40-60 ms of main-thread time, and on
// the GET path everything before the first byte sent (record id, OPRF
// blinding) and before argon2 (unblinding) is on the critical path. These few
// operations are small: keyed BLAKE2b (over shared/blake2b.ts's compression
// function) and ristretto255 (RFC 9496) with BigInt field arithmetic. The
// rest of GET (rule opening, derive) runs while argon2 does, with libsodium.
//
// Byte-identical to libsodium (crypto_generichash, crypto_core_ristretto255_
// from_hash, crypto_scalarmult_ristretto255, scalar_invert), proven by
// test/client.fastcrypto.test.ts (oprf.json vectors and random crosschecks).
// Scalar multiplication always doubles and adds (no branch on secret bits);
// BigInt arithmetic is not strictly constant-time.
import { randomBytes } from 'node:crypto';
import { compress, initState } from '../shared/blake2b.js';

// ------------------------------------------------------------------ BLAKE2b

/** BLAKE2b with an optional key (0..64 bytes) and outlen 1..64: libsodium crypto_generichash. */
export function blake2b(msg: Uint8Array, key: Uint8Array | null, outlen = 32): Uint8Array {
  const keylen = key ? key.length : 0;
  if (keylen > 64) throw new RangeError('blake2b: key longer than 64 bytes');
  const h = initState(outlen);
  h[0]! ^= keylen << 8;
  // keyed: the key padded to one 128-byte block comes first
  const data = new Uint8Array((keylen ? 128 : 0) + msg.length);
  if (keylen) data.set(key!, 0);
  data.set(msg, keylen ? 128 : 0);
  const m = new Int32Array(32);
  const len = data.length;
  const nblocks = Math.max(1, Math.ceil(len / 128));
  for (let b = 0; b < nblocks; b++) {
    const last = b === nblocks - 1;
    m.fill(0);
    const end = Math.min(len, b * 128 + 128);
    for (let i = b * 128; i < end; i++) {
      const j = i - b * 128;
      m[j >> 2]! |= data[i]! << ((j & 3) << 3);
    }
    compress(h, m, last ? len : (b + 1) * 128, last, h);
  }
  data.fill(0);
  m.fill(0);
  const out = new Uint8Array(outlen);
  for (let i = 0; i < outlen; i++) out[i] = (h[i >> 2]! >>> ((i & 3) << 3)) & 0xff;
  h.fill(0);
  return out;
}

// ------------------------------------------------------------------ field GF(2^255-19)

const P = (1n << 255n) - 19n;
const mod = (a: bigint): bigint => {
  const r = a % P;
  return r < 0n ? r + P : r;
};
function pow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}
/** RFC 9496 constants (checked in the tests against their definitions). */
export const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;
export const SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752n;
export const SQRT_AD_MINUS_ONE = 25063068953384623474111414158702152701244531502492656460079210482610430750235n;
export const INVSQRT_A_MINUS_D = 54469307008909316920995813868745141605393597292927456921205312896311721017578n;
export const ONE_MINUS_D_SQ = 1159843021668779879193775521855586647937357759715417654439879720876111806838n;
export const D_MINUS_ONE_SQ = 40440834346308536858101042469323190826248399146238708352240133220865137265952n;
const D2 = (2n * D) % P;

const isNeg = (x: bigint): boolean => (mod(x) & 1n) === 1n;
const abs = (x: bigint): bigint => (isNeg(x) ? mod(-x) : mod(x));

function sqrtRatioM1(u: bigint, v: bigint): { wasSquare: boolean; r: bigint } {
  const v3 = mod(v * v * v);
  const v7 = mod(v3 * v3 * v);
  let r = mod(u * v3 * pow(mod(u * v7), (P - 5n) / 8n, P));
  const check = mod(v * r * r);
  const correct = check === mod(u);
  const flipped = check === mod(-u);
  const flippedI = check === mod(-u * SQRT_M1);
  if (flipped || flippedI) r = mod(r * SQRT_M1);
  return { wasSquare: correct || flipped, r: abs(r) };
}

const leInt = (b: Uint8Array): bigint => {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
  return x;
};
const intLe = (x: bigint, len = 32): Uint8Array => {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
};

// ------------------------------------------------------------------ ristretto255

/** Extended coordinates (X:Y:Z:T) on edwards25519, a = -1. */
type Pt = [bigint, bigint, bigint, bigint];
const IDENTITY: Pt = [0n, 1n, 1n, 0n];

/** Unified (complete) addition, add-2008-hwcd-3. */
function add(p: Pt, q: Pt): Pt {
  const [x1, y1, z1, t1] = p;
  const [x2, y2, z2, t2] = q;
  const a = mod((y1 - x1) * (y2 - x2));
  const b = mod((y1 + x1) * (y2 + x2));
  const c = mod(t1 * D2 * t2);
  const d = mod(2n * z1 * z2);
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

/** scalar * p, MSB first over 256 bits: always double, always add, then select. */
function mul(scalar: bigint, p: Pt): Pt {
  let acc = IDENTITY;
  for (let i = 255; i >= 0; i--) {
    acc = add(acc, acc);
    const withP = add(acc, p);
    const bit = Number((scalar >> BigInt(i)) & 1n);
    acc = bit ? withP : acc;
  }
  return acc;
}

export function decode(s: Uint8Array): Pt | null {
  if (s.length !== 32) return null;
  const x0 = leInt(s);
  if (x0 >= P || isNeg(x0)) return null; // non-canonical (incl. bit 255) or negative
  const ss = mod(x0 * x0);
  const u1 = mod(1n - ss);
  const u2 = mod(1n + ss);
  const u2sq = mod(u2 * u2);
  const v = mod(-(D * mod(u1 * u1)) - u2sq);
  const { wasSquare, r: invsqrt } = sqrtRatioM1(1n, mod(v * u2sq));
  const denX = mod(invsqrt * u2);
  const denY = mod(invsqrt * denX * v);
  const x = abs(2n * x0 * denX);
  const y = mod(u1 * denY);
  const t = mod(x * y);
  if (!wasSquare || isNeg(t) || y === 0n) return null;
  return [x, y, 1n, t];
}

export function encode(p: Pt): Uint8Array {
  const [x0, y0, z0, t0] = p;
  const u1 = mod((z0 + y0) * (z0 - y0));
  const u2 = mod(x0 * y0);
  const { r: invsqrt } = sqrtRatioM1(1n, mod(u1 * u2 * u2));
  const den1 = mod(invsqrt * u1);
  const den2 = mod(invsqrt * u2);
  const zInv = mod(den1 * den2 * t0);
  const rotate = isNeg(t0 * zInv);
  let x = x0;
  let y = y0;
  let denInv = den2;
  if (rotate) {
    x = mod(y0 * SQRT_M1);
    y = mod(x0 * SQRT_M1);
    denInv = mod(den1 * INVSQRT_A_MINUS_D);
  }
  if (isNeg(x * zInv)) y = mod(-y);
  return intLe(abs(denInv * (z0 - y)));
}

function elligator(t: bigint): Pt {
  const r = mod(SQRT_M1 * t * t);
  const u = mod((r + 1n) * ONE_MINUS_D_SQ);
  const v = mod((-1n - r * D) * (r + D));
  const sq = sqrtRatioM1(u, v);
  let s = sq.r;
  let c = P - 1n;
  if (!sq.wasSquare) {
    s = mod(-abs(s * t));
    c = r;
  }
  const n = mod(c * (r - 1n) * D_MINUS_ONE_SQ - v);
  const w0 = mod(2n * s * v);
  const w1 = mod(n * SQRT_AD_MINUS_ONE);
  const w2 = mod(1n - s * s);
  const w3 = mod(1n + s * s);
  return [mod(w0 * w3), mod(w2 * w1), mod(w1 * w3), mod(w0 * w2)];
}

const MASK255 = (1n << 255n) - 1n;

/** crypto_core_ristretto255_from_hash (64 bytes → point encoding). */
export function fromHash(h: Uint8Array): Uint8Array {
  if (h.length !== 64) throw new RangeError('fromHash needs 64 bytes');
  const p1 = elligator(mod(leInt(h.subarray(0, 32)) & MASK255));
  const p2 = elligator(mod(leInt(h.subarray(32, 64)) & MASK255));
  return encode(add(p1, p2));
}

// ------------------------------------------------------------------ scalars mod L

export const L = (1n << 252n) + 27742317777372353535851937790883648493n;

/** crypto_core_ristretto255_scalar_random: uniform in 1..L-1. */
export function randomScalar(): Uint8Array {
  for (;;) {
    const b = randomBytes(32);
    b[31]! &= 0x1f;
    const x = leInt(b);
    b.fill(0);
    if (x !== 0n && x < L) return intLe(x);
  }
}

/** crypto_core_ristretto255_scalar_invert; null for 0. */
export function invertScalar(r: Uint8Array): Uint8Array | null {
  const x = leInt(r) % L;
  if (x === 0n) return null;
  return intLe(pow(x, L - 2n, L));
}

/**
 * crypto_scalarmult_ristretto255: the scalar with bit 255 cleared (not
 * reduced); null for an invalid point or an identity result.
 */
export function scalarmult(scalar: Uint8Array, point: Uint8Array): Uint8Array | null {
  const p = decode(point);
  if (!p) return null;
  const q = mul(leInt(scalar) & MASK255, p);
  const out = encode(q);
  return out.every((b) => b === 0) ? null : out;
}

/** A canonical, valid ristretto255 encoding (the identity included). */
export const isValidPoint = (p: Uint8Array): boolean => decode(p) !== null;
