// `sphinx get`, the hot path (protocol.md §2-§5). Every computation is
// client/crypto.ts's, as for every other command; this file only orders the
// steps for wall time:
// - while the request is on the network: the native argon2 binding is
//   loaded and 1/r (for the unblinding) computed;
// - the sealed rule is opened while Argon2id runs on libuv's thread pool.
import { wipe } from '../shared/bytes.js';
import { Op } from '../shared/constants.js';
import { ProtocolError } from '../shared/errors.js';
import * as msg from '../shared/messages.js';
import type { Rule } from '../shared/rules.js';
import { blindInverse, challenge, checkDigit, preloadArgon2, recordId, recordSecret, sealKey, sitePassword, stretch, unblind, unpackRule } from './crypto.js';
import { BadCheckDigit, ClientError } from './errors.js';
import type { FlowEnv } from './flow-env.js';
import { badAnswer, rateLimited, readReply, refusedMeans } from './wire.js';

const q = (s: string): string => JSON.stringify(s);

/** The record's rule, opened with the masterkey's seal key. */
function openRule(masterkey: Uint8Array, blob: Uint8Array): Rule {
  const sk = sealKey(masterkey);
  try {
    return unpackRule(sk, blob);
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    throw new ClientError('the password rules from the oracle cannot be opened (a damaged record, or not the masterkey that created it)');
  } finally {
    wipe(sk);
  }
}

/** What create, change and get return: the site password, or env.render of the record's secret. */
export function recordOutput(env: FlowEnv, rwd: Uint8Array, rule: Rule): string {
  if (!env.render) return sitePassword(rwd, rule);
  const secret = recordSecret(rwd, rule);
  try {
    return env.render(secret);
  } finally {
    wipe(secret);
  }
}

/** GET: the stored password. BadCheckDigit (exit 2) when the master password is wrong. */
export async function get(env: FlowEnv, pwd: Uint8Array, user: string, host: string): Promise<string> {
  const id = recordId(env.masterkey, user, host);
  const { r, alpha } = (env.blind ?? challenge)(pwd);
  env.mark?.('blinded');
  let rinv: Uint8Array | null = null;
  let rwd0: Uint8Array | null = null;
  let rwd: Uint8Array | null = null;
  let rule: Rule | null = null;
  try {
    const sent = (): void => {
      env.sent?.();
      void preloadArgon2();
      rinv ??= blindInverse(r);
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
    try {
      rwd0 = unblind(pwd, r, alpha, reply.beta, rinv ?? undefined);
    } catch (e) {
      badAnswer(e, 'OPRF answer (beta)');
    }
    env.mark?.('argon2');
    const rwdP = stretch(rwd0, id);
    rwdP.catch(() => undefined);
    try {
      rule = openRule(env.masterkey, reply.rules); // while Argon2id runs
    } catch (e) {
      void rwdP.then((b) => wipe(b), () => undefined);
      throw e;
    }
    rwd = await rwdP;
    env.mark?.('argon2-done');
    if (env.validatePassword && rule.checkDigit !== checkDigit(rwd, true)) throw new BadCheckDigit();
    return recordOutput(env, rwd, rule);
  } finally {
    wipe(r, rinv, rwd0, rwd, rule?.xormask);
  }
}
