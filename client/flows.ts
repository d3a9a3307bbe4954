// Every client operation (protocol.md §4, §5) as a sequence of reads and
// writes over the Conn abstraction: no sockets, files or terminal here, so the
// flows run as well against an in-memory fake oracle as over TLS.
// Byte-compatible with the pwdsphinx 1.0.16 client (test/vectors/transcripts.json),
// except where protocol.md §8 says otherwise (CREATE reads the oracle's "ok").
import { randomBytes } from 'node:crypto';
import { wipe, xor } from '../shared/bytes.js';
import { NONCE_SIZE, Op, POINT_SIZE, SEAL_NONCE_SIZE, XORMASK_SIZE } from '../shared/constants.js';
import { UsageError } from '../shared/errors.js';
import * as msg from '../shared/messages.js';
import { encode } from '../shared/password.js';
import type { Rule } from '../shared/rules.js';
import { decodeUsers, encodeUsers, userNames } from '../shared/userlist.js';
import type { RuleSpec } from './args.js';
import type { Conn } from './conn.js';
import {
  authKeypair,
  challenge as oprfChallenge,
  checkDigit,
  finish,
  open,
  packRule,
  passHash,
  recordId,
  seal,
  sealKey,
  signDetached,
  unpackRule,
  userListId,
  type Keypair,
} from './crypto.js';
import type { FlowEnv } from './flow-env.js';
import { ClientError } from './errors.js';
import { get, recordOutput } from './get.js';
import { badAnswer, rateLimited, readBlobReply, readOk, readReply, Refused, refusedMeans } from './wire.js';

export { EARLY_CONNECT_MAX_N, rateLimited } from './wire.js';
export type { FlowEnv } from './flow-env.js';

const EMPTY = new Uint8Array(0);

// ---------------------------------------------------------------- building blocks

const signer = (kp: Keypair) => (m: Uint8Array): Uint8Array => signDetached(kp.privateKey, m);

function blindOf(env: FlowEnv): (pwd: Uint8Array) => { r: Uint8Array; alpha: Uint8Array } {
  return env.blind ?? oprfChallenge;
}

async function stretch(env: FlowEnv, pwd: Uint8Array, r: Uint8Array, alpha: Uint8Array, beta: Uint8Array, id: Uint8Array): Promise<Uint8Array> {
  env.mark?.('argon2');
  try {
    const rwd = await finish(pwd, r, alpha, beta, id);
    env.mark?.('argon2-done');
    return rwd;
  } catch (e) {
    return badAnswer(e, 'OPRF answer (beta)');
  }
}

/** The auth step: returns rwd (empty unless rwd_keys needs it) after signing the oracle's nonce. */
async function authenticate(
  env: FlowEnv,
  c: Conn,
  id: Uint8Array,
  blinded: { pwd: Uint8Array; r: Uint8Array; alpha: Uint8Array } | null,
  refusal: string,
): Promise<Uint8Array> {
  const withBeta = blinded !== null;
  const b = await refusedMeans(refusal, () => readReply(c, (withBeta ? POINT_SIZE : 0) + NONCE_SIZE, 'the authentication challenge'));
  let ac: { beta: Uint8Array | null; nonce: Uint8Array };
  try {
    ac = msg.parseAuthChallenge(b, withBeta);
  } catch (e) {
    badAnswer(e, 'authentication challenge');
  }
  // With rwd_keys false the auth key does not depend on the password: skip argon2.
  const rwd = withBeta && env.rwdKeys ? await stretch(env, blinded.pwd, blinded.r, blinded.alpha, ac.beta!, id) : EMPTY;
  const kp = authKeypair(env.masterkey, id, rwd, env.rwdKeys);
  try {
    c.write(msg.authResponse(ac.nonce, signer(kp)));
  } finally {
    wipe(kp.privateKey);
  }
  return rwd;
}

/** The rule to store: random xormask, or the one that makes `derive` give the target. */
function makeRule(env: FlowEnv, spec: RuleSpec, rwd: Uint8Array, target: ReturnType<typeof encode> | null): Rule {
  const cd = checkDigit(rwd, env.validatePassword);
  if (target) {
    const ph = passHash(rwd);
    const xormask = xor(ph, target.raw);
    wipe(ph);
    return { classes: target.classes, symbols: target.symbols, size: target.size, checkDigit: cd, xormask };
  }
  const xormask = (env.random ?? ((n: number) => new Uint8Array(randomBytes(n))))(XORMASK_SIZE);
  return { classes: spec.classes, symbols: spec.symbols, size: spec.size, checkDigit: cd, xormask };
}

