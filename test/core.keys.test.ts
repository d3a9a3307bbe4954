import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadVectors, hex, toHex } from './helpers/vectors.js';
import { ProtocolError, UsageError } from '../shared/errors.js';
import { Ctx, SEAL_OVERHEAD } from '../shared/constants.js';
import { recordId, userListId, saltKey, authKeypair, sealKey, seal, open, checkDigit, passHash, seedKeypair, signDetached } from '../client/crypto.js';
import { verifyDetached, sodium } from '../oracle/crypto.js';

const C = loadVectors('client');
const mk = hex(C.masterkey);
const sk = sealKey(mk);

function throwsType(fn: () => unknown, type: typeof ProtocolError | typeof UsageError, what?: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, type, what);
    return;
  }
  assert.unreachable(what ?? 'expected an error');
}

test('context strings, salt key and seal key', () => {
  assert.equal(
    { ENC_CTX: Ctx.ENC, SIGN_CTX: Ctx.SIGN, SALT_CTX: Ctx.SALT, PASS_CTX: Ctx.PASS, CHECK_CTX: Ctx.CHECK },
    C.contexts,
  );
  assert.is(toHex(saltKey(mk)), C.salt_key);
  assert.is(toHex(sk), C.seal_key);
});

for (const e of C.ids) {
  test(`ids: ${JSON.stringify(e.user)} @ ${JSON.stringify(e.host)}: id and the three keypairs`, () => {
    const id = recordId(mk, e.user, e.host);
    assert.is(toHex(id), e.id);
    if (e.user === '') assert.is(toHex(userListId(mk, e.host)), e.id);
    const f = authKeypair(mk, id, new Uint8Array(0), false);
    assert.is(toHex(f.publicKey), e.sign_rwd_keys_false.pk);
    assert.is(toHex(f.privateKey), e.sign_rwd_keys_false.sk);
    // rwd is ignored with rwd_keys false
    assert.is(toHex(authKeypair(mk, id, sodium.randombytes_buf(32), false).privateKey), e.sign_rwd_keys_false.sk);
    const te = authKeypair(mk, id, new Uint8Array(0), true);
    assert.is(toHex(te.publicKey), e.sign_rwd_keys_true_rwd_empty.pk);
    assert.is(toHex(te.privateKey), e.sign_rwd_keys_true_rwd_empty.sk);
    assert.is.not(toHex(te.publicKey), toHex(f.publicKey));
    const t = authKeypair(mk, id, hex(e.sign_rwd_keys_true.rwd), true);
    assert.is(toHex(t.publicKey), e.sign_rwd_keys_true.pk);
    assert.is(toHex(t.privateKey), e.sign_rwd_keys_true.sk);
  });
}

test("ids: the reference's '|' ambiguity is reproduced", () => {
  assert.is(toHex(recordId(mk, 'x|y', 'z')), toHex(recordId(mk, 'x', 'y|z')));
  assert.is.not(toHex(recordId(mk, 'x', 'y')), toHex(recordId(mk, 'y', 'x')));
});

test('authKeypair / recordId reject malformed inputs', () => {
  const id = recordId(mk, 'a', 'b');
  throwsType(() => authKeypair(mk, id, new Uint8Array(31), true), UsageError);
  throwsType(() => authKeypair(mk, id.subarray(1), new Uint8Array(0), true), UsageError);
  throwsType(() => recordId(mk.subarray(1), 'a', 'b'), UsageError);
  throwsType(() => sealKey(new Uint8Array(0)), UsageError);
});

test('signed_host_id: sign_blob(id, id, "") with rwd_keys false', () => {
  const s = C.signed_host_id;
  const id = userListId(mk, s.host);
  assert.is(toHex(id), s.id);
  const kp = authKeypair(mk, id, new Uint8Array(0), false);
  const sig = signDetached(kp.privateKey, id);
  assert.is(toHex(id) + toHex(sig), s.signed);
  assert.ok(verifyDetached(kp.publicKey, id, sig));
  const bad = Uint8Array.from(sig);
  bad[5]! ^= 1;
  assert.not.ok(verifyDetached(kp.publicKey, id, bad));
  assert.not.ok(verifyDetached(kp.publicKey, id.subarray(1), sig));
  assert.not.ok(verifyDetached(authKeypair(mk, id, new Uint8Array(0), true).publicKey, id, sig));
});

