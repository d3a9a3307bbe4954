// A protocol-speaking test client for the oracle hardening tests and the
// oracle benchmark (not a test file itself).
//
// It reuses the real client's transport (client/tls.ts: TLS pinned to the
// oracle's certificate, TCP_NODELAY; client/conn.ts: exact-length reads), but
// speaks the protocol at the message level with arbitrary keys and rule
// blobs: the oracle never sees rwd, so tests can create and change records
// without argon2, with auth keys and rule bytes chosen to identify every
// generation of a record on disk (see Gen / checkRecord below).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Connector, loadPinned } from '../../client/tls.js';
import type { Conn } from '../../client/conn.js';
import { concat, toHex } from '../../shared/bytes.js';
import { CHALLENGE_SIZE, NONCE_SIZE, OK, Op, POINT_SIZE, RULE_SIZE } from '../../shared/constants.js';
import * as msg from '../../shared/messages.js';
import { solve as equihashSolve } from '../../shared/equihash.js';
import { challenge as oprfChallenge, seedKeypair, signDetached, type Keypair } from '../../client/crypto.js';
import { respond } from '../../oracle/crypto.js';

export type Solve = (n: number, k: number, seed: Uint8Array) => Promise<Uint8Array>;

/** The connection broke (closed early, reset, timed out) where the protocol expected bytes. */
export class WireError extends Error {
  override name = 'WireError';
}

/** The oracle answered the 6-byte fail packet. */
export const FAILED = 'fail' as const;
export type Failed = typeof FAILED;

export interface OracleAddress {
  port: number;
  certPath: string;
}

// ------------------------------------------------------------------ replies

/** Exactly n bytes, or FAILED for the fail packet; WireError for anything shorter. */
export async function reply(c: Conn, n: number, what: string): Promise<Uint8Array | Failed> {
  let b: Uint8Array;
  try {
    b = await c.read(n);
  } catch (e) {
    throw new WireError(`${what}: ${(e as Error).message}`);
  }
  if (n < 6 && b.length === n && b[0] === 0x00 && b[1] === 0x04) {
    // maybe the start of the fail packet (an "ok" or a blob length would never start 00 04 here)
    const rest = await c.read(6 - n).catch(() => new Uint8Array(0));
    b = concat(b, rest);
  }
  if (msg.isFail(b)) return FAILED;
  if (b.length !== n) throw new WireError(`${what}: got ${b.length} of ${n} bytes`);
  return b;
}

/** "ok" → true, fail → false; WireError for anything else. */
export async function okReply(c: Conn, what: string): Promise<boolean> {
  const b = await reply(c, OK.length, what);
  if (b === FAILED) return false;
  if (!msg.isOk(b)) throw new WireError(`${what}: expected ok, got ${toHex(b)}`);
  return true;
}

/** u16be len | body; null for 00 00; FAILED for fail. */
export async function blobReply(c: Conn, what: string): Promise<Uint8Array | null | Failed> {
  const head = await reply(c, 2, what);
  if (head === FAILED) return FAILED;
  const len = (head[0]! << 8) | head[1]!;
  if (len === 0) return null;
  const body = await reply(c, len, what);
  if (body === FAILED) throw new WireError(`${what}: fail inside a blob`);
  return concat(head, body);
}

/**
 * After its last reply the oracle closes: true when the peer closes (EOF or a
 * reset) within `ms`, false when it sends more bytes or stays silent.
 * (`ms` must be below the Conn's own read timeout.)
 */
