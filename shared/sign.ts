// Ed25519 (libsodium crypto_sign_*) as the SPHINX auth keys use it.
import { PK_SIZE, SIG_SIZE } from './constants.js';
import { UsageError } from './errors.js';
import { sodium } from './libsodium.js';

export interface Keypair {
  publicKey: Uint8Array; // 32
  privateKey: Uint8Array; // 64 = seed | publicKey (libsodium layout)
}

/** Ed25519 keypair from a 32-byte seed (crypto_sign_seed_keypair). */
export function seedKeypair(seed: Uint8Array): Keypair {
  if (!(seed instanceof Uint8Array) || seed.length !== sodium.crypto_sign_SEEDBYTES) {
    throw new UsageError(`signing seed must be ${sodium.crypto_sign_SEEDBYTES} bytes`);
  }
  const kp = sodium.crypto_sign_seed_keypair(seed);
  return { publicKey: kp.publicKey, privateKey: kp.privateKey };
}

/** 64-byte detached signature over msg. */
export function signDetached(privateKey: Uint8Array, msg: Uint8Array): Uint8Array {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== sodium.crypto_sign_SECRETKEYBYTES) {
    throw new UsageError(`signing key must be ${sodium.crypto_sign_SECRETKEYBYTES} bytes`);
  }
  return sodium.crypto_sign_detached(msg, privateKey);
}

/** Verifies a detached signature; false for any malformed input, never throws. */
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
