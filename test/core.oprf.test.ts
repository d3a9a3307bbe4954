import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadVectors, hex, toHex } from './helpers/vectors.js';
import { ProtocolError } from '../shared/errors.js';
import { challenge, challengeWith, finish, unblind, isCanonicalPoint } from '../client/crypto.js';
import { respond, sodium } from '../oracle/crypto.js';

const V = loadVectors('oprf');

/** Runs fn, asserts it throws a ProtocolError whose message leaks none of the given secrets. */
function throwsProtocol(fn: () => unknown, secrets: Uint8Array[] = []): ProtocolError {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ProtocolError);
    const msg = (e as Error).message;
    for (const s of secrets) {
      if (s.length) assert.not.ok(msg.toLowerCase().includes(toHex(s).slice(0, 16)), 'error message leaks a secret');
    }
    return e as ProtocolError;
  }
  assert.unreachable('expected a ProtocolError');
  throw new Error('unreachable');
}

async function rejectsProtocol(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, ProtocolError);
    return;
  }
  assert.unreachable('expected a ProtocolError');
}

for (const c of V.cases) {
  test(`oprf case ${c.label}: h0, H0, alpha, beta, rwd0`, () => {
    const pwd = hex(c.pwd);
    assert.is(pwd.length, c.pwd_len);
    assert.is(toHex(sodium.crypto_generichash(64, pwd, null)), c.h0);
    assert.is(toHex(sodium.crypto_core_ristretto255_from_hash(hex(c.h0))), c.H0);
    const { r, alpha } = challengeWith(pwd, hex(c.r));
    assert.is(toHex(r), c.r);
    assert.is(toHex(alpha), c.alpha);
    const k = hex(c.k);
    assert.is((k[31]! & 0x80) !== 0, c.k_top_bit_set);
    const beta = respond(alpha, k);
    assert.is(toHex(beta), c.beta);
    assert.is(toHex(k), c.k, 'respond must not modify the stored key');
    // The value an implementation gets by reducing the full 256-bit k: must differ exactly when bit 255 is set.
    assert.is(toHex(beta) === c.beta_if_k_reduced_mod_L_without_clearing_bit255, c.beta_if_k_reduced_mod_L_without_clearing_bit255_equals_beta);
    assert.is(toHex(respond(hex(c.H0), k)), c.H0_k);
    assert.is(toHex(unblind(pwd, r, alpha, beta)), c.rwd0);
  });
}

test('oprf cases: finish gives the reference rwd (argon2id)', async () => {
  for (const c of V.cases) {
    const rwd = await finish(hex(c.pwd), hex(c.r), hex(c.alpha), hex(c.beta), hex(c.salt));
    assert.is(toHex(rwd), c.rwd, c.label);
  }
});

test('finish uses only id[0..16] as salt', async () => {
  const c = V.cases[1];
  const salt = hex(c.salt);
  salt.fill(0xa5, 16);
  assert.is(toHex(await finish(hex(c.pwd), hex(c.r), hex(c.alpha), hex(c.beta), salt)), c.rwd);
});

for (const n of V.respond_negative) {
  test(`respond rejects ${n.label}`, () => {
    const alpha = hex(n.alpha);
    const k = hex(n.k);
    assert.is(n.rc, -1);
    assert.is(isCanonicalPoint(alpha), n.is_valid_point, 'isCanonicalPoint agrees with is_valid_point');
    throwsProtocol(() => respond(alpha, k), [k]);
  });
}

// The reference (libsodium 1.0.18) ACCEPTS a valid alpha with bit 255 set and
// treats it as the same point. protocol.md §8.9: we reject it on purpose —
// it is a second, non-canonical encoding that no honest client sends.
for (const q of V.respond_quirks_accepted) {
  test(`respond deliberately rejects the reference quirk ${q.label}`, () => {
    const alpha = hex(q.alpha);
    assert.is(q.rc, 0, 'the reference accepted it');
    assert.ok((alpha[31]! & 0x80) !== 0);
    assert.not.ok(isCanonicalPoint(alpha));
    throwsProtocol(() => respond(alpha, hex(q.k)), [hex(q.k)]);
    // The same point in its canonical encoding is accepted and gives the reference's beta.
    const canon = Uint8Array.from(alpha);
    canon[31]! &= 0x7f;
    assert.ok(isCanonicalPoint(canon));
    assert.is(toHex(respond(canon, hex(q.k))), q.beta);
    assert.ok(q.beta_equals_beta_of_alpha_without_bit255);
  });
}

