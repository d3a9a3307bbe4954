// Protocol conformance: transcripts.json replayed through our codecs and crypto.
//
// transcripts.json records every send()/recv() of the real pwdsphinx 1.0.16
// client talking to the real oracle (TLS removed), step by step, plus the
// oracle's data directory after each step. For each step this test
// - parses every message with shared/messages.ts (client and oracle view),
// - recomputes from setup.masterkey and client_r what the client sent: record
//   and user-list ids, alphas, auth public keys and deterministic Ed25519
//   signatures, sealed rules and user lists (re-sealed with their nonce),
//   rwd, check digit and the final password,
// - recomputes what the oracle sent and stored: the challenge (MAC and
//   difficulty level from the difficulty file via shared/ratelimit.ts), beta
//   from the stored key, and the exact set of changed/removed files.
// The steps share state (the data directory model), so they run in order.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadVectors, hex, toHex } from './helpers/vectors.js';
import { concat, utf8, xor } from '../shared/bytes.js';
import { Op, RATE_LIMIT_DEFAULTS } from '../shared/constants.js';
import * as M from '../shared/messages.js';
import { decodeDifficulty, encodeDifficulty, nextDifficulty } from '../shared/ratelimit.js';
import { checkChallenge, makeChallenge } from '../oracle/challenge.js';
import { derive, targetAlphabet } from '../shared/password.js';
import { encodeUsers, userNames } from '../shared/userlist.js';
import { authKeypair, checkDigit, open, packRule, passHash, recordId, seal, sealKey, unpackRule, userListId, challengeWith, finish, signDetached } from '../client/crypto.js';
import { respond, verifyDetached } from '../oracle/crypto.js';

const T = loadVectors('transcripts');
const mk = hex(T.setup.masterkey);
const macKey = hex(T.setup.server_mac_key);
const now: number = T.setup.fixed_time;
const rwdKeys: boolean = T.setup.rwd_keys;
const validate: boolean = T.setup.validate_password;
const sk = sealKey(mk);
const NO_RWD = new Uint8Array(0);
const solsize = (n: number, k: number): number => 4 + ((1 << k) * (Math.floor(n / (k + 1)) + 1)) / 8;

// ------------------------------------------------------------ transcript plumbing

type Msg = { dir: 'c2s' | 's2c'; hex: string };

/** One connection's byte streams, read the way each side reads a TCP stream. */
class Conv {
  private readonly q: Array<{ dir: string; b: Uint8Array }>;
  constructor(msgs: Msg[]) {
    this.q = msgs.map((m) => ({ dir: m.dir, b: hex(m.hex) }));
    assert.ok(this.q.every((m) => m.b.length > 0), 'no EOF markers expected in these transcripts');
  }
  /** Exactly n bytes the client sent next (they may span several writes). */
  c2s(n: number): Uint8Array {
    const parts: Uint8Array[] = [];
    let need = n;
    while (need > 0) {
      const head = this.q[0];
      assert.ok(head && head.dir === 'c2s', `expected ${need} more client bytes`);
      const take = Math.min(need, head!.b.length);
      parts.push(head!.b.subarray(0, take));
      head!.b = head!.b.subarray(take);
      if (head!.b.length === 0) this.q.shift();
      need -= take;
    }
    return concat(...parts);
  }
  /** Everything the oracle sent before the client's next write (or the end). */
  s2c(): Uint8Array {
    const parts: Uint8Array[] = [];
    while (this.q.length > 0 && this.q[0]!.dir === 's2c') parts.push(this.q.shift()!.b);
    assert.ok(parts.length > 0, 'expected an oracle reply');
    return concat(...parts);
  }
  end(): void {
    assert.is(this.q.length, 0, 'unread messages left in the connection');
  }
}

