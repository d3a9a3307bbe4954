// client/fastcrypto.ts (the libsodium-free pre-argon2 crypto of `sphinx get`)
// must be byte-identical to libsodium: the reference OPRF vectors, random and
// edge-case crosschecks against libsodium-wrappers-sumo and @noble/curves
// (an independent implementation), and its WebAssembly field arithmetic
// against BigInt arithmetic, including inputs at the limits of its limb bounds.
import { randomBytes } from 'node:crypto';
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fc from '../client/fastcrypto.js';
import { fastRecordId } from '../client/get.js';
import { sodium } from '../shared/sodium.js';
import { hex, loadVectors, toHex } from './helpers/vectors.js';

const V = loadVectors('oprf');
const P = (1n << 255n) - 19n;
const m = (a: bigint): bigint => ((a % P) + P) % P;

test('RFC 9496 constants satisfy their definitions', () => {
  assert.is(m(fc.D * 121666n + 121665n), 0n);
  assert.is(m(fc.SQRT_M1 * fc.SQRT_M1), P - 1n);
  assert.is(m(fc.SQRT_AD_MINUS_ONE * fc.SQRT_AD_MINUS_ONE), m(-fc.D - 1n));
  assert.is(m(fc.INVSQRT_A_MINUS_D * fc.INVSQRT_A_MINUS_D * (-1n - fc.D)), 1n);
  assert.is(fc.ONE_MINUS_D_SQ, m(1n - fc.D * fc.D));
  assert.is(fc.D_MINUS_ONE_SQ, m((fc.D - 1n) * (fc.D - 1n)));
});

test('oprf.json: h0, H0, alpha = r*H0, H0_k and rwd0 as the reference', () => {
  assert.ok(V.cases.length >= 8);
  for (const c of V.cases) {
    const pwd = hex(c.pwd);
    const h0 = fc.blake2b(pwd, null, 64);
    assert.is(toHex(h0), c.h0, c.label);
    const H0 = fc.fromHash(h0);
    assert.is(toHex(H0), c.H0, c.label);
    assert.is(toHex(fc.scalarmult(hex(c.r), H0)!), c.alpha, c.label);
    // k is not reduced: bit 255 cleared only (half the cases have it set)
    assert.is(toHex(fc.scalarmult(hex(c.k), hex(c.H0))!), c.H0_k, c.label);
    // the client's unblinding: (1/r) * beta = k * H0
    const N = fc.scalarmult(fc.invertScalar(hex(c.r))!, hex(c.beta))!;
    assert.is(toHex(N), c.H0_k, c.label);
    const msg = new Uint8Array([...pwd, ...N]);
    assert.is(toHex(fc.blake2b(msg, null, 32)), c.rwd0, c.label);
  }
});

test('invalid encodings are refused like libsodium (and bit 255 set too)', () => {
  for (const c of V.respond_negative) {
    if (!c.alpha) continue;
    const a = hex(c.alpha);
    const expect = sodium.crypto_core_ristretto255_is_valid_point(a) && (a[31]! & 0x80) === 0;
    assert.is(fc.isValidPoint(a), expect, c.why ?? c.label);
    if (toHex(a) === '00'.repeat(32)) assert.is(fc.scalarmult(hex(V.cases[0].r), a), null, 'identity result');
  }
  for (const c of V.respond_quirks_accepted) assert.not.ok(fc.isValidPoint(hex(c.alpha)), 'bit 255 set');
  const h = sodium.crypto_core_ristretto255_from_hash(randomBytes(64));
  const bad = Uint8Array.from(h);
  bad[31]! |= 0x80;
  assert.ok(fc.isValidPoint(h));
  assert.not.ok(fc.isValidPoint(bad));
});

