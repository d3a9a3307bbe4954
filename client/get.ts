// `sphinx get`, the hot path (protocol.md §2-§5): the same bytes and the same
// password as the libsodium-based code would give (shared/keys.ts,
// shared/oprf.ts; proven by the tests), ordered for wall time and without
// loading libsodium at all (its WebAssembly compile costs ~50 ms of CPU,
// which on two cores slowed argon2 down when it ran beside it):
// - the record id, the OPRF blinding and unblinding, and the keyed BLAKE2b
//   derivations use client/fastcrypto.ts (byte-identical, tested);
// - the sealed rule is opened with @noble/ciphers' XChaCha20-Poly1305
//   (audited; checked against libsodium's) while argon2 runs;
// - argon2 (native, on libuv's thread pool) is loaded while the network works.
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { concat, utf8 } from '../shared/bytes.js';
import { argon2id, preloadArgon2 } from '../shared/argon2id.js';
import { Ctx, KEY_SIZE, Op, RULE_SIZE, SEAL_NONCE_SIZE, VERSION } from '../shared/constants.js';
import * as msg from '../shared/messages.js';
import { derive } from '../shared/password.js';
import { unpackRulePlaintext, type Rule } from '../shared/rules.js';
import { BadCheckDigit, ClientError } from './errors.js';
import { blake2b, fromHash, invertScalar, isValidPoint, randomScalar, scalarmult } from './fastcrypto.js';
import type { FlowEnv } from './flows.js';
import { rateLimited, readReply, refusedMeans } from './wire.js';

const q = (s: string): string => JSON.stringify(s);

/** H(SALT_CTX, key=masterkey) then H(user|host, key=salt): shared/keys.recordId without libsodium. */
export function fastRecordId(masterkey: Uint8Array, user: string, host: string): Uint8Array {
  const salt = blake2b(utf8(Ctx.SALT), masterkey, 32);
  try {
    return blake2b(utf8(`${user}|${host}`), salt, 32);
  } finally {
    salt.fill(0);
  }
}

/** shared/keys.sealKey: H(ENC_CTX, key=masterkey). */
export const fastSealKey = (masterkey: Uint8Array): Uint8Array => blake2b(utf8(Ctx.ENC), masterkey, KEY_SIZE);

/** shared/keys.checkDigit(rwd, true): H(CHECK_CTX, key=rwd, out=1)[0] & 0x1f. */
export const fastCheckDigit = (rwd: Uint8Array): number => blake2b(utf8(Ctx.CHECK), rwd, 1)[0]! & 0x1f;

/** shared/keys.passHash: H(PASS_CTX, key=rwd). */
export const fastPassHash = (rwd: Uint8Array): Uint8Array => blake2b(utf8(Ctx.PASS), rwd, 32);

/**
 * shared/keys.unpackRule without libsodium: VERSION | nonce24 |
 * XChaCha20-Poly1305(plaintext, ad = the version byte). null when the blob is
 * not one this client can open (size, a newer version, a failed tag).
 */
export function fastOpenRule(sealKey: Uint8Array, blob: Uint8Array): Rule | null {
  if (blob.length !== RULE_SIZE || blob[0]! > VERSION) return null;
  const nonce = blob.subarray(1, 1 + SEAL_NONCE_SIZE);
  let pt: Uint8Array;
  try {
    pt = xchacha20poly1305(sealKey, nonce, blob.subarray(0, 1)).decrypt(blob.subarray(1 + SEAL_NONCE_SIZE));
  } catch {
    return null;
  }
  try {
    return unpackRulePlaintext(pt);
  } finally {
    pt.fill(0);
  }
}

/** The OPRF blinding (shared/oprf.challenge) without libsodium. */
export function fastChallenge(pwd: Uint8Array): { r: Uint8Array; alpha: Uint8Array } {
  const h0 = blake2b(pwd, null, 64);
  const H0 = fromHash(h0); // a function of the password alone: wiped too
  h0.fill(0);
  const r = randomScalar();
  const alpha = scalarmult(r, H0);
  H0.fill(0);
  if (!alpha) throw new Error('internal: blinding gave the identity');
  return { r, alpha };
}

/** rwd0 = H(pwd | (1/r)*beta), with shared/oprf.unblind's checks; ClientError on a bad beta. */
export function fastUnblind(pwd: Uint8Array, r: Uint8Array, alpha: Uint8Array, beta: Uint8Array): Uint8Array {
  const bad = (why: string): never => {
    throw new ClientError(`the oracle's OPRF answer (beta) is invalid (${why}); the oracle may be faulty or the connection tampered with`);
  };
  if (!isValidPoint(beta)) bad('not a canonical ristretto255 point');
  if (beta.every((b) => b === 0)) bad('the identity');
  if (Buffer.compare(Buffer.from(beta), Buffer.from(alpha)) === 0) bad('equal to alpha');
  const rinv = invertScalar(r);
  if (!rinv) throw new Error('internal: r is not invertible');
  const N = scalarmult(rinv, beta);
  rinv.fill(0);
  if (!N) return bad('identity result');
  const m = concat(pwd, N);
  try {
    return blake2b(m, null, 32);
  } finally {
    m.fill(0);
    N.fill(0);
  }
}

/** GET: the stored password. BadCheckDigit (exit 2) when the master password is wrong. */
export async function get(env: FlowEnv, pwd: Uint8Array, user: string, host: string): Promise<string> {
  const id = fastRecordId(env.masterkey, user, host);
  const { r, alpha } = (env.blind ?? fastChallenge)(pwd);
  env.mark?.('blinded');
  let rwd: Uint8Array | null = null;
  let rwd0: Uint8Array | null = null;
  try {
    const sent = (): void => {
      env.sent?.();
      void preloadArgon2();
    };
    const c = await rateLimited({ ...env, sent }, msg.buildRequest(Op.GET, id, alpha));
    let reply: { beta: Uint8Array; rules: Uint8Array };
    try {
      const b = await refusedMeans(
        `no record for user ${q(user)} at ${q(host)} (or the request was corrupted in transport): check the names; \`sphinx list ${host}\` shows the users`,
        () => readReply(c, msg.GET_REPLY_SIZE, 'the password record'),
      );
      reply = msg.parseGetReply(b);
    } finally {
      c.close();
    }
    env.mark?.('reply');
    rwd0 = fastUnblind(pwd, r, alpha, reply.beta);
    env.mark?.('argon2');
    const rwdP = argon2id(rwd0, id);
    rwdP.catch(() => undefined);
    // while argon2 runs on the thread pool: open the rule
    const sk = fastSealKey(env.masterkey);
    const rule = fastOpenRule(sk, reply.rules);
    sk.fill(0);
    if (!rule) {
      void rwdP.then((b) => b.fill(0), () => undefined);
      throw new ClientError('the password rules from the oracle cannot be opened (a damaged record, or not the masterkey that created it)');
    }
    try {
      rwd = await rwdP;
      env.mark?.('argon2-done');
      if (env.validatePassword && rule.checkDigit !== fastCheckDigit(rwd)) throw new BadCheckDigit();
      const raw = fastPassHash(rwd);
      for (let i = 0; i < raw.length; i++) raw[i]! ^= rule.xormask[i]!;
      try {
        return derive(raw, rule.classes, rule.size, rule.symbols);
      } finally {
        raw.fill(0);
      }
    } finally {
      rule.xormask.fill(0);
    }
  } finally {
    r.fill(0);
    rwd0?.fill(0);
    rwd?.fill(0);
  }
}
