// The oracle's cryptography, all of it, from libsodium (libsodium-wrappers-sumo):
// constant-time with the long-term record keys, and its load time does not
// matter in a daemon. The oracle's side of the OPRF (protocol.md §2), Ed25519
// verification of the clients' auth signatures, and (oracle/challenge.ts)
// the keyed-BLAKE2b MAC of its puzzle challenges.
//
// libsodium's WebAssembly instantiates asynchronously: this module awaits it
// at import, so importing it is what makes `sodium` usable in the oracle.
//
// Every failure is a ProtocolError whose message names the step, never a
// value: callers may log these messages.
import { constantTimeEqual, wipe } from '../shared/bytes.js';
import { PK_SIZE, POINT_SIZE, SCALAR_SIZE, SIG_SIZE } from '../shared/constants.js';
import { ProtocolError } from '../shared/errors.js';
import _sodium from 'libsodium-wrappers-sumo';

await _sodium.ready;

/** libsodium, ready (the oracle's only crypto provider; the client never loads it). */
export const sodium = _sodium;

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

const IDENTITY = new Uint8Array(POINT_SIZE);

/**
 * Oracle step: beta = k * alpha, with bit 255 of k cleared exactly as
 * libsodium's crypto_scalarmult_ristretto255 does (protocol.md §2: the stored
 * key is 32 raw random bytes and must give the reference's beta).
 * Throws ProtocolError for a non-canonical alpha or an identity result.
 */
export function respond(alpha: Uint8Array, k: Uint8Array): Uint8Array {
  if (!(alpha instanceof Uint8Array) || alpha.length !== POINT_SIZE) throw new ProtocolError(`alpha must be ${POINT_SIZE} bytes`);
  if (!(k instanceof Uint8Array) || k.length !== SCALAR_SIZE) throw new ProtocolError(`k must be ${SCALAR_SIZE} bytes`);
  if (!isCanonicalPoint(alpha)) throw new ProtocolError('alpha is not a canonical ristretto255 point');
  const kc = Uint8Array.from(k);
  kc[31]! &= 0x7f;
  let beta: Uint8Array;
  try {
    beta = sodium.crypto_scalarmult_ristretto255(kc, alpha);
  } catch {
    // libsodium throws when the product is the identity (or the point is invalid)
    throw new ProtocolError('respond: invalid point or identity result');
  } finally {
    wipe(kc);
  }
  if (constantTimeEqual(beta, IDENTITY)) throw new ProtocolError('respond: identity result'); // belt and braces
  return beta;
}

/** Verifies a detached Ed25519 signature; false for any malformed input, never throws. */
export function verifyDetached(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PK_SIZE) return false;
  if (!(sig instanceof Uint8Array) || sig.length !== SIG_SIZE) return false;
  if (!(msg instanceof Uint8Array)) return false;
  try {
    return sodium.crypto_sign_verify_detached(sig, msg, publicKey);
  } catch {
    return false;
  }
}