test('random crosscheck against libsodium: keyed blake2b, from_hash, scalarmult, invert, validity', () => {
  for (let i = 0; i < 40; i++) {
    const msg = randomBytes(i * 7);
    const key = i % 3 === 0 ? null : randomBytes(1 + ((i * 5) % 64));
    const out = 1 + ((i * 13) % 64);
    assert.is(toHex(fc.blake2b(msg, key, out)), toHex(sodium.crypto_generichash(out, msg, key)), `blake2b ${i}`);
    const h = randomBytes(64);
    const pt = sodium.crypto_core_ristretto255_from_hash(h);
    assert.is(toHex(fc.fromHash(h)), toHex(pt), `from_hash ${i}`);
    const s = randomBytes(32);
    assert.is(toHex(fc.scalarmult(s, pt)!), toHex(sodium.crypto_scalarmult_ristretto255(s, pt)), `scalarmult ${i}`);
    const r = fc.randomScalar();
    assert.is(toHex(fc.invertScalar(r)!), toHex(sodium.crypto_core_ristretto255_scalar_invert(r)), `invert ${i}`);
    const junk = randomBytes(32);
    junk[31]! &= 0x7f;
    assert.is(fc.isValidPoint(junk), sodium.crypto_core_ristretto255_is_valid_point(junk), `validity ${i}`);
  }
  // the blake2b key-block edge cases: empty message, message of exactly one block
  const k = randomBytes(32);
  for (const n of [0, 1, 127, 128, 129, 256]) {
    const msg = randomBytes(n);
    assert.is(toHex(fc.blake2b(msg, k, 32)), toHex(sodium.crypto_generichash(32, msg, k)), `len ${n}`);
  }
});

test('client.json: record ids (the get path derives them without libsodium) as pwdsphinx getid', () => {
  const C = loadVectors('client');
  const mk = hex(C.masterkey);
  assert.is(toHex(fc.blake2b(new TextEncoder().encode(C.contexts.SALT_CTX), mk, 32)), C.salt_key);
  assert.ok(C.ids.length >= 9);
  for (const e of C.ids) assert.is(toHex(fastRecordId(mk, e.user, e.host)), e.id, `${e.user}|${e.host}`);
});

test('randomScalar is reduced and non-zero', () => {
  const L = fc.L;
  for (let i = 0; i < 20; i++) {
    const r = fc.randomScalar();
    let x = 0n;
    for (let j = 31; j >= 0; j--) x = (x << 8n) | BigInt(r[j]!);
    assert.ok(x > 0n && x < L);
  }
});


// ------------------------------------------------------------------ helpers

const L = fc.L;
const MASK255 = (1n << 255n) - 1n;
const NP = ristretto255.Point;
const le = (b: Uint8Array): bigint => {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
  return x;
};
const bytesLe = (x: bigint, n = 32): Uint8Array => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Number((x >> BigInt(8 * i)) & 0xffn);
  return out;
};
function powm(b: bigint, e: bigint, mod: bigint): bigint {
  let r = 1n;
  b = ((b % mod) + mod) % mod;
  for (; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % mod;
    b = (b * b) % mod;
  }
  return r;
}
/** libsodium's answer, null where it fails (-1: invalid point or identity result) */
const sodiumMul = (s: Uint8Array, p: Uint8Array): string | null => {
  try {
    return toHex(sodium.crypto_scalarmult_ristretto255(s, p));
  } catch {
    return null;
  }
};
/** @noble/curves' answer: the scalar with bit 255 cleared, reduced mod L */
const nobleMul = (s: Uint8Array, p: Uint8Array): string | null => {
  let pt;
  try {
    pt = NP.fromBytes(p);
  } catch {
    return null;
  }
  const n = (le(s) & MASK255) % L;
  if (n === 0n) return null;
  const q = pt.multiply(n);
  return q.is0() ? null : toHex(q.toBytes());
};
const nobleValid = (p: Uint8Array): boolean => {
  try {
    NP.fromBytes(p);
    return true;
  } catch {
    return false;
  }
};
const hexOrNull = (b: Uint8Array | null): string | null => (b ? toHex(b) : null);

// ------------------------------------------------------------------ the WebAssembly field

const T = fc.testing;

