// The oracle's side of the SPHINX v1 protocol (protocol.md §4, §5), free of
// sockets, files and clocks: one connection is `serve(peer, ctx)`, where
// `peer` reads exact byte counts / writes replies and `ctx` brings storage,
// the MAC key, the clock and randomness. The server shell (server.ts) owns
// TLS, timeouts and closing.
//
// Every failure the peer can cause ends the exchange with the 6-byte fail
// packet (ProtocolError → FAIL); an unknown op code just closes (reference
// behaviour); a peer that goes away gets nothing.
import { randomBytes } from 'node:crypto';
import { toHex, wipe } from '../shared/bytes.js';
import {
  CHALLENGE_SIZE,
  DIFFICULTIES,
  FAIL,
  MAC_SIZE,
  ID_SIZE,
  NONCE_SIZE,
  OK,
  OP_NAMES,
  Op,
  POINT_SIZE,
  RATE_LIMITED_OPS,
  SIG_SIZE,
} from '../shared/constants.js';
import * as equihash from '../shared/equihash.js';
import { ProtocolError, isNoSpace } from '../shared/errors.js';
import {
  BLOB_PREFIX_SIZE,
  KEY_RULE_SIZE,
  NEW_USER_LIST_HEAD_SIZE,
  NO_USER_LIST,
  USER_LIST_REQUEST_SIZE,
  VERIFY_PREFIX_SIZE,
  authChallenge,
  blobBodySize,
  getReply,
  parseCreateStep2,
  parseNewUserList,
  parseRequest,
  parseUpdatedUserList,
  parseUserListRequest,
  puzzleSeed,
  requestSize,
  type Request,
} from '../shared/messages.js';
import { respond, verifyDetached } from './crypto.js';
import { ReplayCache, decodeDifficulty, encodeDifficulty, nextDifficulty, type DifficultyConfig } from '../shared/ratelimit.js';
import { checkChallenge, makeChallenge } from './challenge.js';
import type { Storage } from './storage.js';

/** The peer closed (or the connection died) before sending what we needed. */
export class PeerGone extends Error {
  override name = 'PeerGone';
}

/** The byte stream of one connection, as the protocol logic sees it. */
export interface Peer {
  /** Exactly n bytes; rejects with PeerGone if the peer closes first. */
  read(n: number): Promise<Uint8Array>;
  /** Bytes received but not read yet. */
  readonly pending: number;
  write(data: Uint8Array): void;
  /** Where the connection comes from (the CREATE limit's key); absent in tests without sockets. */
  readonly source?: string;
}

export interface OracleContext {
  store: Storage;
  /** Key of the challenge MACs (the server derives one per life of the used-challenge set). */
  macKey: Uint8Array;
  /** Unix time in seconds (may be fractional). */
  now: () => number;
  rl: DifficultyConfig & { rl_gracetime: number };
  replay: ReplayCache;
  /**
   * Challenges issued and not yet expired. A request without alpha (READ:
   * op | uid) asked twice in the same second at the same level would get the
   * same challenge, and the second client's (identical) answer would look
   * like a replay; with this, a repeated challenge gets the next second as
   * its timestamp instead, so every challenge issued is unique.
   */
  issued?: ReplayCache;
  /**
   * Asked before each CREATE with the peer's source: null admits it, a string
   * (the reason, for the log) refuses it. Rate limiting and the free-space
   * reserve live in the server shell.
   */
  admitCreate?: (source: string | undefined) => string | null;
  random?: (n: number) => Uint8Array;
}

/** What happened on a connection, for the log (never a secret). */
export interface Outcome {
  /** e.g. "GET", "CHALLENGE(GET)", "CREATE", "0x12" */
  op: string;
  ok: boolean;
  /** short reason for a failure, or "closed" / "unknown op" */
  detail?: string;
  /** record id (log its prefix only) */
  id?: Uint8Array;
}

/** Internal: a failure to answer with FAIL; `reason` is for the log. */
class Fail extends Error {
  override name = 'Fail';
}

