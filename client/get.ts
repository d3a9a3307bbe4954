// `sphinx get`, the hot path (protocol.md §2-§5): the same bytes and the same
// password as flows.ts would give, but ordered for wall time:
// - no libsodium before argon2: the record id, the OPRF blinding and the
//   unblinding use client/fastcrypto.ts (byte-identical, tested);
// - argon2 (native, libuv thread pool) is loaded while the network works;
// - libsodium (for opening the rules, the check digit and derive) loads on
//   the main thread while argon2 runs on another.
import { concat, utf8 } from '../shared/bytes.js';
import { argon2id, preloadArgon2 } from '../shared/argon2id.js';
import { Ctx, Op } from '../shared/constants.js';
import * as msg from '../shared/messages.js';
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
    // libsodium loads here, on this thread, while argon2 runs on the pool
    const [keys, rules, password] = await Promise.all([import('../shared/keys.js'), import('../shared/rules.js'), import('../shared/password.js')]);
    env.mark?.('sodium');
    const sk = keys.sealKey(env.masterkey);
    let rule: import('../shared/rules.js').Rule;
    try {
      rule = rules.unpackRule(sk, reply.rules);
    } catch {
      throw new ClientError('the password rules from the oracle cannot be opened (a damaged record, or not the masterkey that created it)');
    } finally {
      sk.fill(0);
    }
    rwd = await rwdP;
    env.mark?.('argon2-done');
    try {
      if (env.validatePassword && rule.checkDigit !== keys.checkDigit(rwd, true)) throw new BadCheckDigit();
      const ph = keys.passHash(rwd);
      const raw = new Uint8Array(ph.length);
      for (let i = 0; i < raw.length; i++) raw[i] = ph[i]! ^ rule.xormask[i]!;
      try {
        return password.derive(raw, rule.classes, rule.size, rule.symbols);
      } finally {
        ph.fill(0);
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