export async function closedByPeer(c: Conn, ms = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise<'silent'>((res) => (timer = setTimeout(() => res('silent'), ms)));
  const read = c.read(1).then(
    (b) => (b.length === 0 ? 'closed' : 'bytes'),
    (e: Error) => (/did not answer within/.test(e.message) ? 'silent' : 'closed'),
  );
  try {
    return (await Promise.race([read, silent])) === 'closed';
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------ record generations

/**
 * One generation of a record as the tests write it: an auth keypair, a
 * unique 79-byte rule blob, the alpha sent with it and (once received) the
 * beta the oracle answered. key ↔ beta: respond(alpha, key) === beta.
 */
export interface Gen {
  tag: string;
  kp: Keypair;
  rules: Uint8Array;
  alpha: Uint8Array;
  beta?: Uint8Array;
}

let genCounter = 0;

export function randomKeypair(): Keypair {
  return seedKeypair(new Uint8Array(randomBytes(32)));
}

/** A fresh valid alpha (a random point in the prime-order group). */
export function randomAlpha(): Uint8Array {
  return oprfChallenge(new Uint8Array(randomBytes(16))).alpha;
}

/** A new generation; `kp` shared when several generations must authenticate with one key. */
export function newGen(kp: Keypair = randomKeypair()): Gen {
  const tag = `g${++genCounter}`;
  const rules = new Uint8Array(RULE_SIZE);
  rules.set(randomBytes(RULE_SIZE));
  rules[0] = 0x00; // VERSION, like a real sealed rule
  return { tag, kp, rules, alpha: randomAlpha() };
}

/** Does the stored key belong to this generation (its beta is k·alpha)? */
export function keyMatches(gen: Gen, key: Uint8Array): boolean {
  if (!gen.beta || key.length !== 32) return false;
  try {
    return Buffer.compare(Buffer.from(respond(gen.alpha, key)), Buffer.from(gen.beta)) === 0;
  } catch {
    return false;
  }
}

/** A host's user list as the tests keep it: its auth key and the sealed blobs sent (u16be len | sealed). */
export interface UserList {
  uid: Uint8Array;
  kp: Keypair;
  /** every blob ever sent for this list (u16be len | sealed bytes), hex */
  sent: Set<string>;
}

export function newUserList(): UserList {
  return { uid: new Uint8Array(randomBytes(32)), kp: randomKeypair(), sent: new Set() };
}

/** A fake sealed list: version byte, random nonce/ciphertext (the oracle never opens it). */
function fakeSealed(len = 64): Uint8Array {
  const b = new Uint8Array(randomBytes(len));
  b[0] = 0x00;
  return b;
}

// ------------------------------------------------------------------ the client

export interface WireOptions {
  solve?: Solve;
  readTimeoutMs?: number;
  /** phase timestamps: 'challenge' (conn 1 answered), 'solved', 'connected' (conn 2 up), 'reply' (GET answered) */
  mark?: (phase: string) => void;
}

export class Wire {
  readonly connector: Connector;
  readonly solve: Solve;

  constructor(
    readonly o: OracleAddress,
    private readonly opts: WireOptions = {},
  ) {
    this.connector = new Connector({
      host: '127.0.0.1',
      port: o.port,
      pinned: loadPinned(o.certPath),
      sslCertPath: o.certPath,
      readTimeoutMs: opts.readTimeoutMs ?? 10000,
    });
    this.solve = opts.solve ?? ((n, k, seed) => equihashSolve(n, k, seed));
  }

  connect = async (): Promise<Conn> => {
    try {
      return await this.connector.connect();
    } catch (e) {
      throw new WireError(`connect: ${(e as Error).message}`);
    }
  };

  /** Connection 1: the 42-byte challenge for req, or FAILED. */
  async challenge(req: Uint8Array): Promise<msg.Challenge | Failed> {
    const c = await this.connect();
    try {
      c.write(msg.challengeCreatePacket(req));
      const b = await reply(c, CHALLENGE_SIZE, 'challenge');
      return b === FAILED ? FAILED : msg.parseChallenge(b);
    } finally {
      c.close();
    }
  }

  /** Connection 1 + solve + connection 2 with the verify packet written; the request continues on the returned Conn. */
  async verified(req: Uint8Array): Promise<Conn> {
    const ch = await this.challenge(req);
    if (ch === FAILED) throw new WireError('the oracle refused a challenge');
    this.opts.mark?.('challenge');
    const solution = await this.solve(ch.n, ch.k, msg.puzzleSeed(ch.bytes, req));
    this.opts.mark?.('solved');
    const c = await this.connect();
    this.opts.mark?.('connected');
    c.write(msg.challengeVerifyPacket(ch.bytes, req, solution));
    return c;
  }

  /** GET: beta | rules, or FAILED. */
  async get(id: Uint8Array, alpha: Uint8Array): Promise<{ beta: Uint8Array; rules: Uint8Array } | Failed> {
    const c = await this.verified(msg.buildRequest(Op.GET, id, alpha));
    try {
      const b = await reply(c, msg.GET_REPLY_SIZE, 'GET reply');
      this.opts.mark?.('reply');
      return b === FAILED ? FAILED : msg.parseGetReply(b);
    } finally {
      c.close();
    }
  }

  /** CREATE with `gen` (gen.beta is set as soon as the oracle sends it) and a user-list update. */
  async create(id: Uint8Array, gen: Gen, list: UserList): Promise<boolean> {
    const c = await this.connect();
    try {
      c.write(msg.createRequest(id, gen.alpha));
      const beta = await reply(c, POINT_SIZE, 'CREATE beta');
      if (beta === FAILED) return false;
      gen.beta = beta;
      c.write(msg.createStep2(gen.kp.publicKey, gen.rules, (m) => signDetached(gen.kp.privateKey, m)));
      if (!(await this.updateList(c, list))) return false;
      return await okReply(c, 'CREATE ok');
    } finally {
      c.close();
    }
  }

  /** CREATE step 3 / DELETE: uid | sig, then a new or updated list (new random sealed bytes). */
  private async updateList(c: Conn, list: UserList): Promise<boolean> {
    const sign = (m: Uint8Array): Uint8Array => signDetached(list.kp.privateKey, m);
    c.write(msg.userListRequest(list.uid, sign));
    const cur = await blobReply(c, 'user list');
    if (cur === FAILED) return false;
    const sealed = fakeSealed(48 + Math.floor(Math.random() * 32));
    list.sent.add(toHex(msg.encodeBlob(sealed)));
    c.write(cur === null ? msg.newUserList(list.kp.publicKey, sealed, sign) : msg.updatedUserList(sealed, sign));
    return true;
  }

  /** The auth step on a verified connection: false when the oracle refused. */
  private async auth(c: Conn, withBeta: boolean, kp: Keypair): Promise<boolean> {
    const b = await reply(c, (withBeta ? POINT_SIZE : 0) + NONCE_SIZE, 'auth challenge');
    if (b === FAILED) return false;
    const nonce = b.slice(withBeta ? POINT_SIZE : 0);
    c.write(signDetached(kp.privateKey, nonce));
    return true;
  }

  /** CHANGE authenticated by `authKp`, storing `gen` as pending (gen.beta set once received). */
  async change(id: Uint8Array, alpha: Uint8Array, authKp: Keypair, gen: Gen): Promise<boolean> {
    const c = await this.verified(msg.buildRequest(Op.CHANGE, id, alpha));
    try {
      if (!(await this.auth(c, true, authKp))) return false;
      c.write(gen.alpha);
      const beta = await reply(c, POINT_SIZE, 'CHANGE beta');
      if (beta === FAILED) return false;
      gen.beta = beta;
      c.write(msg.createStep2(gen.kp.publicKey, gen.rules, (m) => signDetached(gen.kp.privateKey, m)));
      return await okReply(c, 'CHANGE ok');
    } finally {
      c.close();
    }
  }

  private async simple(op: number, id: Uint8Array, authKp: Keypair): Promise<boolean> {
    const c = await this.verified(msg.buildRequest(op, id, randomAlpha()));
    try {
      if (!(await this.auth(c, true, authKp))) return false;
      return await okReply(c, 'ok');
    } finally {
      c.close();
    }
  }

  commit(id: Uint8Array, authKp: Keypair): Promise<boolean> {
    return this.simple(Op.COMMIT, id, authKp);
  }

  undo(id: Uint8Array, authKp: Keypair): Promise<boolean> {
    return this.simple(Op.UNDO, id, authKp);
  }

  /** DELETE: auth, then the user list without the user (new random sealed bytes). */
  async del(id: Uint8Array, authKp: Keypair, list: UserList): Promise<boolean> {
    const c = await this.verified(msg.buildRequest(Op.DELETE, id, randomAlpha()));
    try {
      if (!(await this.auth(c, true, authKp))) return false;
      if (!(await this.updateList(c, list))) return false;
      return await okReply(c, 'DELETE ok');
    } finally {
      c.close();
    }
  }

  /** READ: the stored blob (u16be len | sealed), null for none, FAILED. */
  async read(list: UserList): Promise<Uint8Array | null | Failed> {
    const c = await this.verified(msg.buildRequest(Op.READ, list.uid));
    try {
      if (!(await this.auth(c, false, list.kp))) return FAILED;
      return await blobReply(c, 'READ reply');
    } finally {
      c.close();
    }
  }
}

// ------------------------------------------------------------------ the datadir

export const isRecordDirName = (name: string): boolean => /^[0-9a-f]{64}$/.test(name);

/** The files of one record directory (name → bytes), null when the directory does not exist. */
export function readRecord(datadir: string, id: Uint8Array | string): Map<string, Buffer> | null {
  const dir = join(datadir, typeof id === 'string' ? id : toHex(id));
  if (!existsSync(dir)) return null;
  const out = new Map<string, Buffer>();
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isFile()) out.set(f, readFileSync(p));
  }
  return out;
}