/**
 * At most this many seconds of timestamp shift to make a challenge unique
 * (then it is issued anyway). The shift goes back in time, so a repeated
 * challenge only ever lives shorter than the first, never longer.
 */
const MAX_TS_BUMP = 64;

const opName = (op: number): string => OP_NAMES[op] ?? `0x${op.toString(16).padStart(2, '0')}`;
const rnd = (ctx: OracleContext, n: number): Uint8Array => (ctx.random ? ctx.random(n) : new Uint8Array(randomBytes(n)));

/**
 * Send a reply. The client must wait for each reply before it sends more, so
 * unread bytes at this point mean it sent more than the message: fail.
 */
function reply(peer: Peer, data: Uint8Array): void {
  if (peer.pending > 0) throw new Fail('peer sent more than the message');
  peer.write(data);
}

/**
 * Before a mutation: the whole message was read and nothing more came (see
 * reply). Checked before storing so that the answer after storing is always
 * ok, never a fail for a change that was made.
 */
function expectEnd(peer: Peer): void {
  if (peer.pending > 0) throw new Fail('peer sent more than the message');
}

/** Serve one connection. Never throws for anything the peer does; I/O errors of storage propagate. */
export async function serve(peer: Peer, ctx: OracleContext): Promise<Outcome> {
  const out: Outcome = { op: '?', ok: false };
  try {
    const op = (await peer.read(1))[0]!;
    out.op = opName(op);
    switch (op) {
      case Op.CREATE:
        await create(peer, ctx, out);
        break;
      case Op.CHALLENGE_CREATE:
        await challengeCreate(peer, ctx, out);
        break;
      case Op.CHALLENGE_VERIFY:
        await challengeVerify(peer, ctx, out);
        break;
      default:
        if (RATE_LIMITED_OPS.has(op)) throw new Fail('rate-limited op without a puzzle');
        out.detail = 'unknown op';
        return out; // the reference just closes
    }
    out.ok = true;
    return out;
  } catch (e) {
    if (e instanceof PeerGone) {
      out.detail = 'peer closed';
      return out;
    }
    if (e instanceof Fail || e instanceof ProtocolError) {
      out.detail = e.message;
      try {
        peer.write(FAIL);
      } catch {
        /* connection already gone */
      }
      return out;
    }
    // Storage or programming error: the peer still gets a clean fail.
    try {
      peer.write(FAIL);
    } catch {
      /* ignore */
    }
    throw e;
  }
}

// ---------------------------------------------------------------- puzzle

/** The rest of a rate-limited request whose op byte was read: `op | id [| alpha]`. */
async function readRateLimitedRequest(peer: Peer, op: number, out: Outcome): Promise<{ req: Uint8Array; request: Request }> {
  if (!RATE_LIMITED_OPS.has(op)) throw new Fail('not a rate-limited op');
  const rest = await peer.read(requestSize(op) - 1);
  const req = new Uint8Array(1 + rest.length);
  req[0] = op;
  req.set(rest, 1);
  const request = parseRequest(req);
  out.id = request.id;
  return { req, request };
}

async function challengeCreate(peer: Peer, ctx: OracleContext, out: Outcome): Promise<void> {
  const op = (await peer.read(1))[0]!;
  out.op = `CHALLENGE(${opName(op)})`;
  const { req, request } = await readRateLimitedRequest(peer, op, out);
  const now = ctx.now();
  const stored = await ctx.store.updateDifficulty(toHex(request.id), (prev) =>
    encodeDifficulty(nextDifficulty(prev ? decodeDifficulty(prev) : null, now, ctx.rl)),
  );
  const level = stored ? decodeDifficulty(stored)!.level : 0;
  const ts = Math.floor(now);
  let challenge = makeChallenge(ctx.macKey, req, level, ts);
  if (ctx.issued) {
    const window = DIFFICULTIES[level]!.timeout + ctx.rl.rl_gracetime;
    // Back in time, but never so far that the challenge is born expired.
    const maxBump = Math.min(MAX_TS_BUMP, Math.floor(window) - 1);
    for (let bump = 0; bump <= Math.max(0, maxBump); bump++) {
      if (bump > 0) challenge = makeChallenge(ctx.macKey, req, level, ts - bump);
      const mac = challenge.subarray(CHALLENGE_SIZE - MAC_SIZE);
      if (ctx.issued.checkAndRemember(mac, ts - bump + window, now)) break;
    }
  }
  reply(peer, challenge);
  out.detail = `level ${level}`;
}