for (const f of V.finish_negative) {
  test(`finish rejects ${f.label}`, async () => {
    assert.is(f.rc, -1);
    const args = [hex(f.pwd), hex(f.r), hex(f.alpha), hex(f.beta)] as const;
    throwsProtocol(() => unblind(...args), [hex(f.pwd), hex(f.r)]);
    await rejectsProtocol(finish(...args, hex(f.salt)));
  });
}

test('finish rejects a beta with bit 255 set (non-canonical)', () => {
  const c = V.cases[2];
  const beta = hex(c.beta);
  beta[31]! |= 0x80;
  throwsProtocol(() => unblind(hex(c.pwd), hex(c.r), hex(c.alpha), beta));
});

test('wrong sizes are ProtocolErrors', async () => {
  const c = V.cases[1];
  throwsProtocol(() => respond(hex(c.alpha).subarray(0, 31), hex(c.k)));
  throwsProtocol(() => respond(hex(c.alpha), hex(c.k).subarray(0, 31)));
  throwsProtocol(() => respond(new Uint8Array(33), hex(c.k)));
  throwsProtocol(() => unblind(hex(c.pwd), hex(c.r), hex(c.alpha), hex(c.beta).subarray(1)));
  await rejectsProtocol(finish(hex(c.pwd), hex(c.r), hex(c.alpha), hex(c.beta), new Uint8Array(16)));
});

test('challenge: fresh r each time, valid alpha, and unblinding removes r', () => {
  const pwd = new TextEncoder().encode('correct horse');
  const k = sodium.randombytes_buf(32);
  const a = challenge(pwd);
  const b = challenge(pwd);
  assert.is.not(toHex(a.r), toHex(b.r));
  assert.is.not(toHex(a.alpha), toHex(b.alpha));
  assert.ok(isCanonicalPoint(a.alpha) && isCanonicalPoint(b.alpha));
  const ra = unblind(pwd, a.r, a.alpha, respond(a.alpha, k));
  const rb = unblind(pwd, b.r, b.alpha, respond(b.alpha, k));
  assert.is(toHex(ra), toHex(rb));
  // Another password or another key gives another rwd0.
  const c = challenge(new TextEncoder().encode('correct horsf'));
  assert.is.not(toHex(unblind(new TextEncoder().encode('correct horsf'), c.r, c.alpha, respond(c.alpha, k))), toHex(ra));
  const k2 = sodium.randombytes_buf(32);
  assert.is.not(toHex(unblind(pwd, a.r, a.alpha, respond(a.alpha, k2))), toHex(ra));
});

test('respond: random keys with and without bit 255 agree with libsodium', () => {
  for (let i = 0; i < 20; i++) {
    const { alpha } = challenge(sodium.randombytes_buf(i));
    const k = sodium.randombytes_buf(32);
    const kc = Uint8Array.from(k);
    kc[31]! &= 0x7f;
    assert.is(toHex(respond(alpha, k)), toHex(sodium.crypto_scalarmult_ristretto255(kc, alpha)));
    const kTop = Uint8Array.from(k);
    kTop[31]! |= 0x80;
    assert.is(toHex(respond(alpha, kTop)), toHex(respond(alpha, kc)), 'bit 255 of k is ignored');
  }
});

test('isCanonicalPoint: random valid points pass, top-bit and garbage fail', () => {
  for (let i = 0; i < 20; i++) {
    const p = sodium.crypto_core_ristretto255_random();
    assert.ok(isCanonicalPoint(p));
    const q = Uint8Array.from(p);
    q[31]! |= 0x80;
    assert.not.ok(isCanonicalPoint(q));
  }
  assert.not.ok(isCanonicalPoint(new Uint8Array(31)));
  assert.not.ok(isCanonicalPoint(new Uint8Array(33)));
});

test.run();