test('the embedded WebAssembly module is exactly what the generators emit', () => {
  const built = T.buildModule();
  const embedded = T.embeddedModule();
  if (toHex(built) !== toHex(embedded)) {
    console.error(`FIELD_WASM is stale; the generators now give:\n${Buffer.from(built).toString('base64')}`);
  }
  assert.is(toHex(embedded), toHex(built));
});

/** The field module seen as BigInt functions, for checking it against plain BigInt arithmetic. */
function fieldView() {
  const f = T.field();
  const i64 = new BigInt64Array(f.mem.buffer);
  const put = (a: number, x: bigint): void => {
    f.mem.set(bytesLe(x), T.IO0);
    f.frombytes(a, T.IO0);
  };
  const val = (a: number): bigint => {
    f.freeze(T.IO0, a);
    return le(f.mem.subarray(T.IO0, T.IO0 + 32));
  };
  const limbs = (a: number): bigint[] => Array.from({ length: 10 }, (_, i) => i64[a / 8 + i]!);
  const setLimbs = (a: number, l: bigint[]): void => l.forEach((x, i) => (i64[a / 8 + i] = x));
  /** the integer a's limbs stand for (not reduced) */
  const raw = (a: number): bigint => limbs(a).reduce((acc, x, i) => acc + (x << BigInt(T.OFF[i]!)), 0n);
  /** the bounds every stored element keeps: limbs 1..9 in [0, 2^W), limb 0 in [-38, 2^26+38] */
  const inBounds = (a: number): boolean =>
    limbs(a).every((x, i) => (i === 0 ? x >= -38n && x <= (1n << 26n) + 38n : x >= 0n && x < 1n << BigInt(T.W[i]!)));
  return { f, put, val, limbs, setLimbs, raw, inBounds };
}

const md = (x: bigint): bigint => ((x % P) + P) % P;

/** random limbs at and inside the bounds' extremes, as mul/add/sub/freeze may see them */
function extremeLimbs(): bigint[] {
  const pick = (lo: bigint, hi: bigint): bigint => {
    const r = randomBytes(1)[0]! % 4;
    if (r === 0) return lo;
    if (r === 1) return hi;
    return lo + (le(randomBytes(8)) % (hi - lo + 1n));
  };
  return Array.from({ length: 10 }, (_, i) => (i === 0 ? pick(-38n, (1n << 26n) + 38n) : pick(0n, (1n << BigInt(T.W[i]!)) - 1n)));
}

test('field: mul, add, sub, freeze against BigInt on random, non-canonical and extreme-limb inputs', () => {
  const { f, put, val, setLimbs, raw, inBounds } = fieldView();
  const [a, b, o] = [T.slot(0), T.slot(1), T.slot(2)];
  const check = (x: bigint, y: bigint, what: string): void => {
    f.mul(o, a, b);
    assert.ok(inBounds(o), `mul bounds ${what}`);
    assert.is(val(o), md(x * y), `mul ${what}`);
    f.add(o, a, b);
    assert.ok(inBounds(o), `add bounds ${what}`);
    assert.is(val(o), md(x + y), `add ${what}`);
    f.sub(o, a, b);
    assert.ok(inBounds(o), `sub bounds ${what}`);
    assert.is(val(o), md(x - y), `sub ${what}`);
    f.mul(o, a, a);
    assert.is(val(o), md(x * x), `square ${what}`);
  };
  // values through frombytes: canonical, >= P (bit 255 ignored), near 0, P and 2^255
  const edges = [0n, 1n, 2n, 19n, P - 1n, P, P + 1n, P + 18n, MASK255, (1n << 254n) - 1n, 1n << 254n, (1n << 255n) + 5n];
  for (const x of edges)
    for (const y of edges) {
      put(a, x);
      put(b, y);
      check(x & MASK255, y & MASK255, `${x} ${y}`);
    }
  for (let i = 0; i < 300; i++) {
    const x = le(randomBytes(32));
    const y = le(randomBytes(32));
    put(a, x);
    put(b, y);
    check(x & MASK255, y & MASK255, `random ${i}`);
  }
  // limbs at the bounds' extremes (limb 0 negative or above 2^26 included)
  for (let i = 0; i < 400; i++) {
    setLimbs(a, extremeLimbs());
    setLimbs(b, extremeLimbs());
    check(raw(a), raw(b), `extreme ${i}`);
  }
  const max = Array.from({ length: 10 }, (_, i) => (i === 0 ? (1n << 26n) + 38n : (1n << BigInt(T.W[i]!)) - 1n));
  const min = [-38n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n];
  for (const x of [max, min])
    for (const y of [max, min]) {
      setLimbs(a, x);
      setLimbs(b, y);
      check(raw(a), raw(b), 'all-max / all-min');
    }
  T.wipe();
});