/** Python literal arguments of the recorded call, e.g. create(b'asdf', 'user1', 'example.com', 'uld', '...', 0). */
function parseCall(call: string): { fn: string; args: Array<string | number> } {
  const m = /^(\w+)\((.*)\)$/s.exec(call);
  assert.ok(m, call);
  const args: Array<string | number> = [];
  const src = m![2]!;
  let i = 0;
  while (i < src.length) {
    if (src[i] === ' ' || src[i] === ',') {
      i++;
      continue;
    }
    if (/[0-9]/.test(src[i]!)) {
      const num = /^[0-9]+/.exec(src.slice(i))![0];
      args.push(Number(num));
      i += num.length;
      continue;
    }
    if (src[i] === 'b') i++; // bytes literal: the tests only use ASCII passwords
    const quote = src[i];
    assert.ok(quote === "'" || quote === '"', `cannot parse ${call}`);
    let s = '';
    for (i++; src[i] !== quote; i++) {
      if (src[i] === '\\') {
        const e = src[++i]!;
        if (e === 'x') {
          s += String.fromCharCode(parseInt(src.slice(i + 1, i + 3), 16));
          i += 2;
        } else s += ({ n: '\n', t: '\t' } as Record<string, string>)[e] ?? e;
      } else s += src[i];
    }
    i++;
    args.push(s);
  }
  return { fn: m![1]!, args };
}

// ------------------------------------------------------------ oracle data directory model

type Expect = string | ((actualHex: string) => void);
/** The oracle's datadir (path → hex) as the transcripts leave it after each step. */
const model = new Map<string, string>();

class Step {
  readonly next = new Map<string, Expect>(model);
  private rIndex = 0;
  readonly args: Array<string | number>;
  readonly fn: string;
  constructor(readonly s: any) {
    ({ fn: this.fn, args: this.args } = parseCall(s.call));
  }
  /** The client's next blinding scalar. */
  r(): Uint8Array {
    assert.ok(this.rIndex < this.s.client_r.length, 'more blinding scalars used than recorded');
    return hex(this.s.client_r[this.rIndex++]);
  }
  dirExists(hid: string): boolean {
    return [...model.keys()].some((p) => p.startsWith(`${hid}/`));
  }
  stored(hid: string, file: string): Uint8Array | null {
    const v = model.get(`${hid}/${file}`);
    return v === undefined ? null : hex(v);
  }
  /** Compare the expected datadir with the recorded changes. */
  check(): void {
    assert.is(this.rIndex, this.s.client_r.length, 'every recorded blinding scalar used');
    const changed: Record<string, string> = this.s.datadir_changed;
    const expectedChanged: string[] = [];
    for (const [path, v] of this.next) {
      if (typeof v === 'function') {
        assert.ok(path in changed, `${path} written`);
        v(changed[path]!);
        expectedChanged.push(path);
      } else if (model.get(path) !== v) {
        assert.is(changed[path], v, path);
        expectedChanged.push(path);
      }
    }
    assert.equal(Object.keys(changed).sort(), expectedChanged.sort(), 'changed files');
    const removed = [...model.keys()].filter((p) => !this.next.has(p)).sort();
    assert.equal([...this.s.datadir_removed].sort(), removed, 'removed files');
  }
  /** Adopt the recorded datadir (also after a failure, so one bad step does not fail the next ones). */
  adopt(): void {
    for (const p of this.s.datadir_removed) model.delete(p);
    for (const [p, v] of Object.entries(this.s.datadir_changed as Record<string, string>)) model.set(p, v);
  }
}

// ------------------------------------------------------------ protocol pieces

/**
 * Connection 1 (0x5a | req → challenge) and the start of connection 2
 * (0xa5 | challenge | req | solution). Checks the oracle's challenge against
 * makeChallenge at the level the difficulty file gives. Returns connection 2.
 */
