// client/fastcrypto.ts (the libsodium-free pre-argon2 crypto of `sphinx get`)
// must be byte-identical to libsodium: the reference OPRF vectors, then random
// crosschecks against libsodium-wrappers-sumo itself.
import { randomBytes } from 'node:crypto';
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

test.run();