test('field: a long random chain of operations (aliasing included) stays exact and in bounds', () => {
  const { f, put, val, inBounds } = fieldView();
  const n = 6;
  const slots = Array.from({ length: n }, (_, k) => T.slot(k));
  const model = slots.map(() => le(randomBytes(32)) & MASK255);
  slots.forEach((s, k) => put(s, model[k]!));
  const rnd = (m: number): number => randomBytes(1)[0]! % m;
  for (let i = 0; i < 3000; i++) {
    const [o, x, y] = [rnd(n), rnd(n), rnd(n)];
    const op = rnd(4);
    if (op === 0) {
      f.mul(slots[o]!, slots[x]!, slots[y]!);
      model[o] = md(model[x]! * model[y]!);
    } else if (op === 1) {
      f.add(slots[o]!, slots[x]!, slots[y]!);
      model[o] = md(model[x]! + model[y]!);
    } else if (op === 2) {
      f.sub(slots[o]!, slots[x]!, slots[y]!);
      model[o] = md(model[x]! - model[y]!);
    } else {
      const flag = rnd(2);
      f.cmov(slots[o]!, slots[x]!, flag);
      if (flag) model[o] = model[x]!;
    }
    assert.ok(inBounds(slots[o]!), `bounds after step ${i}`);
    if (i % 100 === 0) slots.forEach((s, k) => assert.is(val(s), md(model[k]!), `slot ${k} at step ${i}`));
  }
  slots.forEach((s, k) => assert.is(val(s), md(model[k]!), `slot ${k} at the end`));
  T.wipe();
});

test('field: freeze gives the canonical bytes, iseq and isneg compare canonical values', () => {
  const { f, put, setLimbs } = fieldView();
  const [a, b] = [T.slot(0), T.slot(1)];
  for (const x of [0n, 1n, P - 2n, P - 1n, P, P + 1n, P + 17n, MASK255 - 1n, MASK255]) {
    put(a, x);
    f.freeze(T.IO0, a);
    assert.is(toHex(f.mem.slice(T.IO0, T.IO0 + 32)), toHex(bytesLe(md(x))), `freeze ${x}`);
    assert.is(f.isneg(a), Number(md(x) & 1n), `isneg ${x}`);
    put(b, md(x));
    assert.is(f.iseq(a, b), 1, `iseq ${x}`);
    put(b, md(x) + 1n);
    assert.is(f.iseq(a, b), 0, `not iseq ${x}`);
  }
  // representations of 0 and -1 that are not the canonical limbs: 2P, -1 + 2^255 - 19 ...
  const limbsOf = (x: bigint): bigint[] => T.OFF.map((o, i) => (x >> BigInt(o)) & ((1n << BigInt(T.W[i]!)) - 1n));
  setLimbs(a, [-1n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n]); // -1
  put(b, P - 1n);
  assert.is(f.iseq(a, b), 1, '-1 = P - 1');
  assert.is(f.isneg(a), 0, 'P - 1 is even');
  setLimbs(a, limbsOf(P)); // P itself, in limbs
  assert.is(f.iseq(a, T.C_ZERO), 1, 'P = 0');
  T.wipe();
});