/** Record-directory names (64 hex digits) in the datadir. */
export function recordDirs(datadir: string): string[] {
  return readdirSync(datadir).filter(isRecordDirName);
}

/** The reference's file names (protocol.md §5). */
export const RECORD_FILES = new Set(['key', 'pub', 'rules', 'new', 'pub.new', 'rules.new', 'old', 'pub.old', 'rules.old', 'difficulty', 'blob']);

const SLOTS = [
  { name: 'cur', key: 'key', pub: 'pub', rules: 'rules' },
  { name: 'new', key: 'new', pub: 'pub.new', rules: 'rules.new' },
  { name: 'old', key: 'old', pub: 'pub.old', rules: 'rules.old' },
] as const;
export type Slot = (typeof SLOTS)[number]['name'];
export type RecordState = Record<Slot, Gen | null>;

/**
 * Identifies each slot (current, pending, previous) of a password record on
 * disk with one of the known generations and checks the slot is whole and
 * consistent: its three files all present or all absent, right sizes, and
 * key, pub and rules all of the same generation (rules identify it, pub is
 * its auth key, key answers its alpha with its beta). Returns the state or
 * a list of problems.
 */
export function checkRecord(files: Map<string, Buffer>, gens: Iterable<Gen>): { state: RecordState; problems: string[] } {
  const problems: string[] = [];
  const byRules = new Map<string, Gen>();
  for (const g of gens) byRules.set(toHex(g.rules), g);
  const state: RecordState = { cur: null, new: null, old: null };
  for (const s of SLOTS) {
    const k = files.get(s.key);
    const p = files.get(s.pub);
    const r = files.get(s.rules);
    const present = [k, p, r].filter((x) => x !== undefined).length;
    if (present === 0) continue;
    if (present !== 3) {
      problems.push(`${s.name}: partial (${[s.key, s.pub, s.rules].filter((f) => files.has(f)).join(', ')} of key/pub/rules)`);
      continue;
    }
    if (k!.length !== 32 || p!.length !== 32 || r!.length !== RULE_SIZE) {
      problems.push(`${s.name}: sizes key ${k!.length} pub ${p!.length} rules ${r!.length}`);
      continue;
    }
    const g = byRules.get(r!.toString('hex'));
    if (!g) {
      problems.push(`${s.name}: rules of no known generation`);
      continue;
    }
    if (Buffer.compare(p!, Buffer.from(g.kp.publicKey)) !== 0) problems.push(`${s.name}: pub is not the auth key of ${g.tag} (mixed generations)`);
    if (!keyMatches(g, k!)) problems.push(`${s.name}: key does not answer ${g.tag}'s alpha with its beta (mixed generations)`);
    state[s.name] = g;
  }
  if (files.has('difficulty') && files.get('difficulty')!.length !== 9) problems.push(`difficulty: ${files.get('difficulty')!.length} bytes`);
  if (state.cur === null && (state.new || state.old)) problems.push('pending or previous generation without a current one');
  return { state, problems };
}

export const stateName = (s: RecordState | null): string =>
  s === null ? 'absent' : `cur=${s.cur?.tag ?? '-'} new=${s.new?.tag ?? '-'} old=${s.old?.tag ?? '-'}`;

export function sameState(a: RecordState | null, b: RecordState | null): boolean {
  return stateName(a) === stateName(b);
}

/** A record created directly on disk in the reference layout (for benches and tests that need many). */
export function recordFiles(gen: Gen, key: Uint8Array): Record<string, Uint8Array> {
  return { key, pub: gen.kp.publicKey, rules: gen.rules };
}