function puzzle(st: Step, req: Uint8Array): Conv {
  assert.is(st.s.connections.length, 2, 'rate-limited: two connections');
  const c1 = new Conv(st.s.connections[0]);
  const p = M.parseChallengeCreatePacket(c1.c2s(1 + req.length));
  assert.equal(p.req, req, 'CHALLENGE_CREATE carries the request');
  const challenge = M.parseChallenge(c1.s2c());
  c1.end();

  // Oracle: difficulty state only for records that exist (difficulty_no_record_dir).
  const hid = toHex(p.request.id);
  let level = 0;
  if (st.dirExists(hid)) {
    const prev = st.stored(hid, 'difficulty');
    const state = nextDifficulty(prev === null ? null : decodeDifficulty(prev), now, RATE_LIMIT_DEFAULTS);
    level = state.level;
    st.next.set(`${hid}/difficulty`, toHex(encodeDifficulty(state)));
  }
  assert.equal(challenge.bytes, makeChallenge(macKey, req, level, now), 'challenge = n | k | ts | MAC');
  const verdict = checkChallenge(macKey, challenge.bytes, req, now, RATE_LIMIT_DEFAULTS.rl_gracetime);
  assert.ok(verdict.ok);

  const c2 = new Conv(st.s.connections[1]);
  const header = M.parseVerifyHeader(c2.c2s(M.verifyHeaderSize(req[0]!)));
  assert.equal(header.challenge, challenge.bytes, 'challenge echoed');
  assert.equal(header.req, req, 'request repeated');
  const solution = c2.c2s(solsize(challenge.n, challenge.k));
  const whole = M.parseVerifyPacket(M.challengeVerifyPacket(challenge.bytes, req, solution), solsize);
  assert.equal(whole.solution, solution);
  return c2;
}

/** auth: oracle sends [beta |] nonce, client answers sig(nonce) with the record's auth key. */
function auth(st: Step, conv: Conv, id: Uint8Array, alpha: Uint8Array | null): Uint8Array | null {
  const hid = toHex(id);
  const a = M.parseAuthChallenge(conv.s2c(), alpha !== null);
  const key = st.stored(hid, 'key');
  assert.is(key !== null, alpha !== null, 'beta sent iff the record has a key');
  if (alpha !== null) assert.equal(a.beta, respond(alpha, key!), 'auth beta = k * alpha');
  const sig = M.parseAuthResponse(conv.c2s(64));
  const kp = authKeypair(mk, id, NO_RWD, rwdKeys);
  assert.equal(sig, signDetached(kp.privateKey, a.nonce), 'sig(nonce), deterministic Ed25519');
  assert.ok(verifyDetached(st.stored(hid, 'pub')!, a.nonce, sig), 'verifies with the stored pub');
  return a.beta;
}

/** A sealed user list: opens to `names`, and re-sealing with its nonce gives the same bytes. */
function checkSealedList(sealed: Uint8Array, names: string[]): void {
  const pt = open(sk, sealed);
  assert.equal(userNames(pt), names);
  assert.equal(pt, encodeUsers(names), 'plaintext = sorted names joined by NUL');
  assert.equal(seal(sk, pt, sealed.subarray(1, 25)), sealed, 'VERSION | nonce | XChaCha20-Poly1305');
}

