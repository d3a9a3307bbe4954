// The SPHINX OPRF over ristretto255 (protocol.md §2), byte-compatible with
// libsphinx v1.1.1 sphinx_challenge / sphinx_respond / sphinx_finish.
//
// Every libsodium failure is turned into a ProtocolError whose message names
// the step, never a value: callers may log these messages.
import { constantTimeEqual } from './bytes.js';
import { ARGON2, POINT_SIZE, SCALAR_SIZE, ID_SIZE, RWD_SIZE } from './constants.js';
import { argon2id, preloadArgon2 as loadArgon2 } from './argon2id.js';
import { ProtocolError } from './errors.js';
import { sodium, wipe } from './libsodium.js';

/** The ristretto255 encoding of the identity element (all zero bytes). */
function isZero(b: Uint8Array): boolean {
  let d = 0;
  for (let i = 0; i < b.length; i++) d |= b[i]!;
  return d === 0;
}

/**
 * True iff `p` is a canonical ristretto255 encoding of a group element
 * (the identity included: callers that must exclude it check the product).
 * libsodium 1.0.18 ignores bit 255 of an encoding and so accepts a second,
 * non-canonical encoding of every point (protocol.md §8.9); we reject it
 * explicitly whatever libsodium version is loaded.
 */
export function isCanonicalPoint(p: Uint8Array): boolean {
  if (!(p instanceof Uint8Array) || p.length !== POINT_SIZE) return false;
  if ((p[31]! & 0x80) !== 0) return false;
  try {
    return sodium.crypto_core_ristretto255_is_valid_point(p);
  } catch {
    return false;
  }
}

function scalarmult(scalar: Uint8Array, point: Uint8Array, what: string): Uint8Array {
  try {
    return sodium.crypto_scalarmult_ristretto255(scalar, point);
  } catch {
    // libsodium throws when the product is the identity (or the point is invalid).
    throw new ProtocolError(`${what}: invalid point or identity result`);
  }
}

function checkLen(b: Uint8Array, len: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== len) throw new ProtocolError(`${what} must be ${len} bytes`);
}

/**
 * Blind `pwd` with a caller-chosen scalar `r` (which must be reduced mod L).
 * Exposed for known-answer tests; production code calls `challenge`.
 */
export function challengeWith(pwd: Uint8Array, r: Uint8Array): { r: Uint8Array; alpha: Uint8Array } {
  checkLen(r, SCALAR_SIZE, 'r');
  const h0 = sodium.crypto_generichash(64, pwd, null);
  let H0: Uint8Array | undefined;
  try {
    H0 = sodium.crypto_core_ristretto255_from_hash(h0);
    const alpha = scalarmult(r, H0, 'challenge');
    return { r, alpha };
  } finally {
    wipe(h0, H0);
  }
}

/** Client step 1: alpha = r * H0(pwd) with a fresh random scalar r. */
export function challenge(pwd: Uint8Array): { r: Uint8Array; alpha: Uint8Array } {
  const r = sodium.crypto_core_ristretto255_scalar_random();
  try {
    return challengeWith(pwd, r);
  } catch (e) {
    wipe(r);
    throw e;
  }
}

/**
 * Oracle step: beta = k * alpha, with bit 255 of k cleared exactly as
 * libsodium's crypto_scalarmult_ristretto255 does (protocol.md §2: the stored
 * key is 32 raw random bytes and must give the reference's beta).
 * Throws ProtocolError for a non-canonical alpha or an identity result.
 */
export function respond(alpha: Uint8Array, k: Uint8Array): Uint8Array {
  checkLen(alpha, POINT_SIZE, 'alpha');
  checkLen(k, SCALAR_SIZE, 'k');
  if (!isCanonicalPoint(alpha)) throw new ProtocolError('alpha is not a canonical ristretto255 point');
  const kc = Uint8Array.from(k);
  kc[31]! &= 0x7f;
  try {
    const beta = scalarmult(kc, alpha, 'respond');
    if (isZero(beta)) throw new ProtocolError('respond: identity result'); // belt and braces
    return beta;
  } finally {
    wipe(kc);
  }
}

// The native argon2 binding is loaded on first use (shared/argon2id.ts), so
// importers that only need respond() (the oracle) do not pay for it.
/** Optional: start loading argon2 early (e.g. while the network round trip runs). */
export async function preloadArgon2(): Promise<void> {
  await loadArgon2();
}

/** Argon2id of rwd0 with salt id[0..16], = libsodium crypto_pwhash INTERACTIVE (argon2id13). */
export async function stretch(rwd0: Uint8Array, id: Uint8Array): Promise<Uint8Array> {
  checkLen(rwd0, RWD_SIZE, 'rwd0');
  if (!(id instanceof Uint8Array) || id.length < ARGON2.saltLength) throw new ProtocolError('id too short for the argon2 salt');
  return argon2id(rwd0, id);
}

/** rwd0 = H(pwd | N, out=32) with N = (1/r) * beta: the part of `finish` before argon2. */
export function unblind(pwd: Uint8Array, r: Uint8Array, alpha: Uint8Array, beta: Uint8Array): Uint8Array {
  checkLen(r, SCALAR_SIZE, 'r');
  checkLen(alpha, POINT_SIZE, 'alpha');
  checkLen(beta, POINT_SIZE, 'beta');
  if (!isCanonicalPoint(beta)) throw new ProtocolError('beta is not a canonical ristretto255 point');
  if (isZero(beta)) throw new ProtocolError('beta is the identity');
  if (constantTimeEqual(beta, alpha)) throw new ProtocolError('beta equals alpha');
  let rinv: Uint8Array | undefined;
  let N: Uint8Array | undefined;
  let msg: Uint8Array | undefined;
  try {
    try {
      rinv = sodium.crypto_core_ristretto255_scalar_invert(r);
    } catch {
      throw new ProtocolError('finish: r is not invertible');
    }
    N = scalarmult(rinv, beta, 'finish');
    msg = new Uint8Array(pwd.length + N.length);
    msg.set(pwd, 0);
    msg.set(N, pwd.length);
    return sodium.crypto_generichash(32, msg, null);
  } finally {
    wipe(rinv, N, msg);
  }
}

/**
 * Client step 2: rwd = Argon2id(H(pwd | (1/r) * beta), salt = id[0..16]).
 * Rejects an invalid or identity beta and beta == alpha (ProtocolError).
 */
export async function finish(
  pwd: Uint8Array,
  r: Uint8Array,
  alpha: Uint8Array,
  beta: Uint8Array,
  id: Uint8Array,
): Promise<Uint8Array> {
  checkLen(id, ID_SIZE, 'id');
  const rwd0 = unblind(pwd, r, alpha, beta);
  try {
    return await stretch(rwd0, id);
  } finally {
    wipe(rwd0);
  }
}
