// client/crypto.ts (noble) against libsodium, the reference's own library:
// every derivation and every OPRF step, on the reference vectors, on RFC 9496
// Appendix A and on random inputs. A library upgrade that changes one byte
// of one of them fails here. libsodium is used only as the reference.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes, randomInt } from 'node:crypto';
import { concat } from '../shared/bytes.js';
import { Ctx, RULE_SIZE, SEAL_NONCE_SIZE, SYMBOLS, VERSION } from '../shared/constants.js';
import { ProtocolError } from '../shared/errors.js';
import {
  authKeypair,
  blindInverse,
  challenge,
  challengeWith,
  checkDigit,
  elementFromHash,
  hash,
  isCanonicalPoint,
  open,
  packRule,
  passHash,
  randomScalar,
  recordId,
  saltKey,
  seal,
  sealKey,
  seedKeypair,
  signDetached,
  unblind,
  unpackRule,
  userListId,
} from '../client/crypto.js';
import { isCanonicalPoint as oracleIsCanonical, respond, sodium } from '../oracle/crypto.js';
import { hex, loadVectors, toHex } from './helpers/vectors.js';

const OPRF = loadVectors('oprf');
const RFC = loadVectors('rfc9496');
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

const le32 = (n: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
};
const isProtocolError = (e: Error): boolean => e instanceof ProtocolError;
const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const H = (msg: Uint8Array | string, key: Uint8Array | null, out = 32): Uint8Array =>
  sodium.crypto_generichash(out, msg, key && key.length ? key : null);

// ---------------------------------------------------------------- libsodium reference of each derivation

const ref = {
  recordId(mk: Uint8Array, user: string, host: string): Uint8Array {
    return H(`${user}|${host}`, H(Ctx.SALT, mk));
  },
  authSeed(mk: Uint8Array, id: Uint8Array, rwd: Uint8Array, rwdKeys: boolean): Uint8Array {
    const s1 = H(H(Ctx.SIGN, mk), id);
    return rwdKeys ? H(s1, rwd) : s1;
  },
  challenge(pwd: Uint8Array, r: Uint8Array): Uint8Array {
    return sodium.crypto_scalarmult_ristretto255(r, sodium.crypto_core_ristretto255_from_hash(H(pwd, null, 64)));
  },
  unblind(pwd: Uint8Array, r: Uint8Array, beta: Uint8Array): Uint8Array {
    const N = sodium.crypto_scalarmult_ristretto255(sodium.crypto_core_ristretto255_scalar_invert(r), beta);
    return H(concat(pwd, N), null);
  },
};

// ---------------------------------------------------------------- BLAKE2b

test('hash (BLAKE2b) equals crypto_generichash: message lengths 0..300, every output size, keys of 1..64 bytes and none', () => {
  for (let len = 0; len <= 300; len++) {
    const msg = rnd(len);
    const out = (len % 64) + 1;
    const key = len % 5 === 0 ? null : rnd((len % 64) + 1);
    assert.is(toHex(hash(msg, key, out)), toHex(H(msg, key, out)), `len ${len} out ${out} key ${key?.length ?? 0}`);
  }
  assert.is(toHex(hash('abc', new Uint8Array(0), 32)), toHex(H('abc', null, 32)), 'an empty key is no key, as libsodium');
});

// ---------------------------------------------------------------- masterkey derivations

test('recordId, userListId, saltKey, sealKey, checkDigit, passHash equal libsodium on random inputs', () => {
  const names = ['', 'a', 'user@example.com', 'ünïcödé|pipe', 'x'.repeat(300)];
  for (let i = 0; i < 100; i++) {
    const mk = rnd(32);
    const rwd = rnd(32);
    const user = names[i % names.length]!;
    const host = names[(i + 2) % names.length]!;
    assert.is(toHex(recordId(mk, user, host)), toHex(ref.recordId(mk, user, host)));
    assert.is(toHex(userListId(mk, host)), toHex(ref.recordId(mk, '', host)));
    assert.is(toHex(saltKey(mk)), toHex(H(Ctx.SALT, mk)));
    assert.is(toHex(sealKey(mk)), toHex(H(Ctx.ENC, mk)));
    assert.is(checkDigit(rwd, true), H(Ctx.CHECK, rwd, 1)[0]! & 0x1f);
    assert.is(checkDigit(rwd, false), 0);
    assert.is(toHex(passHash(rwd)), toHex(H(Ctx.PASS, rwd)));
  }
});