/** CREATE / CHANGE step 2: pk | sealed rule | sig(pk | rule) with the auth key for (id, rwd). */
function sendKeyAndRule(env: FlowEnv, c: Conn, id: Uint8Array, rwd: Uint8Array, rule: Rule): void {
  const kp = authKeypair(env.masterkey, id, rwd, env.rwdKeys);
  const sk = sealKey(env.masterkey);
  try {
    c.write(msg.createStep2(kp.publicKey, packRule(sk, rule, env.random?.(SEAL_NONCE_SIZE)), signer(kp)));
  } finally {
    wipe(kp.privateKey, sk);
  }
}

/** Checks a target password before anything is sent (too long, bad characters: exit 1). */
export function encodeTarget(spec: RuleSpec): ReturnType<typeof encode> | null {
  if (spec.target === undefined) return null;
  try {
    return encode(spec.target);
  } catch (e) {
    if (e instanceof UsageError) throw new ClientError(`cannot store this target password: ${e.message}`);
    throw e;
  }
}

/** CREATE step 3 / DELETE: fetch the host's user list, change it, store it signed. */
async function updateUserList(
  env: FlowEnv,
  c: Conn,
  host: string,
  change: (users: string[] | null) => string[],
  refusal: string,
): Promise<void> {
  const uid = userListId(env.masterkey, host);
  const ukp = authKeypair(env.masterkey, uid, EMPTY, env.rwdKeys);
  const sk = sealKey(env.masterkey);
  try {
    c.write(msg.userListRequest(uid, signer(ukp)));
    const sealed = await refusedMeans(refusal, () => readBlobReply(c, 'the user list'));
    let current: string[] | null = null;
    if (sealed) {
      let pt: Uint8Array;
      try {
        pt = open(sk, sealed);
      } catch (e) {
        badAnswer(e, 'user list');
      }
      current = decodeUsers(pt).filter((u) => u !== '');
    }
    const next = change(current);
    let sealedNext: Uint8Array;
    try {
      sealedNext = seal(sk, encodeUsers(next), env.random?.(SEAL_NONCE_SIZE));
    } catch (e) {
      if (e instanceof UsageError) throw new ClientError(`cannot update the user list of ${host}: ${e.message}`);
      throw e;
    }
    c.write(current === null ? msg.newUserList(ukp.publicKey, sealedNext, signer(ukp)) : msg.updatedUserList(sealedNext, signer(ukp)));
  } finally {
    wipe(ukp.privateKey, sk);
  }
}

const q = (s: string): string => JSON.stringify(s);

// ---------------------------------------------------------------- operations

/** CREATE (one connection, no puzzle). Returns the new password. */
export async function create(env: FlowEnv, pwd: Uint8Array, user: string, host: string, spec: RuleSpec): Promise<string> {
  const target = encodeTarget(spec);
  const id = recordId(env.masterkey, user, host);
  const { r, alpha } = blindOf(env)(pwd);
  const c = await env.connect();
  let rwd: Uint8Array = EMPTY;
  let rule: Rule | null = null;
  try {
    c.write(msg.createRequest(id, alpha));
    const beta = await refusedMeans(
      `cannot create: a record for user ${q(user)} at ${q(host)} probably exists already (\`sphinx get\` it, or \`sphinx delete\` it first), or the request was corrupted in transport`,
      () => readReply(c, POINT_SIZE, 'the OPRF answer'),
    );
    rwd = await stretch(env, pwd, r, alpha, beta, id);
    rule = makeRule(env, spec, rwd, target);
    sendKeyAndRule(env, c, id, rwd, rule);
    await updateUserList(
      env,
      c,
      host,
      (users) => {
        if (users?.includes(user)) env.warn?.(`warning: ${q(user)} was already in the user list of ${q(host)}`);
        return [...(users ?? []), user];
      },
      `cannot create: the oracle refused to update the user list of ${q(host)} (it was made with another masterkey or rwd_keys setting?); nothing was stored`,
    );
    await refusedMeans(`cannot create: the oracle failed to store the record for ${q(user)} at ${q(host)}; try again`, () => readOk(c, 'the new record'));
    const pw = recordOutput(env, rwd, rule);
    if (target && !env.render && pw !== spec.target) throw new Error('internal: the target password does not round-trip');
    return pw;
  } finally {
    c.close();
    wipe(r, rwd, rule?.xormask);
  }
}