async function challengeVerify(peer: Peer, ctx: OracleContext, out: Outcome): Promise<void> {
  const head = await peer.read(VERIFY_PREFIX_SIZE); // challenge(42) | op
  const challenge = head.subarray(0, CHALLENGE_SIZE);
  const op = head[CHALLENGE_SIZE]!;
  out.op = opName(op);
  const { req, request } = await readRateLimitedRequest(peer, op, out);
  const now = ctx.now();
  const check = checkChallenge(ctx.macKey, challenge, req, now, ctx.rl.rl_gracetime);
  if (!check.ok) throw new Fail(check.reason);
  const solution = await peer.read(equihash.solsize(check.n, check.k));
  if (!equihash.verify(check.n, check.k, puzzleSeed(challenge, req), solution)) throw new Fail('bad puzzle solution');
  const mac = challenge.subarray(CHALLENGE_SIZE - MAC_SIZE);
  // A full cache forgets the entry expiring soonest (see ReplayCache): it
  // never refuses an honest request. Replaying a forgotten challenge only
  // repeats that same request (same id and alpha, and CHANGE, COMMIT, UNDO,
  // DELETE and READ still need the record's signature on a fresh nonce).
  if (!ctx.replay.checkAndRemember(mac, check.expiresAt, now)) throw new Fail('replayed challenge');
  switch (op) {
    case Op.GET:
      return get(peer, ctx, request);
    case Op.CHANGE:
      return change(peer, ctx, request);
    case Op.COMMIT:
      return commitOrUndo(peer, ctx, request, 'commit');
    case Op.UNDO:
      return commitOrUndo(peer, ctx, request, 'undo');
    case Op.DELETE:
      return del(peer, ctx, request);
    case Op.READ:
      return read(peer, ctx, request);
  }
  throw new Fail('not a rate-limited op');
}

// ---------------------------------------------------------------- operations

async function get(peer: Peer, ctx: OracleContext, request: Request): Promise<void> {
  const rec = await ctx.store.read(toHex(request.id), ['key', 'rules']);
  if (!rec || !rec['key'] || !rec['rules']) throw new Fail('no such record');
  try {
    reply(peer, getReply(respond(request.alpha!, rec['key']), rec['rules']));
  } finally {
    wipe(rec['key']);
  }
}

/**
 * The auth step (§5): fail without `pub`; send beta | nonce (record with a
 * key) or nonce (user-list record); the peer must sign the nonce. Returns the
 * files it read so the caller can compare-and-set against them.
 */
async function auth(peer: Peer, ctx: OracleContext, request: Request, names: readonly string[]): Promise<Record<string, Uint8Array>> {
  const rec = await ctx.store.read(toHex(request.id), ['key', 'pub', ...names]);
  if (!rec || !rec['pub']) throw new Fail('no such record');
  if (rec['pub'].length !== 32) throw new Fail('stored public key damaged');
  let beta: Uint8Array | null = null;
  try {
    const nonce = rnd(ctx, NONCE_SIZE);
    if (rec['key']) {
      if (!request.alpha) throw new Fail('record has a key but the request no alpha');
      beta = respond(request.alpha, rec['key']);
    }
    reply(peer, authChallenge(nonce, beta));
    const sig = await peer.read(SIG_SIZE);
    if (!verifyDetached(rec['pub'], nonce, sig)) throw new Fail('bad auth signature');
    return rec;
  } catch (e) {
    // The caller's cleanup starts only once auth returns: wipe the keys read here.
    for (const name of ['key', 'new', 'old']) if (rec[name]) wipe(rec[name]);
    throw e;
  } finally {
    if (beta) wipe(beta);
  }
}