/** CREATE step 3 / DELETE: uid | sig(uid); oracle: 00 00 or blob; client: new or updated list. */
function userListUpdate(st: Step, conv: Conv, host: string, change: (names: string[]) => string[]): void {
  const uid = userListId(mk, host);
  const hid = toHex(uid);
  const ukp = authKeypair(mk, uid, NO_RWD, rwdKeys);
  const rq = M.parseUserListRequest(conv.c2s(M.USER_LIST_REQUEST_SIZE));
  assert.equal(rq.uid, uid, 'user-list id = getid(host, "")');
  assert.equal(rq.sig, signDetached(ukp.privateKey, uid));

  const reply = conv.s2c();
  const old = M.parseUserListReply(reply);
  const storedBlob = st.stored(hid, 'blob');
  if (old === null) {
    assert.equal(reply, M.NO_USER_LIST);
    assert.is(st.stored(hid, 'pub'), null, '00 00 only when there is no list');
    const head = conv.c2s(M.NEW_USER_LIST_HEAD_SIZE);
    const nl = M.parseNewUserList(concat(head, conv.c2s(M.blobBodySize(head.subarray(32)) + 64)));
    assert.equal(nl.pk, ukp.publicKey);
    assert.equal(nl.sig, signDetached(ukp.privateKey, nl.signed));
    checkSealedList(nl.sealed, change([]));
    st.next.set(`${hid}/pub`, toHex(nl.pk));
    st.next.set(`${hid}/blob`, toHex(nl.blob));
  } else {
    assert.ok(verifyDetached(st.stored(hid, 'pub')!, rq.signed, rq.sig), 'oracle checks sig(uid) with the stored pub');
    assert.equal(reply, storedBlob, 'the stored blob is sent as is');
    const names = userNames(open(sk, old));
    const head = conv.c2s(M.BLOB_PREFIX_SIZE);
    const ul = M.parseUpdatedUserList(concat(head, conv.c2s(M.blobBodySize(head) + 64)));
    assert.equal(ul.sig, signDetached(ukp.privateKey, ul.signed));
    assert.ok(verifyDetached(st.stored(hid, 'pub')!, ul.signed, ul.sig));
    checkSealedList(ul.sealed, change(names));
    st.next.set(`${hid}/blob`, toHex(ul.blob));
  }
}

/** pk | rule | sig(pk | rule): key from (id, rwd), rule sealed and matching the requested rules. */
function checkKeyRule(
  packet: Uint8Array,
  id: Uint8Array,
  rwd: Uint8Array,
  want: { classes: string; symbols: string; size: number },
): { pk: Uint8Array; rule: Uint8Array; password: string } {
  const p = M.parseCreateStep2(packet);
  const kp = authKeypair(mk, id, rwd, rwdKeys);
  assert.equal(p.pk, kp.publicKey, 'auth public key');
  assert.equal(p.sig, signDetached(kp.privateKey, p.signed), 'sig(pk | rule)');
  assert.ok(verifyDetached(p.pk, p.signed, p.sig));
  const rule = unpackRule(sk, p.rule);
  assert.equal({ classes: rule.classes, symbols: rule.symbols, size: rule.size }, want);
  assert.is(rule.checkDigit, checkDigit(rwd, validate));
  assert.equal(packRule(sk, rule, p.rule.subarray(1, 25)), p.rule, 'rule re-sealed with its nonce');
  const password = derive(xor(passHash(rwd), rule.xormask), rule.classes, rule.size, rule.symbols);
  return { pk: p.pk, rule: p.rule, password };
}

/** Requested rules of create/change: classes, symbols, size, or a target password. */
function wantedRule(classes: string, symbols: string, size: number, target?: string) {
  if (target !== undefined && target !== '') return { ...targetAlphabet(target), size: [...target].length };
  return { classes: [...'uld'].filter((c) => classes.includes(c)).join(''), symbols, size };
}

// ------------------------------------------------------------ one handler per operation

async function create(st: Step): Promise<void> {
  const [pwdS, user, host, classes, symbols, size, target] = st.args as [string, string, string, string, string, number, string?];
  const pwd = utf8(pwdS);
  assert.is(st.s.connections.length, 1, 'CREATE: one connection, no puzzle');
  const conv = new Conv(st.s.connections[0]);
  const id = recordId(mk, user, host);
  const hid = toHex(id);
  const req = M.parseCreateRequest(conv.c2s(65));
  assert.equal(req.id, id, 'record id = getid(host, user)');
  const r = st.r();
  assert.equal(req.alpha, challengeWith(pwd, r).alpha, 'alpha = r * H0(pwd)');

  const reply = conv.s2c();
  if (st.s.error !== null) {
    assert.ok(st.dirExists(hid), 'CREATE fails for an existing record');
    assert.ok(M.isFail(reply));
    assert.throws(() => M.parseBeta(reply), (e: unknown) => e instanceof M.OracleFailure);
    assert.match(st.s.error, /already exists/);
    conv.end();
    return;
  }
  assert.not.ok(st.dirExists(hid));
  const beta = M.parseBeta(reply);
  const rwd = await finish(pwd, r, req.alpha, beta, id);
  const kr = checkKeyRule(conv.c2s(M.KEY_RULE_SIZE), id, rwd, wantedRule(classes, symbols, size, target));
  assert.is(kr.password, st.s.result, 'derived password');
  if (target) assert.is(kr.password, target);

  userListUpdate(st, conv, host, (names) => [...names, user].sort());
  conv.end(); // the reference client does not read "ok"

  st.next.set(`${hid}/key`, (k) => assert.equal(respond(req.alpha, hex(k)), beta, 'beta = stored k * alpha'));
  st.next.set(`${hid}/pub`, toHex(kr.pk));
  st.next.set(`${hid}/rules`, toHex(kr.rule));
}

