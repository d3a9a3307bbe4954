// The client's cryptography, all of it, in one place: every derivation from
// the masterkey (protocol.md §3) and the client's side of the OPRF (§2),
// byte-compatible with pwdsphinx 1.0.16 / libsphinx v1.1.1. Every command
// (get included) calls these functions; nothing else computes them.
//
// The primitives come from audited libraries, never from this project:
//   BLAKE2b              @noble/hashes  blake2b
//   XChaCha20-Poly1305   @noble/ciphers xchacha20poly1305
//   Ed25519              @noble/curves  ed25519 (RFC 8032, = libsodium crypto_sign)
//   ristretto255         @noble/curves  ristretto255 (RFC 9496): element
//                        derivation from 64 bytes (= libsodium
//                        crypto_core_ristretto255_from_hash), decoding with its
//                        canonicity checks, constant-time scalar multiplication
//   scalar inversion     @noble/curves  invertCt (Fermat: the exponent is public,
//                        so the control flow does not depend on r)
//   Argon2id             the native argon2 package (shared/argon2id.ts)
//   randomness           node:crypto randomBytes (the OS CSPRNG)
// Side channels (README, Cryptography): noble's scalar multiplication
// (`multiply`) and inversion (`invertCt`) run the same sequence of operations
// for every scalar, but this is only "algorithmically" constant-time:
// JavaScript BigInt arithmetic is not constant-time, noble's element
// derivation (H0 from BLAKE2b-512 of the password) branches on the parity and
// squareness of password-derived values where libsodium uses constant-time
// selects, and BigInt values (r, 1/r, H0, N, the Ed25519 auth scalar derived
// from the masterkey) cannot be wiped. That matters to an attacker who can
// time this process from the same machine, not to the oracle.
// test/client.crypto.test.ts checks every function against libsodium, on the
// reference vectors and on random inputs.
//
// No I/O here; buffers we own that held a secret are wiped before we return.
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { invertCt } from '@noble/curves/abstract/modular.js';
import { ed25519, ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { randomBytes } from 'node:crypto';
import { argon2id, preloadArgon2 } from '../shared/argon2id.js';
import { concat, constantTimeEqual, utf8, wipe, xor } from '../shared/bytes.js';
import {
  ARGON2,
  Ctx,
  ID_SIZE,
  KEY_SIZE,
  POINT_SIZE,
  RULE_SIZE,
  RWD_SIZE,
  SCALAR_SIZE,
  SEAL_NONCE_SIZE,
  SEAL_OVERHEAD,
  VERSION,
} from '../shared/constants.js';
import { ProtocolError, UsageError } from '../shared/errors.js';
import { derive } from '../shared/password.js';
import { packRulePlaintext, unpackRulePlaintext, type Rule } from '../shared/rules.js';

export { preloadArgon2 };

function need(b: Uint8Array, len: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== len) throw new UsageError(`${what} must be ${len} bytes`);
}

/** BLAKE2b(msg, key, out) as libsodium's crypto_generichash: an empty or absent key means unkeyed. */
export function hash(msg: Uint8Array | string, key: Uint8Array | null, out = 32): Uint8Array {
  const m = typeof msg === 'string' ? utf8(msg) : msg;
  return blake2b(m, { dkLen: out, key: key && key.length ? key : undefined });
}

// ------------------------------------------------------------ masterkey derivations (protocol.md §3)
// BLAKE2b here is H(msg, key): the context string is the message, the secret the key.

/** The record-id hashing key: H(SALT_CTX, key=masterkey). */
export function saltKey(masterkey: Uint8Array): Uint8Array {
  need(masterkey, KEY_SIZE, 'masterkey');
  return hash(Ctx.SALT, masterkey);
}

/** id = H(utf8(user) | "|" | utf8(host), key = saltKey(masterkey), out=32). */
export function recordId(masterkey: Uint8Array, user: string, host: string): Uint8Array {
  const salt = saltKey(masterkey);
  const msg = utf8(`${user}|${host}`);
  try {
    return hash(msg, salt, ID_SIZE);
  } finally {
    wipe(salt, msg);
  }
}

/** The record holding a host's user list: recordId(masterkey, '', host). */
export function userListId(masterkey: Uint8Array, host: string): Uint8Array {
  return recordId(masterkey, '', host);
}

/** sk = H(ENC_CTX, key=masterkey): the key of sealed rules and user lists. */
export function sealKey(masterkey: Uint8Array): Uint8Array {
  need(masterkey, KEY_SIZE, 'masterkey');
  return hash(Ctx.ENC, masterkey);
}

/** H(CHECK_CTX, key=rwd, out=1)[0] & 0x1f, or 0 when validation is off. */
export function checkDigit(rwd: Uint8Array, validate: boolean): number {
  if (!validate) return 0;
  need(rwd, RWD_SIZE, 'rwd');
  const b = hash(Ctx.CHECK, rwd, 1);
  const d = b[0]! & 0x1f;
  wipe(b);
  return d;
}