/** RFC 9496 SQRT_RATIO_M1 in BigInt, the way the RFC writes it */
function refSqrtRatio(u: bigint, v: bigint): { wasSquare: boolean; r: bigint } {
  const v3 = md(v * v * v);
  const v7 = md(v3 * v3 * v);
  let r = md(u * v3 * powm(u * v7, (P - 5n) / 8n, P));
  const check = md(v * r * r);
  const correct = check === md(u);
  const flipped = check === md(-u);
  const flippedI = check === md(-u * fc.SQRT_M1);
  if (flipped || flippedI) r = md(r * fc.SQRT_M1);
  if (r & 1n) r = P - r;
  return { wasSquare: correct || flipped, r };
}

test('sqrt_ratio_m1 (and the pow22523 chain) as RFC 9496 defines them', () => {
  const { put, val } = fieldView();
  const [r, u, v, o] = [T.slot(0), T.slot(1), T.slot(2), T.slot(3)];
  const cases: Array<[bigint, bigint]> = [
    [0n, 0n],
    [0n, 1n],
    [1n, 0n],
    [1n, 1n],
    [4n, 1n],
    [2n, 1n],
    [P - 1n, 1n],
    [1n, P - 1n],
    [fc.SQRT_M1, 1n],
  ];
  for (let i = 0; i < 60; i++) cases.push([le(randomBytes(32)) % P, le(randomBytes(32)) % P]);
  let squares = 0;
  for (const [x, y] of cases) {
    put(u, x);
    put(v, y);
    const was = T.sqrtRatioM1(r, u, v);
    const ref = refSqrtRatio(x, y);
    assert.is(was, ref.wasSquare ? 1 : 0, `was_square ${x}/${y}`);
    assert.is(val(r), ref.r, `r ${x}/${y}`);
    assert.is(val(r) & 1n, 0n, 'non-negative');
    // the defining property: v r^2 = u when u/v is a square, = i u otherwise (u, v != 0)
    if (x !== 0n && y !== 0n) assert.is(md(y * ref.r * ref.r), ref.wasSquare ? x : md(x * fc.SQRT_M1));
    squares += was;
    T.pow22523(o, u);
    assert.is(val(o), powm(x, (P - 5n) / 8n, P), 'pow22523');
  }
  assert.ok(squares > 5 && squares < cases.length - 5, 'both outcomes seen');
  T.wipe();
});

// ------------------------------------------------------------------ ristretto255 against libsodium and noble

/** whether the elligator of this 32-byte half takes the square branch (BigInt, from the RFC's formulas) */
function elligatorSquare(half: Uint8Array): boolean {
  const t = md(le(half) & MASK255);
  const r = md(fc.SQRT_M1 * t * t);
  const u = md((r + 1n) * fc.ONE_MINUS_D_SQ);
  const v = md((-1n - r * fc.D) * (r + fc.D));
  return refSqrtRatio(u, v).wasSquare;
}

test('from_hash: both elligator branches, edge inputs and random hashes, as libsodium and noble', () => {
  const halves: Uint8Array[] = [
    new Uint8Array(32),
    new Uint8Array(32).fill(0xff), // 2^256 - 1: bit 255 masked
    bytesLe(P), // = 0 mod P, not canonical
    bytesLe(P + 1n),
    bytesLe(P - 1n),
    bytesLe(MASK255),
    bytesLe(1n),
    bytesLe(1n | (1n << 255n)), // 1 with bit 255 set
    bytesLe(fc.SQRT_M1),
  ];
  const hashes: Uint8Array[] = [];
  for (const x of halves) for (const y of halves) hashes.push(Uint8Array.from([...x, ...y]));
  for (let i = 0; i < 150; i++) hashes.push(randomBytes(64));
  const branches = [0, 0];
  for (const h of hashes) {
    branches[elligatorSquare(h.subarray(0, 32)) ? 1 : 0]++;
    const ours = toHex(fc.fromHash(h));
    assert.is(ours, toHex(sodium.crypto_core_ristretto255_from_hash(h)), `libsodium ${toHex(h)}`);
    assert.is(ours, toHex(ristretto255_hasher.deriveToCurve!(h).toBytes()), `noble ${toHex(h)}`);
  }
  assert.ok(branches[0]! > 10 && branches[1]! > 10, `both elligator branches taken: ${branches}`);
});