async function get(st: Step): Promise<void> {
  const [pwdS, user, host] = st.args as [string, string, string];
  const pwd = utf8(pwdS);
  const id = recordId(mk, user, host);
  const hid = toHex(id);
  const r = st.r();
  const alpha = challengeWith(pwd, r).alpha;
  const conv = puzzle(st, M.buildRequest(Op.GET, id, alpha));
  const reply = conv.s2c();
  conv.end();
  if (!st.dirExists(hid)) {
    assert.ok(M.isFail(reply), 'GET of a missing record: fail');
    assert.throws(() => M.parseGetReply(reply), (e: unknown) => e instanceof M.OracleFailure);
    assert.match(st.s.error, /does not exist/);
    return;
  }
  const { beta, rules } = M.parseGetReply(reply);
  assert.equal(beta, respond(alpha, st.stored(hid, 'key')!), 'beta = k * alpha');
  assert.equal(rules, st.stored(hid, 'rules'), 'the stored rules');
  const rwd = await finish(pwd, r, alpha, beta, id);
  const rule = unpackRule(sk, rules);
  if (st.s.error !== null) {
    assert.match(st.s.error, /bad checkdigit/);
    assert.is.not(rule.checkDigit, checkDigit(rwd, validate));
    return;
  }
  assert.is(rule.checkDigit, checkDigit(rwd, validate));
  assert.is(derive(xor(passHash(rwd), rule.xormask), rule.classes, rule.size, rule.symbols), st.s.result);
}

function users(st: Step): void {
  const [host] = st.args as [string];
  const uid = userListId(mk, host);
  assert.is(st.s.client_r.length, 0, 'READ needs no password');
  const conv = puzzle(st, M.buildRequest(Op.READ, uid));
  auth(st, conv, uid, null);
  const reply = conv.s2c();
  conv.end();
  assert.equal(reply, st.stored(toHex(uid), 'blob'), 'READ answers the stored blob');
  const sealed = M.parseReadReply(reply);
  assert.ok(sealed);
  assert.is(userNames(open(sk, sealed!)).join('\n'), st.s.result);
}

async function change(st: Step): Promise<void> {
  const [oldS, newS, user, host, classes, symbols, size, target] = st.args as [string, string, string, string, string, string, number, string?];
  const id = recordId(mk, user, host);
  const hid = toHex(id);
  const alpha = challengeWith(utf8(oldS), st.r()).alpha;
  const conv = puzzle(st, M.buildRequest(Op.CHANGE, id, alpha));
  auth(st, conv, id, alpha);
  const newPwd = utf8(newS);
  const r2 = st.r();
  const alpha2 = M.parseAlpha(conv.c2s(32));
  assert.equal(alpha2, challengeWith(newPwd, r2).alpha, "alpha' from the new password");
  const beta2 = M.parseBeta(conv.s2c());
  const rwd2 = await finish(newPwd, r2, alpha2, beta2, id);
  const kr = checkKeyRule(conv.c2s(M.KEY_RULE_SIZE), id, rwd2, wantedRule(classes, symbols, size, target));
  assert.is(kr.password, st.s.result, 'the new password');
  M.parseOk(conv.s2c());
  conv.end();
  st.next.set(`${hid}/new`, (k) => assert.equal(respond(alpha2, hex(k)), beta2, "beta' = stored k' * alpha'"));
  st.next.set(`${hid}/pub.new`, toHex(kr.pk));
  st.next.set(`${hid}/rules.new`, toHex(kr.rule));
}