test('verifyDetached never throws on garbage', () => {
  const kp = seedKeypair(new Uint8Array(32).fill(7));
  const msg = Uint8Array.of(1, 2, 3);
  const sig = signDetached(kp.privateKey, msg);
  assert.ok(verifyDetached(kp.publicKey, msg, sig));
  assert.not.ok(verifyDetached(kp.publicKey.subarray(1), msg, sig));
  assert.not.ok(verifyDetached(kp.publicKey, msg, sig.subarray(1)));
  assert.not.ok(verifyDetached(new Uint8Array(32).fill(0xff), msg, sig));
  assert.not.ok(verifyDetached(new Uint8Array(32), msg, new Uint8Array(64)));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  assert.not.ok(verifyDetached(null as any, msg, sig));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  assert.not.ok(verifyDetached(kp.publicKey, 'abc' as any, sig));
  throwsType(() => seedKeypair(new Uint8Array(31)), UsageError);
  throwsType(() => signDetached(kp.publicKey, msg), UsageError);
});

test('final_password[]: check digits and pass context hashes', () => {
  for (const f of C.final_password) {
    const rwd = hex(f.rwd);
    assert.is(checkDigit(rwd, true), f.check_digit_5bit);
    assert.is(checkDigit(rwd, false), 0);
    if (f.check_digit_byte !== undefined) assert.is(f.check_digit_byte & 0x1f, f.check_digit_5bit);
    if (f.pass_ctx_hash) assert.is(toHex(passHash(rwd)), f.pass_ctx_hash);
  }
});

test('seal with a fixed nonce reproduces the reference blobs; open recovers the plaintext', () => {
  for (const r of C.rules) {
    assert.is(toHex(seal(sk, hex(r.plaintext), hex(r.nonce))), r.blob);
    assert.is(toHex(open(sk, hex(r.blob))), r.plaintext);
  }
  for (const u of C.user_list_blobs) {
    const blob = seal(sk, hex(u.plaintext), hex(u.nonce));
    assert.is(toHex(blob), u.blob);
    assert.is(blob.length, u.blob_len);
    assert.is(toHex(open(sk, blob)), u.plaintext);
  }
});

test('open rejects newer versions, short blobs, every single-byte change and another key', () => {
  const blob = hex(C.rules[0].blob);
  for (const v of [1, 2, 0x80, 0xff]) {
    const b = Uint8Array.from(blob);
    b[0] = v;
    throwsType(() => open(sk, b), ProtocolError, `version ${v}`);
  }
  for (let len = 0; len < SEAL_OVERHEAD; len++) throwsType(() => open(sk, blob.subarray(0, len)), ProtocolError, `len ${len}`);
  throwsType(() => open(sk, blob.subarray(0, blob.length - 1)), ProtocolError, 'truncated');
  for (let i = 0; i < blob.length; i++) {
    const b = Uint8Array.from(blob);
    b[i]! ^= 1 << (i % 8);
    throwsType(() => open(sk, b), ProtocolError, `flip at ${i}`);
  }
  throwsType(() => open(sealKey(sodium.randombytes_buf(32)), blob), ProtocolError, 'other key');
  const extended = new Uint8Array(blob.length + 1);
  extended.set(blob);
  throwsType(() => open(sk, extended), ProtocolError, 'appended byte');
});

test('property: seal/open round trip and tamper rejection on random data', () => {
  for (let i = 0; i < 200; i++) {
    const key = sodium.randombytes_buf(32);
    const pt = sodium.randombytes_buf(sodium.randombytes_uniform(300));
    const blob = seal(key, pt);
    assert.is(blob.length, pt.length + SEAL_OVERHEAD);
    assert.is(blob[0], 0);
    assert.is(toHex(open(key, blob)), toHex(pt));
    const pos = sodium.randombytes_uniform(blob.length - 1) + 1; // byte 0 is the version, checked above
    const bad = Uint8Array.from(blob);
    bad[pos]! ^= 1 + sodium.randombytes_uniform(255);
    throwsType(() => open(key, bad), ProtocolError);
  }
  // Two seals of the same plaintext use different nonces.
  const a = seal(sk, Uint8Array.of(1));
  const b = seal(sk, Uint8Array.of(1));
  assert.is.not(toHex(a), toHex(b));
  throwsType(() => seal(sk, Uint8Array.of(1), new Uint8Array(23)), UsageError);
});

test.run();