test('scalarmult: edge scalars (0, 1, L-1, L, L+1, bit 255 set, ±8 digits...) on random points, the base point and the identity', () => {
  const fill = (b: number): Uint8Array => new Uint8Array(32).fill(b);
  const scalars: Uint8Array[] = [
    bytesLe(0n),
    bytesLe(1n),
    bytesLe(2n),
    bytesLe(7n),
    bytesLe(8n),
    bytesLe(9n),
    bytesLe(15n),
    bytesLe(16n),
    bytesLe(L - 1n),
    bytesLe(L),
    bytesLe(L + 1n),
    bytesLe(2n * L),
    bytesLe(8n * L), // bit 255 clear, a multiple of L: the identity
    bytesLe(1n << 252n),
    bytesLe(MASK255), // 2^255 - 1
    fill(0xff), // 2^256 - 1: bit 255 is cleared first, so 2^255 - 1
    bytesLe(1n << 255n), // only bit 255: cleared, so 0
    bytesLe((1n << 255n) | 1n),
    fill(0x88), // every digit 8: the signed recoding's carries
    fill(0x77),
    fill(0x80),
    fill(0x08),
    fill(0xf0),
    fill(0x0f),
  ];
  for (let i = 0; i < 20; i++) scalars.push(randomBytes(32));
  const points: Uint8Array[] = [
    sodium.crypto_scalarmult_ristretto255_base(bytesLe(1n)),
    new Uint8Array(32), // the identity: every product is the identity, refused
    hex(V.cases[0].H0),
  ];
  for (let i = 0; i < 4; i++) points.push(sodium.crypto_core_ristretto255_from_hash(randomBytes(64)));
  for (const p of points)
    for (const s of scalars) {
      const ours = hexOrNull(fc.scalarmult(s, p));
      assert.is(ours, sodiumMul(s, p), `libsodium s=${toHex(s)} p=${toHex(p)}`);
      assert.is(ours, nobleMul(s, p), `noble s=${toHex(s)} p=${toHex(p)}`);
    }
  // the base point times 0 and times L is refused (identity), times 1 is itself
  const B = points[0]!;
  assert.is(fc.scalarmult(bytesLe(0n), B), null);
  assert.is(fc.scalarmult(bytesLe(L), B), null);
  assert.is(toHex(fc.scalarmult(bytesLe(1n), B)!), toHex(B));
  // and an invalid point is refused whatever the scalar
  assert.is(fc.scalarmult(bytesLe(1n), bytesLe(P)), null);
  assert.throws(() => fc.scalarmult(new Uint8Array(31), B), RangeError);
});

test('scalarmult: many random scalars and points, as libsodium and noble', () => {
  for (let i = 0; i < 60; i++) {
    const p = sodium.crypto_core_ristretto255_from_hash(randomBytes(64));
    const s = randomBytes(32);
    const ours = hexOrNull(fc.scalarmult(s, p));
    assert.is(ours, sodiumMul(s, p), `libsodium ${i}`);
    assert.is(ours, nobleMul(s, p), `noble ${i}`);
  }
});