/** H(PASS_CTX, key=rwd, out=32): XORed with the rule's xormask before derive. */
export function passHash(rwd: Uint8Array): Uint8Array {
  need(rwd, RWD_SIZE, 'rwd');
  return hash(Ctx.PASS, rwd);
}

/**
 * The record's secret: passHash(rwd) XOR xormask, the 32 bytes the site
 * password is derived from, and the converters' keys (client/converters.ts).
 */
export function recordSecret(rwd: Uint8Array, rule: Rule): Uint8Array {
  const ph = passHash(rwd);
  try {
    return xor(ph, rule.xormask);
  } finally {
    wipe(ph);
  }
}

/** The site password: derive(recordSecret) with the rule's classes, size and symbols. */
export function sitePassword(rwd: Uint8Array, rule: Rule): string {
  const raw = recordSecret(rwd, rule);
  try {
    return derive(raw, rule.classes, rule.size, rule.symbols);
  } finally {
    wipe(raw);
  }
}

// ------------------------------------------------------------ Ed25519 auth keys

export interface Keypair {
  publicKey: Uint8Array; // 32
  privateKey: Uint8Array; // 64 = seed | publicKey (libsodium's layout)
}

/** Ed25519 keypair from a 32-byte seed (= libsodium crypto_sign_seed_keypair). */
export function seedKeypair(seed: Uint8Array): Keypair {
  need(seed, 32, 'signing seed');
  const publicKey = ed25519.getPublicKey(seed);
  return { publicKey, privateKey: concat(seed, publicKey) };
}

/** 64-byte detached Ed25519 signature (= libsodium crypto_sign_detached). */
export function signDetached(privateKey: Uint8Array, msg: Uint8Array): Uint8Array {
  need(privateKey, 64, 'signing key');
  return ed25519.sign(msg, privateKey.subarray(0, 32));
}

/**
 * The Ed25519 auth keypair of record `id`.
 * seed = H(H(SIGN_CTX, key=masterkey), key=id); with rwdKeys also
 * seed = H(seed, key=rwd), which for an empty rwd (user-list records) is an
 * unkeyed hash: exactly what the reference does.
 */
export function authKeypair(masterkey: Uint8Array, id: Uint8Array, rwd: Uint8Array, rwdKeys: boolean): Keypair {
  need(masterkey, KEY_SIZE, 'masterkey');
  need(id, ID_SIZE, 'id');
  if (!(rwd instanceof Uint8Array) || (rwd.length !== 0 && rwd.length !== RWD_SIZE)) {
    throw new UsageError(`rwd must be empty or ${RWD_SIZE} bytes`);
  }
  const s0 = hash(Ctx.SIGN, masterkey);
  const s1 = hash(s0, id);
  const s2 = rwdKeys ? hash(s1, rwd) : null;
  try {
    return seedKeypair(s2 ?? s1);
  } finally {
    wipe(s0, s1, s2);
  }
}

// ------------------------------------------------------------ sealed blobs (rules, user lists)

/** VERSION | nonce24 | XChaCha20-Poly1305-IETF(plaintext, ad = VERSION). */
export function seal(key: Uint8Array, plaintext: Uint8Array, nonce?: Uint8Array): Uint8Array {
  need(key, KEY_SIZE, 'seal key');
  const n = nonce ?? new Uint8Array(randomBytes(SEAL_NONCE_SIZE));
  need(n, SEAL_NONCE_SIZE, 'seal nonce');
  const ad = Uint8Array.of(VERSION);
  const ct = xchacha20poly1305(key, n, ad).encrypt(plaintext);
  return concat(ad, n, ct);
}

/** Opens a `seal` blob; ProtocolError for a newer version, a short blob or a failed tag. */
export function open(key: Uint8Array, blob: Uint8Array): Uint8Array {
  need(key, KEY_SIZE, 'seal key');
  if (!(blob instanceof Uint8Array) || blob.length < SEAL_OVERHEAD) throw new ProtocolError('sealed blob too short');
  if (blob[0]! > VERSION) throw new ProtocolError('sealed blob has an unsupported version (client too old?)');
  const ad = blob.subarray(0, 1);
  const nonce = blob.subarray(1, 1 + SEAL_NONCE_SIZE);
  try {
    return xchacha20poly1305(key, nonce, ad).decrypt(blob.subarray(1 + SEAL_NONCE_SIZE));
  } catch {
    throw new ProtocolError('sealed blob failed authentication');
  }
}

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

// ------------------------------------------------------------ the OPRF, client side (protocol.md §2)

const Point = ristretto255.Point;
const Fn = Point.Fn;

function checkLen(b: Uint8Array, len: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== len) throw new ProtocolError(`${what} must be ${len} bytes`);
}

/** A decoded point, or null when `p` is not a canonical ristretto255 encoding. */
function decodePoint(p: Uint8Array): InstanceType<typeof Point> | null {
  if (!(p instanceof Uint8Array) || p.length !== POINT_SIZE) return null;
  try {
    return Point.fromBytes(p);
  } catch {
    return null;
  }
}