/** COMMIT (from = new, to = old) and UNDO (from = old, to = new). */
function commitUndo(st: Step, op: number, from: string, to: string): void {
  const [pwdS, user, host] = st.args as [string, string, string];
  const id = recordId(mk, user, host);
  const hid = toHex(id);
  const alpha = challengeWith(utf8(pwdS), st.r()).alpha;
  const conv = puzzle(st, M.buildRequest(op, id, alpha));
  auth(st, conv, id, alpha);
  M.parseOk(conv.s2c());
  conv.end();
  assert.is(st.s.result, true);
  const f = (name: string): string => `${hid}/${name}`;
  const cur = { key: model.get(f('key'))!, pub: model.get(f('pub'))!, rules: model.get(f('rules'))! };
  const pending = { key: model.get(f(from))!, pub: model.get(f(`pub.${from}`))!, rules: model.get(f(`rules.${from}`))! };
  for (const v of [...Object.values(cur), ...Object.values(pending)]) assert.type(v, 'string');
  st.next.set(f(to), cur.key);
  st.next.set(f(`pub.${to}`), cur.pub);
  st.next.set(f(`rules.${to}`), cur.rules);
  st.next.set(f('key'), pending.key);
  st.next.set(f('pub'), pending.pub);
  st.next.set(f('rules'), pending.rules);
  for (const name of [from, `pub.${from}`, `rules.${from}`]) st.next.delete(f(name));
}

function del(st: Step): void {
  const [pwdS, user, host] = st.args as [string, string, string];
  const id = recordId(mk, user, host);
  const hid = toHex(id);
  const alpha = challengeWith(utf8(pwdS), st.r()).alpha;
  const conv = puzzle(st, M.buildRequest(Op.DELETE, id, alpha));
  auth(st, conv, id, alpha);
  userListUpdate(st, conv, host, (names) => {
    assert.ok(names.includes(user), 'the list had the user');
    return names.filter((u) => u !== user);
  });
  M.parseOk(conv.s2c());
  conv.end();
  assert.is(st.s.result, true);
  for (const p of [...st.next.keys()]) if (p.startsWith(`${hid}/`)) st.next.delete(p);
}

const handlers: Record<string, (st: Step) => void | Promise<void>> = {
  create,
  get,
  users,
  change,
  commit: (st) => commitUndo(st, Op.COMMIT, 'new', 'old'),
  undo: (st) => commitUndo(st, Op.UNDO, 'old', 'new'),
  delete: del,
};

// ------------------------------------------------------------ tests

test('setup: settings this replay assumes', () => {
  assert.is(rwdKeys, false);
  assert.is(validate, true);
  assert.is(T.steps.length, 16);
  assert.ok(T.steps.every((s: { step: string; call: string }) => parseCall(s.call).fn in handlers));
});

for (const [i, s] of (T.steps as any[]).entries()) {
  test(`step ${i + 1}: ${s.step}`, async () => {
    const st = new Step(s);
    try {
      await handlers[st.fn]!(st);
      st.check();
    } finally {
      st.adopt();
    }
  });
}

test('fail packets end the two failing steps and nothing else', () => {
  const failing = (T.steps as any[]).filter((s) =>
    s.connections.some((c: Msg[]) => c.some((m) => m.dir === 's2c' && M.isFail(hex(m.hex)))),
  );
  assert.equal(
    failing.map((s) => s.step),
    ['get deleted user2 (oracle answers fail)', 'create user1 again (exists: oracle answers fail)'],
  );
  for (const s of failing) {
    const last = s.connections.at(-1).at(-1);
    assert.is(last.dir, 's2c');
    assert.equal(hex(last.hex), Uint8Array.from(Buffer.from('\x00\x04fail', 'latin1')));
  }
});

test.run();