async function change(peer: Peer, ctx: OracleContext, request: Request): Promise<void> {
  const rec = await auth(peer, ctx, request, []);
  const alpha2 = await peer.read(POINT_SIZE);
  const k2 = rnd(ctx, 32);
  try {
    reply(peer, respond(alpha2, k2));
    const step2 = parseCreateStep2(await peer.read(KEY_RULE_SIZE));
    if (!verifyDetached(step2.pk, step2.signed, step2.sig)) throw new Fail('bad signature on new key and rule');
    // Only the authorization must still hold (same pub): the pending
    // generation does not depend on the current key, so a COMMIT or UNDO in
    // between does not invalidate this CHANGE.
    expectEnd(peer);
    const ok = await ctx.store.commit(toHex(request.id), {
      exists: true,
      expect: { pub: rec['pub']! },
      set: { new: k2, 'pub.new': step2.pk, 'rules.new': step2.rule },
    });
    if (!ok) throw new Fail('record changed meanwhile');
    peer.write(OK); // after storing: always ok (expectEnd ran before)
  } finally {
    wipe(k2, rec['key']);
  }
}

const SLOTS = ['key', 'rules', 'pub'] as const;

async function commitOrUndo(peer: Peer, ctx: OracleContext, request: Request, which: 'commit' | 'undo'): Promise<void> {
  // commit: pending (new) -> current, current -> old; undo: old -> current, current -> new
  const [from, to] = which === 'commit' ? ['new', 'old'] : ['old', 'new'];
  const name = (slot: string, suffix: string): string => (slot === 'key' ? suffix : `${slot}.${suffix}`);
  const fromNames = SLOTS.map((s) => name(s, from));
  const rec = await auth(peer, ctx, request, ['rules', ...fromNames]);
  try {
    for (const n of [...SLOTS, ...fromNames]) if (!rec[n]) throw new Fail(`nothing to ${which}`);
    const set: Record<string, Uint8Array | null> = {};
    const expect: Record<string, Uint8Array | null> = {};
    for (const s of SLOTS) {
      set[s] = rec[name(s, from)]!;
      set[name(s, to)] = rec[s]!;
      set[name(s, from)] = null;
      expect[s] = rec[s]!;
      expect[name(s, from)] = rec[name(s, from)]!;
    }
    expectEnd(peer);
    if (!(await ctx.store.commit(toHex(request.id), { exists: true, expect, set }))) throw new Fail('record changed meanwhile');
    peer.write(OK); // after storing: always ok (expectEnd ran before)
  } finally {
    wipe(rec['key'], rec['new'], rec['old']);
  }
}

async function read(peer: Peer, ctx: OracleContext, request: Request): Promise<void> {
  const rec = await auth(peer, ctx, request, ['blob']);
  if (!rec['blob']) throw new Fail('no user list');
  reply(peer, rec['blob']);
}

/**
 * CREATE step 3 / DELETE: the user-list exchange. Returns a function that
 * stores the updated list (compare-and-set), to be called once everything
 * else has been checked.
 */