test('authKeypair, seedKeypair and signDetached equal crypto_sign_seed_keypair / crypto_sign_detached', () => {
  for (let i = 0; i < 60; i++) {
    const mk = rnd(32);
    const id = rnd(32);
    const rwd = i % 3 === 0 ? new Uint8Array(0) : rnd(32);
    const rwdKeys = i % 2 === 0;
    const kp = authKeypair(mk, id, rwd, rwdKeys);
    const want = sodium.crypto_sign_seed_keypair(ref.authSeed(mk, id, rwd, rwdKeys));
    assert.is(toHex(kp.publicKey), toHex(want.publicKey));
    assert.is(toHex(kp.privateKey), toHex(want.privateKey));
    const msg = rnd(i * 7);
    const sig = signDetached(kp.privateKey, msg);
    assert.is(toHex(sig), toHex(sodium.crypto_sign_detached(msg, want.privateKey)));
    assert.ok(sodium.crypto_sign_verify_detached(sig, msg, kp.publicKey));
    const seed = rnd(32);
    assert.is(toHex(seedKeypair(seed).privateKey), toHex(sodium.crypto_sign_seed_keypair(seed).privateKey));
  }
});

test('seal equals crypto_aead_xchacha20poly1305_ietf_encrypt; open opens what libsodium seals', () => {
  for (let len = 0; len < 200; len += 7) {
    const key = rnd(32);
    const nonce = rnd(SEAL_NONCE_SIZE);
    const pt = rnd(len);
    const ad = Uint8Array.of(VERSION);
    const theirs = concat(ad, nonce, sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(pt, ad, null, nonce, key));
    assert.is(toHex(seal(key, pt, nonce)), toHex(theirs));
    assert.is(toHex(open(key, theirs)), toHex(pt));
    const mine = seal(key, pt); // random nonce
    assert.is(toHex(sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, mine.subarray(25), ad, mine.subarray(1, 25), key)), toHex(pt));
  }
});

test('a rule blob that does not open is refused: every flipped bit, another key, a newer version, wrong sizes', () => {
  const sk = sealKey(rnd(32));
  const rule = { classes: 'uld', symbols: SYMBOLS, size: 0, checkDigit: 7, xormask: rnd(32) };
  const blob = packRule(sk, rule);
  assert.equal(unpackRule(sk, blob), rule);
  for (let bit = 0; bit < blob.length * 8; bit++) {
    const bad = Uint8Array.from(blob);
    bad[bit >> 3]! ^= 1 << (bit & 7);
    assert.throws(() => unpackRule(sk, bad), isProtocolError, `bit ${bit} flipped`);
  }
  assert.throws(() => unpackRule(sealKey(rnd(32)), blob), isProtocolError, 'another masterkey');
  // a newer version is refused even with a valid tag over its version byte
  const nonce = rnd(SEAL_NONCE_SIZE);
  const v1 = concat(Uint8Array.of(1), nonce, sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(open(sk, blob), Uint8Array.of(1), null, nonce, sk));
  assert.is(v1.length, RULE_SIZE);
  assert.throws(() => unpackRule(sk, v1), (e: Error) => e instanceof ProtocolError && /version/.test(e.message));
  assert.throws(() => unpackRule(sk, blob.subarray(0, RULE_SIZE - 1)), isProtocolError, 'short');
  assert.throws(() => unpackRule(sk, concat(blob, new Uint8Array(1))), isProtocolError, 'long');
});

// ---------------------------------------------------------------- the OPRF

test('oprf.json: alpha and rwd0 as libsphinx, and as libsodium computes them', () => {
  for (const c of OPRF.cases) {
    const pwd = hex(c.pwd);
    const { alpha } = challengeWith(pwd, hex(c.r));
    assert.is(toHex(alpha), c.alpha, c.label);
    assert.is(toHex(ref.challenge(pwd, hex(c.r))), c.alpha, `${c.label}: libsodium agrees with the vector`);
    assert.is(toHex(unblind(pwd, hex(c.r), alpha, hex(c.beta))), c.rwd0, c.label);
  }
});

test('random inputs: challenge, respond and unblind agree with libsodium end to end', () => {
  for (let i = 0; i < 150; i++) {
    const pwd = rnd(randomInt(0, 100));
    const r = sodium.crypto_core_ristretto255_scalar_random();
    const { alpha } = challengeWith(pwd, r);
    assert.is(toHex(alpha), toHex(ref.challenge(pwd, r)));
    const beta = respond(alpha, rnd(32));
    assert.is(toHex(unblind(pwd, r, alpha, beta)), toHex(ref.unblind(pwd, r, beta)));
  }
});

test('challenge: a fresh reduced non-zero r each time; unblinding removes it', () => {
  const pwd = new TextEncoder().encode('correct horse');
  const k = rnd(32);
  const seen = new Set<string>();
  let rwd0: string | null = null;
  for (let i = 0; i < 20; i++) {
    const { r, alpha } = challenge(pwd);
    assert.not.ok(seen.has(toHex(r)));
    seen.add(toHex(r));
    const out = toHex(unblind(pwd, r, alpha, respond(alpha, k)));
    rwd0 ??= out;
    assert.is(out, rwd0, 'the same password and key give the same rwd0 whatever r');
  }
  for (let i = 0; i < 200; i++) {
    const r = randomScalar();
    let v = 0n;
    for (let j = 31; j >= 0; j--) v = (v << 8n) | BigInt(r[j]!);
    assert.ok(v > 0n && v < L);
  }
});

