// Client-side derivations from the masterkey (protocol.md §3), byte-compatible
// with pwdsphinx 1.0.16 getid / get_signkey / get_sealkey / encrypt_blob /
// decrypt_blob. BLAKE2b here is H(msg, key): the context string is the
// message and the secret is the key.
import { Ctx, ID_SIZE, KEY_SIZE, RULE_SIZE, RWD_SIZE, SEAL_NONCE_SIZE, SEAL_OVERHEAD, VERSION } from './constants.js';
import { utf8 } from './bytes.js';
import { ProtocolError, UsageError } from './errors.js';
import { packRulePlaintext, unpackRulePlaintext, type Rule } from './rules.js';
import { seedKeypair, type Keypair } from './sign.js';
import { sodium, wipe } from './libsodium.js';

const H = (msg: Uint8Array | string, key: Uint8Array | null, out = 32): Uint8Array =>
  sodium.crypto_generichash(out, msg, key && key.length ? key : null);

function need(b: Uint8Array, len: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== len) throw new UsageError(`${what} must be ${len} bytes`);
}

/** The record-id hashing key: H(SALT_CTX, key=masterkey). */
export function saltKey(masterkey: Uint8Array): Uint8Array {
  need(masterkey, KEY_SIZE, 'masterkey');
  return H(Ctx.SALT, masterkey);
}

/** id = H(utf8(user) | "|" | utf8(host), key = saltKey(masterkey), out=32). */
export function recordId(masterkey: Uint8Array, user: string, host: string): Uint8Array {
  const salt = saltKey(masterkey);
  const msg = utf8(`${user}|${host}`);
  try {
    return H(msg, salt, ID_SIZE);
  } finally {
    wipe(salt, msg);
  }
}

/** The record holding a host's user list: recordId(masterkey, '', host). */
export function userListId(masterkey: Uint8Array, host: string): Uint8Array {
  return recordId(masterkey, '', host);
}

/**
 * The Ed25519 auth keypair of record `id`.
 * seed = H(H(SIGN_CTX, key=masterkey), key=id); with rwdKeys also
 * seed = H(seed, key=rwd), which for an empty rwd (user-list records) is an
 * unkeyed hash — exactly what the reference does.
 */
export function authKeypair(masterkey: Uint8Array, id: Uint8Array, rwd: Uint8Array, rwdKeys: boolean): Keypair {
  need(masterkey, KEY_SIZE, 'masterkey');
  need(id, ID_SIZE, 'id');
  if (!(rwd instanceof Uint8Array) || (rwd.length !== 0 && rwd.length !== RWD_SIZE)) {
    throw new UsageError(`rwd must be empty or ${RWD_SIZE} bytes`);
  }
  const s0 = H(Ctx.SIGN, masterkey);
  const s1 = H(s0, id);
  const s2 = rwdKeys ? H(s1, rwd) : null;
  try {
    return seedKeypair(s2 ?? s1);
  } finally {
    wipe(s0, s1, s2);
  }
}

/** sk = H(ENC_CTX, key=masterkey). */
export function sealKey(masterkey: Uint8Array): Uint8Array {
  need(masterkey, KEY_SIZE, 'masterkey');
  return H(Ctx.ENC, masterkey);
}

/** VERSION | nonce24 | XChaCha20-Poly1305-IETF(plaintext, ad = VERSION). */
export function seal(key: Uint8Array, plaintext: Uint8Array, nonce?: Uint8Array): Uint8Array {
  need(key, KEY_SIZE, 'seal key');
  const n = nonce ?? sodium.randombytes_buf(SEAL_NONCE_SIZE);
  need(n, SEAL_NONCE_SIZE, 'seal nonce');
  const ad = Uint8Array.of(VERSION);
  const ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, n, key);
  const out = new Uint8Array(1 + n.length + ct.length);
  out[0] = VERSION;
  out.set(n, 1);
  out.set(ct, 1 + n.length);
  return out;
}

/** Opens a `seal` blob; ProtocolError for a newer version, a short blob or a failed tag. */
export function open(key: Uint8Array, blob: Uint8Array): Uint8Array {
  need(key, KEY_SIZE, 'seal key');
  if (!(blob instanceof Uint8Array) || blob.length < SEAL_OVERHEAD) throw new ProtocolError('sealed blob too short');
  if (blob[0]! > VERSION) throw new ProtocolError('sealed blob has an unsupported version (client too old?)');
  const ad = blob.subarray(0, 1);
  const nonce = blob.subarray(1, 1 + SEAL_NONCE_SIZE);
  const ct = blob.subarray(1 + SEAL_NONCE_SIZE);
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ct, ad, nonce, key);
  } catch {
    throw new ProtocolError('sealed blob failed authentication');
  }
}

/** H(CHECK_CTX, key=rwd, out=1)[0] & 0x1f, or 0 when validation is off. */
export function checkDigit(rwd: Uint8Array, validate: boolean): number {
  if (!validate) return 0;
  need(rwd, RWD_SIZE, 'rwd');
  const b = H(Ctx.CHECK, rwd, 1);
  const d = b[0]! & 0x1f;
  wipe(b);
  return d;
}

/** H(PASS_CTX, key=rwd, out=32): XORed with the rule's xormask before derive. */
export function passHash(rwd: Uint8Array): Uint8Array {
  need(rwd, RWD_SIZE, 'rwd');
  return H(Ctx.PASS, rwd);
}

// ------------------------------------------------------------------ sealed rules (protocol.md §3)

/** Seals a rule to the 79-byte blob the oracle stores. UsageError on a bad rule. */
export function packRule(sealKey: Uint8Array, rule: Rule, nonce?: Uint8Array): Uint8Array {
  const pt = packRulePlaintext(rule);
  try {
    const blob = seal(sealKey, pt, nonce);
    if (blob.length !== RULE_SIZE) throw new Error('internal: sealed rule has the wrong size');
    return blob;
  } finally {
    wipe(pt);
  }
}

/** Opens and parses a sealed rule. ProtocolError for a wrong size, key, version or tampering. */
export function unpackRule(sealKey: Uint8Array, blob: Uint8Array): Rule {
  if (!(blob instanceof Uint8Array) || blob.length !== RULE_SIZE) throw new ProtocolError(`rule blob must be ${RULE_SIZE} bytes`);
  const pt = open(sealKey, blob);
  try {
    return unpackRulePlaintext(pt);
  } finally {
    wipe(pt);
  }
}