/** GET: get.ts orders its steps for wall time. */
export { get };

/**
 * CHANGE: a new key and rule, pending until COMMIT. Returns the new password.
 * With checkCurrentFirst and validate_password on, the current master
 * password is first checked against the record's check digit (a GET: CHANGE
 * itself never returns the current rule), so a mistyped one fails with exit 2
 * before anything is stored.
 */
export async function change(
  env: FlowEnv,
  oldPwd: Uint8Array,
  newPwd: Uint8Array,
  user: string,
  host: string,
  spec: RuleSpec,
): Promise<string> {
  const target = encodeTarget(spec);
  if (env.checkCurrentFirst && env.validatePassword) await get(env, oldPwd, user, host); // BadCheckDigit: nothing stored
  const id = recordId(env.masterkey, user, host);
  const blind = blindOf(env);
  const { r, alpha } = blind(oldPwd);
  let rwd: Uint8Array = EMPTY;
  let rwdOld: Uint8Array = EMPTY;
  let r2: Uint8Array = EMPTY;
  let rule: Rule | null = null;
  try {
    const c = await rateLimited(env, msg.buildRequest(Op.CHANGE, id, alpha));
    try {
      const notFound = noRecord(env, 'change', user, host, 'the old master password');
      rwdOld = await authenticate(env, c, id, { pwd: oldPwd, r, alpha }, notFound);
      const nb = blind(newPwd);
      r2 = nb.r;
      c.write(nb.alpha);
      const beta2 = await refusedMeans(
        env.rwdKeys ? `cannot change: the oracle refused; the old master password is probably wrong` : `cannot change: the oracle refused the authentication (not the masterkey that created the record?)`,
        () => readReply(c, POINT_SIZE, 'the OPRF answer for the new password'),
      );
      rwd = await stretch(env, newPwd, nb.r, nb.alpha, beta2, id);
      rule = makeRule(env, spec, rwd, target);
      sendKeyAndRule(env, c, id, rwd, rule);
      await refusedMeans(`cannot change: the oracle failed to store the new password for ${q(user)} at ${q(host)}; try again`, () => readOk(c, 'the change'));
    } finally {
      c.close();
    }
    const pw = recordOutput(env, rwd, rule);
    if (target && !env.render && pw !== spec.target) throw new Error('internal: the target password does not round-trip');
    return pw;
  } finally {
    wipe(r, r2, rwd, rwdOld, rule?.xormask);
  }
}

/**
 * The record's current rule (classes, symbols, size), for a CHANGE that keeps
 * it: one GET exchange, whose sealed rule opens with the masterkey alone (no
 * argon2; `pwd` only blinds the request). The browser's change form sends no
 * rule (websphinx.md §2).
 */
export async function currentRule(env: FlowEnv, pwd: Uint8Array, user: string, host: string): Promise<RuleSpec> {
  const id = recordId(env.masterkey, user, host);
  const { r, alpha } = blindOf(env)(pwd);
  wipe(r);
  let blob: Uint8Array;
  const c = await rateLimited(env, msg.buildRequest(Op.GET, id, alpha));
  try {
    const b = await refusedMeans(`cannot change: no record for user ${q(user)} at ${q(host)}`, () => readReply(c, msg.GET_REPLY_SIZE, 'the password record'));
    blob = msg.parseGetReply(b).rules;
  } finally {
    c.close();
  }
  const sk = sealKey(env.masterkey);
  let rule: Rule;
  try {
    rule = unpackRule(sk, blob);
  } catch (e) {
    badAnswer(e, 'password rule');
  } finally {
    wipe(sk);
  }
  wipe(rule.xormask);
  return { classes: rule.classes, symbols: rule.symbols, size: rule.size };
}