test('edge scalars: r = 1 and L-1 agree with libsodium; 0, L and larger are refused', () => {
  const pwd = rnd(16);
  for (const s of [1n, 2n, L - 1n, L - 2n]) {
    const r = le32(s);
    const { alpha } = challengeWith(pwd, r);
    assert.is(toHex(alpha), toHex(ref.challenge(pwd, r)), `r = ${s}`);
    const beta = respond(alpha, rnd(32));
    assert.is(toHex(unblind(pwd, r, alpha, beta)), toHex(ref.unblind(pwd, r, beta)), `1/r for r = ${s}`);
  }
  for (const s of [0n, L, L + 1n, 2n ** 256n - 1n]) assert.throws(() => challengeWith(pwd, le32(s)), isProtocolError, `r = ${s}`);
});

test('unblind refuses an invalid beta: identity, alpha itself, bit 255 set, every RFC 9496 invalid encoding', () => {
  const pwd = rnd(8);
  const { r, alpha } = challenge(pwd);
  const bit255 = Uint8Array.from(respond(alpha, rnd(32)));
  bit255[31]! |= 0x80;
  const bad = [new Uint8Array(32), alpha, bit255];
  for (const list of Object.values(RFC['A.2_invalid_encodings']) as string[][]) bad.push(...list.map(hex));
  for (const n of OPRF.respond_negative) if (!n.label.startsWith('k_')) bad.push(hex(n.alpha));
  for (const beta of bad) assert.throws(() => unblind(pwd, r, alpha, beta), isProtocolError, toHex(beta));
});

// ---------------------------------------------------------------- RFC 9496 Appendix A

test('RFC 9496 A.1: the multiples of the generator decode, and are what libsodium computes', () => {
  const enc: string[] = RFC['A.1_multiples_of_generator'].encodings;
  assert.is(enc.length, 16);
  for (let i = 0; i < 16; i++) {
    assert.ok(isCanonicalPoint(hex(enc[i]!)), `B*${i}`);
    assert.ok(oracleIsCanonical(hex(enc[i]!)), `B*${i} (oracle)`);
    if (i > 0) assert.is(toHex(sodium.crypto_scalarmult_ristretto255_base(le32(BigInt(i)))), enc[i]);
  }
});

test('blindInverse equals crypto_core_ristretto255_scalar_invert (edge and random scalars)', () => {
  for (const s of [1n, 2n, L - 1n, L - 2n, (L + 1n) / 2n]) {
    assert.is(toHex(blindInverse(le32(s))), toHex(sodium.crypto_core_ristretto255_scalar_invert(le32(s))), `1/${s}`);
  }
  for (let i = 0; i < 100; i++) {
    const r = sodium.crypto_core_ristretto255_scalar_random();
    assert.is(toHex(blindInverse(r)), toHex(sodium.crypto_core_ristretto255_scalar_invert(r)));
  }
  for (const s of [0n, L]) assert.throws(() => blindInverse(le32(s)), isProtocolError, `1/${s}`);
});

test('RFC 9496 A.2: every invalid encoding is refused by the client and the oracle alike', () => {
  for (const [kind, list] of Object.entries(RFC['A.2_invalid_encodings']) as Array<[string, string[]]>) {
    for (const h of list) {
      assert.not.ok(isCanonicalPoint(hex(h)), `client accepts ${kind} ${h}`);
      assert.not.ok(oracleIsCanonical(hex(h)), `oracle accepts ${kind} ${h}`);
    }
  }
});

test('RFC 9496 A.3: element derivation from 64 bytes (H0 of the OPRF) gives the RFC outputs', () => {
  const A3 = RFC['A.3_element_derivation'];
  const cases: Array<{ I: string; O: string }> = [...A3.cases, ...A3.convergence.I.map((I: string) => ({ I, O: A3.convergence.O }))];
  assert.is(cases.length, 11);
  for (const { I, O } of cases) {
    assert.is(toHex(elementFromHash(hex(I))), O, I);
    assert.is(toHex(sodium.crypto_core_ristretto255_from_hash(hex(I))), O, `libsodium ${I}`);
  }
  // challenge with r = 1 is H0 itself: derive(BLAKE2b-512(pwd)), as libsodium's from_hash
  for (let i = 0; i < 50; i++) {
    const pwd = rnd(i);
    assert.is(toHex(challengeWith(pwd, le32(1n)).alpha), toHex(sodium.crypto_core_ristretto255_from_hash(H(pwd, null, 64))));
  }
});

test('random 32-byte strings: the client and the oracle accept exactly the same encodings', () => {
  let valid = 0;
  for (let i = 0; i < 3000; i++) {
    const p = rnd(32);
    if (i % 2) p[31]! &= 0x7f;
    const c = isCanonicalPoint(p);
    assert.is(c, oracleIsCanonical(p), toHex(p));
    if (c) valid++;
  }
  assert.ok(valid > 100, `some random encodings are valid points (${valid})`);
});

test.run();