async function userListExchange(peer: Peer, ctx: OracleContext, mustExist: boolean): Promise<{ uid: Uint8Array; store: () => Promise<boolean> }> {
  const { uid, signed, sig } = parseUserListRequest(await peer.read(USER_LIST_REQUEST_SIZE));
  const uhex = toHex(uid);
  const list = await ctx.store.read(uhex, ['pub', 'blob']);
  if (!list || !list['pub']) {
    if (mustExist) throw new Fail('no user list');
    reply(peer, NO_USER_LIST);
    const head = await peer.read(NEW_USER_LIST_HEAD_SIZE);
    const len = blobBodySize(head.subarray(ID_SIZE));
    const body = await peer.read(len + SIG_SIZE);
    const msg = parseNewUserList(concat2(head, body));
    if (!verifyDetached(msg.pk, msg.signed, msg.sig)) throw new Fail('bad signature on new user list');
    return {
      uid,
      store: () => ctx.store.commit(uhex, { expect: { pub: null, blob: list?.['blob'] ?? null }, set: { pub: msg.pk, blob: msg.blob } }),
    };
  }
  const pub = list['pub'];
  if (!verifyDetached(pub, signed, sig)) throw new Fail('bad signature on user-list id');
  if (!list['blob']) throw new Fail('user list record has no blob');
  reply(peer, list['blob']);
  const head = await peer.read(BLOB_PREFIX_SIZE);
  const body = await peer.read(blobBodySize(head) + SIG_SIZE);
  const msg = parseUpdatedUserList(concat2(head, body));
  if (!verifyDetached(pub, msg.signed, msg.sig)) throw new Fail('bad signature on user list');
  return {
    uid,
    store: () => ctx.store.commit(uhex, { exists: true, expect: { pub, blob: list['blob']! }, set: { blob: msg.blob } }),
  };
}

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

async function create(peer: Peer, ctx: OracleContext, out: Outcome): Promise<void> {
  const rest = await peer.read(ID_SIZE + POINT_SIZE);
  const id = rest.slice(0, ID_SIZE);
  const alpha = rest.slice(ID_SIZE);
  out.id = id;
  const refused = ctx.admitCreate?.(peer.source) ?? null;
  if (refused) throw new Fail(refused);
  const hex = toHex(id);
  if ((await ctx.store.read(hex, [])) !== null) throw new Fail('record exists');
  const k = rnd(ctx, 32);
  try {
    reply(peer, respond(alpha, k));
    const step2 = parseCreateStep2(await peer.read(KEY_RULE_SIZE));
    if (!verifyDetached(step2.pk, step2.signed, step2.sig)) throw new Fail('bad signature on key and rule');
    const list = await userListExchange(peer, ctx, false);
    if (list.uid.length === id.length && toHex(list.uid) === hex) throw new Fail('user-list id equals the record id');
    // The reference's order: the user list first, then the record.
    if ((await ctx.store.read(hex, [])) !== null) throw new Fail('record exists');
    expectEnd(peer);
    if (!(await list.store())) throw new Fail('user list changed meanwhile');
    if (!(await ctx.store.commit(hex, { exists: false, set: { key: k, pub: step2.pk, rules: step2.rule } }))) {
      throw new Fail('record exists');
    }
    peer.write(OK); // after storing: always ok (expectEnd ran before)
  } finally {
    wipe(k);
  }
}

async function del(peer: Peer, ctx: OracleContext, request: Request): Promise<void> {
  const rec = await auth(peer, ctx, request, []);
  try {
    const list = await userListExchange(peer, ctx, true);
    expectEnd(peer);
    const hex = toHex(request.id);
    let listStored: boolean;
    try {
      listStored = await list.store();
    } catch (e) {
      if (!isNoSpace(e)) throw e;
      // A full disk: the new list needs a block the record's removal frees.
      // Remove the record first (a list naming a user without a record is
      // what a crash between the two writes leaves too; `list` says so).
      if (!(await ctx.store.remove(hex, { pub: rec['pub']! }))) throw new Fail('record changed meanwhile');
      if (!(await list.store())) throw new Fail('record deleted; its user list changed meanwhile');
      peer.write(OK);
      return;
    }
    if (!listStored) throw new Fail('user list changed meanwhile');
    if (!(await ctx.store.remove(hex, { pub: rec['pub']! }))) {
      throw new Fail('record changed meanwhile');
    }
    peer.write(OK); // after storing: always ok (expectEnd ran before)
  } finally {
    wipe(rec['key']);
  }
}