/** True iff `p` is a canonical ristretto255 encoding (the identity included). */
export function isCanonicalPoint(p: Uint8Array): boolean {
  return decodePoint(p) !== null;
}

const deriveElement = (h64: Uint8Array): InstanceType<typeof Point> => ristretto255_hasher.deriveToCurve!(h64); // always defined for ristretto255 (optional in the generic type)

/** RFC 9496 element derivation from 64 uniform bytes (= libsodium crypto_core_ristretto255_from_hash); for known-answer tests. */
export const elementFromHash = (h64: Uint8Array): Uint8Array => deriveElement(h64).toBytes();

/** A scalar from its 32-byte little-endian encoding; ProtocolError unless 0 < r < L. */
function scalarOf(r: Uint8Array): bigint {
  checkLen(r, SCALAR_SIZE, 'r');
  const s = bytesToNumberLE(r);
  if (s === 0n || s >= Fn.ORDER) throw new ProtocolError('r must be a non-zero reduced scalar');
  return s;
}

/** A uniformly random non-zero scalar (= libsodium crypto_core_ristretto255_scalar_random). */
export function randomScalar(): Uint8Array {
  for (;;) {
    const wide = new Uint8Array(randomBytes(64)); // reduced mod L: bias < 2^-250
    const s = Fn.create(bytesToNumberLE(wide));
    wipe(wide);
    if (s !== 0n) return Fn.toBytes(s);
  }
}

/**
 * Blind `pwd` with a caller-chosen scalar `r` (0 < r < L, 32 bytes LE):
 * alpha = r * H0(pwd), H0 = ristretto255 element derivation of BLAKE2b-512(pwd).
 * Exposed for known-answer tests; production code calls `challenge`.
 */
export function challengeWith(pwd: Uint8Array, r: Uint8Array): { r: Uint8Array; alpha: Uint8Array } {
  const s = scalarOf(r);
  const h0 = hash(pwd, null, 64);
  try {
    const alpha = deriveElement(h0).multiply(s);
    if (alpha.is0()) throw new ProtocolError('challenge: identity result');
    return { r, alpha: alpha.toBytes() };
  } finally {
    wipe(h0);
  }
}

/** Client step 1: alpha = r * H0(pwd) with a fresh random scalar r. */
export function challenge(pwd: Uint8Array): { r: Uint8Array; alpha: Uint8Array } {
  const r = randomScalar();
  try {
    return challengeWith(pwd, r);
  } catch (e) {
    wipe(r);
    throw e;
  }
}

/**
 * 1/r mod L, for `unblind`: `get` computes it while it waits for the oracle.
 * invertCt is Fermat's inversion (r^(L-2)): the exponent is public, so the
 * sequence of operations does not depend on r.
 */
export function blindInverse(r: Uint8Array): Uint8Array {
  return Fn.toBytes(invertCt(scalarOf(r), Fn.ORDER));
}

/**
 * rwd0 = H(pwd | N, out=32) with N = (1/r) * beta: the part of `finish`
 * before Argon2id. ProtocolError (naming the check, never a value) for a beta
 * that is not a canonical point, is the identity or equals alpha.
 */
export function unblind(pwd: Uint8Array, r: Uint8Array, alpha: Uint8Array, beta: Uint8Array, rinv?: Uint8Array): Uint8Array {
  checkLen(alpha, POINT_SIZE, 'alpha');
  checkLen(beta, POINT_SIZE, 'beta');
  const B = decodePoint(beta);
  if (!B) throw new ProtocolError('beta is not a canonical ristretto255 point');
  if (B.is0()) throw new ProtocolError('beta is the identity');
  if (constantTimeEqual(beta, alpha)) throw new ProtocolError('beta equals alpha');
  const inv = rinv ?? blindInverse(r);
  const N = B.multiply(scalarOf(inv)).toBytes();
  const msg = concat(pwd, N);
  try {
    return hash(msg, null, 32);
  } finally {
    wipe(N, msg);
    if (inv !== rinv) wipe(inv);
  }
}

/** Argon2id of rwd0 with salt id[0..16], = libsodium crypto_pwhash INTERACTIVE (argon2id13). */
export async function stretch(rwd0: Uint8Array, id: Uint8Array): Promise<Uint8Array> {
  checkLen(rwd0, RWD_SIZE, 'rwd0');
  if (!(id instanceof Uint8Array) || id.length < ARGON2.saltLength) throw new ProtocolError('id too short for the argon2 salt');
  return argon2id(rwd0, id);
}

/**
 * Client step 2: rwd = Argon2id(H(pwd | (1/r) * beta), salt = id[0..16]).
 * Rejects an invalid or identity beta and beta == alpha (ProtocolError).
 */
export async function finish(pwd: Uint8Array, r: Uint8Array, alpha: Uint8Array, beta: Uint8Array, id: Uint8Array): Promise<Uint8Array> {
  checkLen(id, ID_SIZE, 'id');
  const rwd0 = unblind(pwd, r, alpha, beta);
  try {
    return await stretch(rwd0, id);
  } finally {
    wipe(rwd0);
  }
}
