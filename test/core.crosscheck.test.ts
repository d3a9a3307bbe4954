// Independent implementations: @noble/curves for ristretto255 and
// libsodium's crypto_pwhash for the argon2 package.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { loadVectors, hex, toHex } from './helpers/vectors.js';
import { ARGON2 } from '../shared/constants.js';
import { challengeWith, stretch } from '../client/crypto.js';
import { respond, sodium } from '../oracle/crypto.js';

const V = loadVectors('oprf');
const Point = ristretto255.Point;
const L = Point.Fn.ORDER;

const le = (b: Uint8Array): bigint => {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
};

test('noble: from_hash and scalar multiplication agree with libsodium on every case', () => {
  for (const c of V.cases) {
    const H0 = ristretto255_hasher.deriveToCurve!(hex(c.h0));
    assert.is(toHex(H0.toBytes()), c.H0, c.label);
    const alpha = H0.multiply(le(hex(c.r)) % L);
    assert.is(toHex(alpha.toBytes()), c.alpha);
    assert.is(toHex(challengeWith(hex(c.pwd), hex(c.r)).alpha), toHex(alpha.toBytes()));
    const k = hex(c.k);
    k[31]! &= 0x7f; // what libsodium does before multiplying
    const beta = Point.fromBytes(hex(c.alpha)).multiply(le(k) % L);
    assert.is(toHex(beta.toBytes()), c.beta);
    assert.is(toHex(respond(hex(c.alpha), hex(c.k))), toHex(beta.toBytes()));
    // The "reduce the full 256-bit k" mistake, recomputed independently.
    const wrong = Point.fromBytes(hex(c.alpha)).multiply(le(hex(c.k)) % L);
    assert.is(toHex(wrong.toBytes()), c.beta_if_k_reduced_mod_L_without_clearing_bit255);
    // N = (1/r) * beta = k * H0
    const rinv = Point.Fn.inv(le(hex(c.r)) % L);
    assert.is(toHex(Point.fromBytes(hex(c.beta)).multiply(rinv).toBytes()), c.H0_k);
  }
});

test('noble: decoding agrees with our rejections', () => {
  for (const n of V.respond_negative) {
    if (n.label === 'identity' || n.label.startsWith('k_')) continue;
    assert.throws(() => Point.fromBytes(hex(n.alpha)), n.label);
  }
  for (const q of V.respond_quirks_accepted) assert.throws(() => Point.fromBytes(hex(q.alpha)), q.label);
});

test('argon2 package equals libsodium crypto_pwhash (INTERACTIVE, argon2id13)', async () => {
  assert.is(sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE, ARGON2.timeCost);
  assert.is(sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE, ARGON2.memoryCost * 1024);
  for (const c of V.cases.slice(0, 3)) {
    const rwd0 = hex(c.rwd0);
    const salt = hex(c.salt);
    const ours = await stretch(rwd0, salt);
    const ref = sodium.crypto_pwhash(
      32,
      rwd0,
      salt.subarray(0, 16),
      sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE,
      sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE,
      sodium.crypto_pwhash_ALG_ARGON2ID13,
    );
    assert.is(toHex(ours), toHex(ref), c.label);
    assert.is(toHex(ours), c.rwd);
  }
});

test.run();