async function commitOrUndo(env: FlowEnv, op: 'commit' | 'undo', pwd: Uint8Array, user: string, host: string): Promise<void> {
  const id = recordId(env.masterkey, user, host);
  const { r, alpha } = blindOf(env)(pwd);
  let rwd: Uint8Array = EMPTY;
  try {
    const c = await rateLimited(env, msg.buildRequest(op === 'commit' ? Op.COMMIT : Op.UNDO, id, alpha));
    try {
      rwd = await authenticate(
        env,
        c,
        id,
        { pwd, r, alpha },
        noRecord(env, op, user, host),
      );
      const nothing =
        op === 'commit'
          ? `cannot commit: there is no pending change for ${q(user)} at ${q(host)} (run \`sphinx change\` first; a change can be committed only once)${env.rwdKeys ? ', or the master password is wrong' : ''}`
          : `cannot undo: there is no previous password for ${q(user)} at ${q(host)} (undo only follows a commit, once)${env.rwdKeys ? ', or the master password is wrong' : ''}`;
      await refusedMeans(nothing, () => readOk(c, `the ${op}`));
    } finally {
      c.close();
    }
  } finally {
    wipe(r, rwd);
  }
}

/** COMMIT: the pending change becomes current (the old one is kept for UNDO). */
export const commit = (env: FlowEnv, pwd: Uint8Array, user: string, host: string): Promise<void> => commitOrUndo(env, 'commit', pwd, user, host);
/** UNDO: back to the password before the last COMMIT. */
export const undo = (env: FlowEnv, pwd: Uint8Array, user: string, host: string): Promise<void> => commitOrUndo(env, 'undo', pwd, user, host);

/**
 * "No record" for change, commit, undo and delete. A user the host's list
 * still names may have lost its record to an interrupted create or delete
 * (the list and the record are two writes, issue 14): say how to clean up.
 */
function noRecord(env: FlowEnv, op: string, user: string, host: string, pwd = 'the master password'): string {
  return (
    `cannot ${op}: no record for user ${q(user)} at ${q(host)}${env.rwdKeys ? `, or ${pwd} is wrong` : ''}` +
    ` (if \`sphinx list ${host}\` still names ${q(user)}, an interrupted create or delete left it there: create it again, then delete it)`
  );
}

/** DELETE: removes the record and the user from the host's list. */
export async function del(env: FlowEnv, pwd: Uint8Array, user: string, host: string): Promise<void> {
  const id = recordId(env.masterkey, user, host);
  const { r, alpha } = blindOf(env)(pwd);
  let rwd: Uint8Array = EMPTY;
  try {
    const c = await rateLimited(env, msg.buildRequest(Op.DELETE, id, alpha));
    try {
      rwd = await authenticate(
        env,
        c,
        id,
        { pwd, r, alpha },
        noRecord(env, 'delete', user, host),
      );
      await updateUserList(
        env,
        c,
        host,
        (users) => {
          if (users === null) throw new ClientError(`cannot delete: the oracle has no user list for ${q(host)} (inconsistent records); nothing was deleted`);
          if (!users.includes(user)) env.warn?.(`warning: ${q(user)} was not in the user list of ${q(host)}`);
          return users.filter((u) => u !== user);
        },
        env.rwdKeys
          ? `cannot delete: the oracle refused; the master password is probably wrong`
          : `cannot delete: the oracle refused the authentication or the user list update (not the masterkey that created the record?)`,
      );
      await refusedMeans(`cannot delete: the oracle failed to remove the record for ${q(user)} at ${q(host)}`, () => readOk(c, 'the deletion'));
    } finally {
      c.close();
    }
  } finally {
    wipe(r, rwd);
  }
}

/** READ once: the names, or null when the oracle refuses (no list for this host, or a refused puzzle). */
async function readList(env: FlowEnv, uid: Uint8Array): Promise<string[] | null> {
  const c = await rateLimited(env, msg.buildRequest(Op.READ, uid));
  try {
    try {
      await authenticate(env, c, uid, null, 'no list');
      const sealed = await readBlobReply(c, 'the user list');
      if (!sealed) return [];
      const sk = sealKey(env.masterkey);
      try {
        return userNames(open(sk, sealed));
      } catch (e) {
        badAnswer(e, 'user list');
      } finally {
        wipe(sk);
      }
    } catch (e) {
      if (e instanceof ClientError && e.message === 'no list') return null;
      if (e instanceof Refused) return null;
      throw e;
    }
  } finally {
    c.close();
  }
}

/**
 * READ: the user names stored for a host; [] when there are none (the oracle
 * refuses: the reference reports "no users found" then).
 */
export async function list(env: FlowEnv, host: string): Promise<string[]> {
  return (await readList(env, userListId(env.masterkey, host))) ?? [];
}