test('decode: non-canonical, negative, bit 255, y = 0, non-square and random encodings, as libsodium and noble', () => {
  const valid = sodium.crypto_core_ristretto255_from_hash(randomBytes(64));
  const withTop = Uint8Array.from(valid);
  withTop[31]! |= 0x80;
  const encodings: Uint8Array[] = [
    new Uint8Array(32), // the identity: valid
    valid,
    withTop, // bit 255 set: libsodium ignores it, we (and noble) refuse
    bytesLe(P), // non-canonical
    bytesLe(P + 1n),
    bytesLe(P + 2n), // non-canonical and even
    bytesLe(MASK255 - 1n), // 2^255 - 2: non-canonical, even
    bytesLe(P - 1n), // -1: even, canonical, s^2 = 1 gives y = 0
    bytesLe(1n), // odd: negative
    bytesLe(2n),
    bytesLe(4n),
    new Uint8Array(32).fill(0xff),
  ];
  for (let i = 0; i < 300; i++) {
    const b = randomBytes(32);
    b[0]! &= 0xfe; // even: the decoding runs to the square root and the sign checks
    b[31]! &= 0x7f;
    encodings.push(b);
  }
  let accepted = 0;
  for (const e of encodings) {
    const ours = fc.isValidPoint(e);
    const bit255 = (e[31]! & 0x80) !== 0;
    assert.is(ours, sodium.crypto_core_ristretto255_is_valid_point(e) && !bit255, `libsodium ${toHex(e)}`);
    assert.is(ours, nobleValid(e), `noble ${toHex(e)}`);
    assert.is(fc.decode(e) !== null, ours, 'decode agrees');
    if (ours) {
      accepted++;
      // the exported BigInt decode/encode round-trip, and decode's (x, y, 1, xy) is noble's point
      const p = fc.decode(e)!;
      assert.is(toHex(fc.encode(p)), toHex(e), 'encode(decode(e)) = e');
      assert.is(p[2], 1n);
      assert.is(p[3], md(p[0] * p[1]));
      const a = NP.fromBytes(e).toAffine();
      assert.is(a.x, p[0], 'x as noble');
      assert.is(a.y, p[1], 'y as noble');
    }
  }
  assert.ok(accepted > 20 && accepted < encodings.length - 20, `both valid and invalid seen (${accepted})`);
  // encode takes any representatives: scaled projective coordinates give the same bytes
  const p = fc.decode(valid)!;
  const k = le(randomBytes(32)) % P;
  assert.is(toHex(fc.encode([p[0] * k + P, p[1] * k - 3n * P, k, md(p[3] * k)])), toHex(valid));
});

test('invertScalar: edge scalars (1, L-1, non-reduced, 0, L) as libsodium and noble', () => {
  const inputs = [1n, 2n, L - 1n, L - 2n, L + 1n, 2n * L - 1n, MASK255, (1n << 256n) - 1n, 1n << 252n];
  for (let i = 0; i < 20; i++) inputs.push(le(randomBytes(32)));
  for (const x of inputs) {
    const b = bytesLe(x);
    const ours = fc.invertScalar(b);
    const want = NP.Fn.inv(x % L);
    assert.is(le(ours!), want, `noble ${x}`);
    if (x < L) assert.is(toHex(ours!), toHex(sodium.crypto_core_ristretto255_scalar_invert(b)), `libsodium ${x}`);
    assert.is((le(ours!) * (x % L)) % L, 1n, 'x · 1/x = 1');
  }
  assert.is(fc.invertScalar(bytesLe(0n)), null);
  assert.is(fc.invertScalar(bytesLe(L)), null);
  assert.is(fc.invertScalar(bytesLe(2n * L)), null);
});

test('the WebAssembly memory holds nothing but the constants once a call returns', () => {
  const f = T.field();
  const consts = f.mem.slice(T.C_ZERO, T.CONST_END);
  const blank = (): boolean => f.mem.subarray(0, T.C_ZERO).every((b) => b === 0) && f.mem.subarray(T.CONST_END).every((b) => b === 0);
  const h0 = fc.blake2b(hex(V.cases[0].pwd), null, 64);
  const H0 = fc.fromHash(h0);
  assert.ok(blank(), 'after fromHash');
  fc.scalarmult(fc.randomScalar(), H0);
  assert.ok(blank(), 'after scalarmult');
  fc.scalarmult(bytesLe(1n), bytesLe(P));
  assert.ok(blank(), 'after a refused scalarmult');
  fc.isValidPoint(H0);
  fc.decode(H0);
  fc.encode(fc.decode(H0)!);
  assert.ok(blank(), 'after isValidPoint, decode, encode');
  assert.is(toHex(f.mem.slice(T.C_ZERO, T.CONST_END)), toHex(consts), 'constants intact');
});

test.run();
