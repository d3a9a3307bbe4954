// Every operation of the oracle over real TLS on 127.0.0.1 (an in-process
// server with an injected clock), success and failure paths, checked against
// the datadir: CREATE, GET, CHANGE, COMMIT, UNDO, DELETE, READ, the puzzle
// (MAC, freshness, strict solutions, replay), malformed packets, unknown ops,
// and the difficulty climbing and decaying.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { StreamConn } from '../client/conn.js';
import { concat, toHex } from '../shared/bytes.js';
import { CHALLENGE_SIZE, DIFFICULTIES, FAIL, OK, Op, RULE_SIZE } from '../shared/constants.js';
import * as equihash from '../shared/equihash.js';
import * as msg from '../shared/messages.js';
import { decodeDifficulty } from '../shared/ratelimit.js';
import { serverConfig } from '../oracle/config.js';
import { createLogger, silentLogger } from '../oracle/log.js';
import { startServer, type OracleServer } from '../oracle/server.js';
import { challenge as oprfChallenge, seedKeypair, signDetached, type Keypair } from '../client/crypto.js';
import { respond } from '../oracle/crypto.js';
import { RUNNING_FILE, USED_CHALLENGES_FILE } from '../oracle/replaystore.js';

// ------------------------------------------------------------------ fixture

let dir = '';
let server: OracleServer;
let cert = '';
let clock = 1_800_000_000;
const now = (): number => clock;

async function start(keys: Record<string, string> = {}): Promise<OracleServer> {
  const cfg = serverConfig({ server: { address: '127.0.0.1', port: '0', datadir: join(dir, 'data'), timeout: '2', rl_threshold: '1000', create_rate: '0', ...keys } }, dir);
  const s = await startServer({ config: cfg, now, logger: process.env['ORACLE_TEST_LOG'] ? createLogger({ verbose: true }) : silentLogger });
  cert = readFileSync(s.certPath, 'latin1');
  return s;
}

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oracle-ops-'));
  server = await start();
});
test.after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(port = server.port): Promise<StreamConn> {
  const sock = tlsConnect({ host: '127.0.0.1', port, ca: cert, servername: 'localhost' });
  await once(sock, 'secureConnect');
  return new StreamConn(sock, 5000);
}

/** The connection ends with exactly the fail packet. */
async function expectFail(c: StreamConn, what: string): Promise<void> {
  const b = await c.read(FAIL.length + 1);
  assert.equal(toHex(b), toHex(FAIL), `${what}: expected the fail packet`);
  c.close();
}

/** The oracle closes without sending anything. */
async function expectClosed(c: StreamConn, what: string): Promise<void> {
  const b = await c.read(1);
  assert.is(b.length, 0, `${what}: expected a silent close`);
  c.close();
}

async function expectOk(c: StreamConn, what: string): Promise<void> {
  const b = await c.read(OK.length + 1);
  assert.equal(toHex(b), toHex(OK), `${what}: expected ok`);
  c.close();
}

const rid = (): Uint8Array => new Uint8Array(randomBytes(32));
const keypair = (): Keypair => seedKeypair(new Uint8Array(randomBytes(32)));
const alphaOf = (): Uint8Array => oprfChallenge(new Uint8Array(randomBytes(16))).alpha;
const rules = (): Uint8Array => new Uint8Array(randomBytes(RULE_SIZE));
const sealed = (n = 60): Uint8Array => concat(Uint8Array.of(0), new Uint8Array(randomBytes(n)));
const datadir = (): string => join(dir, 'data');
const recDir = (id: Uint8Array): string => join(datadir(), toHex(id));
const file = (id: Uint8Array, name: string): Uint8Array | null => {
  const p = join(recDir(id), name);
  return existsSync(p) ? new Uint8Array(readFileSync(p)) : null;
};
const hex = (b: Uint8Array | null): string | null => (b ? toHex(b) : null);

interface List {
  uid: Uint8Array;
  kp: Keypair;
}
const newList = (): List => ({ uid: rid(), kp: keypair() });

interface Rec {
  id: Uint8Array;
  kp: Keypair;
  rules: Uint8Array;
  list: List;
}

/** CREATE over the wire; returns the record and beta. */
async function create(list: List = newList(), id = rid()): Promise<Rec & { beta: Uint8Array; alpha: Uint8Array }> {
  const kp = keypair();
  const r = rules();
  const alpha = alphaOf();
  const c = await open();
  c.write(msg.createRequest(id, alpha));
  const beta = msg.parseBeta(await c.read(32));
  c.write(msg.createStep2(kp.publicKey, r, (m) => signDetached(kp.privateKey, m)));
  c.write(msg.userListRequest(list.uid, (m) => signDetached(list.kp.privateKey, m)));
  const cur = msg.parseUserListReply(await c.read(2) .then(async (p) => (p.length === 2 && (p[0]! | p[1]!) !== 0 ? concat(p, await c.read(msg.blobBodySize(p))) : p)));
  const sign = (m: Uint8Array): Uint8Array => signDetached(list.kp.privateKey, m);
  c.write(cur === null ? msg.newUserList(list.kp.publicKey, sealed(), sign) : msg.updatedUserList(sealed(), sign));
  await expectOk(c, 'CREATE');
  return { id, kp, rules: r, list, beta, alpha };
}

/** Connection 1: the challenge for req. */
async function getChallenge(req: Uint8Array, port = server.port): Promise<msg.Challenge> {
  const c = await open(port);
  c.write(msg.challengeCreatePacket(req));
  const b = await c.read(CHALLENGE_SIZE + 1);
  c.close();
  return msg.parseChallenge(b);
}

async function solved(req: Uint8Array, port = server.port): Promise<{ ch: msg.Challenge; solution: Uint8Array; packet: Uint8Array }> {
  const ch = await getChallenge(req, port);
  const solution = await equihash.solve(ch.n, ch.k, msg.puzzleSeed(ch.bytes, req));
  return { ch, solution, packet: msg.challengeVerifyPacket(ch.bytes, req, solution) };
}

/** Connection 2 after a solved puzzle: the request continues on it. */
async function verified(req: Uint8Array): Promise<StreamConn> {
  const { packet } = await solved(req);
  const c = await open();
  c.write(packet);
  return c;
}

/** The auth step: returns the nonce (and beta) the oracle sent. */
async function auth(c: StreamConn, withBeta: boolean, kp: Keypair, sig?: Uint8Array): Promise<{ beta: Uint8Array | null; nonce: Uint8Array }> {
  const a = msg.parseAuthChallenge(await c.read(withBeta ? 64 : 32), withBeta);
  c.write(sig ?? signDetached(kp.privateKey, a.nonce));
  return a;
}

// ------------------------------------------------------------------ CREATE

test('CREATE stores key, pub, rules (0600 in a 0700 dir), a new user list, and beta = k * alpha', async () => {
  const rec = await create();
  const key = file(rec.id, 'key')!;
  assert.is(key.length, 32);
  assert.is(hex(respond(rec.alpha, key)), hex(rec.beta), 'beta was made with the stored key');
  assert.is(hex(file(rec.id, 'pub')), hex(rec.kp.publicKey));
  assert.is(hex(file(rec.id, 'rules')), hex(rec.rules));
  assert.equal(readdirSync(recDir(rec.id)).sort(), ['key', 'pub', 'rules']);
  assert.is(statSync(recDir(rec.id)).mode & 0o777, 0o700);
  for (const f of ['key', 'pub', 'rules']) assert.is(statSync(join(recDir(rec.id), f)).mode & 0o777, 0o600, f);
  assert.is(hex(file(rec.list.uid, 'pub')), hex(rec.list.kp.publicKey));
  assert.ok(file(rec.list.uid, 'blob')!.length > 2);
  assert.is(statSync(join(datadir(), 'key')).mode & 0o777, 0o600, 'MAC key file');
});

test('CREATE with an existing user list: the oracle sends the stored blob and stores the update', async () => {
  const first = await create();
  const before = file(first.list.uid, 'blob')!;
  const kp = keypair();
  const id = rid();
  const c = await open();
  c.write(msg.createRequest(id, alphaOf()));
  msg.parseBeta(await c.read(32));
  c.write(msg.createStep2(kp.publicKey, rules(), (m) => signDetached(kp.privateKey, m)));
  c.write(msg.userListRequest(first.list.uid, (m) => signDetached(first.list.kp.privateKey, m)));
  assert.is(hex(await c.read(before.length)), hex(before), 'stored blob sent back');
  const s = sealed(80);
  c.write(msg.updatedUserList(s, (m) => signDetached(first.list.kp.privateKey, m)));
  await expectOk(c, 'second CREATE');
  assert.is(hex(file(first.list.uid, 'blob')), hex(msg.encodeBlob(s)));
  assert.ok(file(id, 'key'));
});

test('CREATE with the largest possible user list (sealed 65535 bytes); READ returns it whole', async () => {
  const list = newList();
  const id = rid();
  const kp = keypair();
  const big = sealed(65534);
  const c = await open();
  c.write(msg.createRequest(id, alphaOf()));
  await c.read(32);
  c.write(msg.createStep2(kp.publicKey, rules(), (m) => signDetached(kp.privateKey, m)));
  c.write(msg.userListRequest(list.uid, (m) => signDetached(list.kp.privateKey, m)));
  assert.is(hex(await c.read(2)), '0000');
  c.write(msg.newUserList(list.kp.publicKey, big, (m) => signDetached(list.kp.privateKey, m)));
  await expectOk(c, 'CREATE with a 64 KiB list');
  const r = await verified(msg.buildRequest(Op.READ, list.uid));
  await auth(r, false, list.kp);
  const blob = await r.read(2 + big.length + 1);
  r.close();
  assert.is(blob.length, 2 + 65535);
  assert.is(hex(blob), hex(msg.encodeBlob(big)));
});

test('CREATE of an existing record fails right away and changes nothing', async () => {
  const rec = await create();
  const key = file(rec.id, 'key');
  const c = await open();
  c.write(msg.createRequest(rec.id, alphaOf()));
  await expectFail(c, 'CREATE existing');
  assert.is(hex(file(rec.id, 'key')), hex(key));
});

test('CREATE rejects invalid alphas (non-canonical, identity, not a point)', async () => {
  const good = alphaOf();
  const nonCanonical = good.slice();
  nonCanonical[31]! |= 0x80;
  const notPoint = new Uint8Array(32).fill(0xff);
  notPoint[31] = 0x7f;
  for (const [name, alpha] of [['top bit set', nonCanonical], ['identity', new Uint8Array(32)], ['not a point', notPoint]] as const) {
    const id = rid();
    const c = await open();
    c.write(msg.createRequest(id, alpha));
    await expectFail(c, name);
    assert.not.ok(existsSync(recDir(id)), `${name}: no record`);
  }
});

test('CREATE with a bad signature on pk | rule stores nothing', async () => {
  const id = rid();
  const kp = keypair();
  const other = keypair();
  const list = newList();
  const c = await open();
  c.write(msg.createRequest(id, alphaOf()));
  msg.parseBeta(await c.read(32));
  c.write(msg.createStep2(kp.publicKey, rules(), (m) => signDetached(other.privateKey, m)));
  c.write(msg.userListRequest(list.uid, (m) => signDetached(list.kp.privateKey, m)));
  await expectFail(c, 'bad step-2 signature');
  assert.not.ok(existsSync(recDir(id)));
  assert.not.ok(existsSync(recDir(list.uid)));
});

test('CREATE with a bad signature on the user-list id or the new list stores nothing', async () => {
  const first = await create();
  const blob = file(first.list.uid, 'blob');
  // existing list, uid signed by a stranger
  {
    const id = rid();
    const kp = keypair();
    const c = await open();
    c.write(msg.createRequest(id, alphaOf()));
    await c.read(32);
    c.write(msg.createStep2(kp.publicKey, rules(), (m) => signDetached(kp.privateKey, m)));
    c.write(msg.userListRequest(first.list.uid, (m) => signDetached(keypair().privateKey, m)));
    await expectFail(c, 'uid signed by a stranger');
    assert.not.ok(existsSync(recDir(id)));
    assert.is(hex(file(first.list.uid, 'blob')), hex(blob));
  }
  // existing list, updated list signed by a stranger
  {
    const id = rid();
    const kp = keypair();
    const c = await open();
    c.write(msg.createRequest(id, alphaOf()));
    await c.read(32);
    c.write(msg.createStep2(kp.publicKey, rules(), (m) => signDetached(kp.privateKey, m)));
    c.write(msg.userListRequest(first.list.uid, (m) => signDetached(first.list.kp.privateKey, m)));
    await c.read(blob!.length);
    c.write(msg.updatedUserList(sealed(), (m) => signDetached(keypair().privateKey, m)));
    await expectFail(c, 'list signed by a stranger');
    assert.not.ok(existsSync(recDir(id)));
    assert.is(hex(file(first.list.uid, 'blob')), hex(blob));
  }
  // new list whose signature does not match upk
  {
    const id = rid();
    const kp = keypair();
    const list = newList();
    const c = await open();
    c.write(msg.createRequest(id, alphaOf()));
    await c.read(32);
    c.write(msg.createStep2(kp.publicKey, rules(), (m) => signDetached(kp.privateKey, m)));
    c.write(msg.userListRequest(list.uid, (m) => signDetached(list.kp.privateKey, m)));
    assert.is(hex(await c.read(2)), '0000');
    c.write(msg.newUserList(list.kp.publicKey, sealed(), (m) => signDetached(keypair().privateKey, m)));
    await expectFail(c, 'new list signed by a stranger');
    assert.not.ok(existsSync(recDir(id)));
    assert.not.ok(existsSync(recDir(list.uid)));
  }
});

// ------------------------------------------------------------------ GET and the puzzle

test('GET answers beta = k * alpha and the stored rules', async () => {
  const rec = await create();
  const alpha = alphaOf();
  const c = await verified(msg.buildRequest(Op.GET, rec.id, alpha));
  const r = msg.parseGetReply(await c.read(msg.GET_REPLY_SIZE + 1));
  c.close();
  assert.is(hex(r.beta), hex(respond(alpha, file(rec.id, 'key')!)));
  assert.is(hex(r.rules), hex(rec.rules));
});

test('GET of an unknown record fails after the puzzle and leaves no trace in the datadir', async () => {
  const id = rid();
  const c = await verified(msg.buildRequest(Op.GET, id, alphaOf()));
  await expectFail(c, 'unknown record');
  assert.not.ok(existsSync(recDir(id)), 'no difficulty state for an id that does not exist');
});

test('GET with an invalid alpha fails', async () => {
  const rec = await create();
  const bad = alphaOf();
  bad[31]! |= 0x80;
  const c = await verified(msg.buildRequest(Op.GET, rec.id, bad));
  await expectFail(c, 'non-canonical alpha');
});

test('a wrong MAC, a challenge for another request, an unknown difficulty: fail', async () => {
  const rec = await create();
  const req = msg.buildRequest(Op.GET, rec.id, alphaOf());
  const { ch, solution } = await solved(req);
  const flipped = Uint8Array.from(ch.bytes); // (ch.bytes may be a Buffer: .slice() would be a view)
  flipped[CHALLENGE_SIZE - 1]! ^= 1;
  let c = await open();
  c.write(msg.challengeVerifyPacket(flipped, req, solution));
  await expectFail(c, 'flipped MAC bit');

  const other = msg.buildRequest(Op.GET, rec.id, alphaOf());
  c = await open();
  c.write(msg.challengeVerifyPacket(ch.bytes, other, solution));
  await expectFail(c, 'challenge of another request');

  const harder = Uint8Array.from(ch.bytes);
  harder[0] = 61; // not in the table: the MAC no longer matches either
  c = await open();
  c.write(concat(Uint8Array.of(Op.CHALLENGE_VERIFY), harder, req, solution));
  await expectFail(c, 'changed n');

  // the untouched packet still works (nothing above consumed it)
  c = await open();
  c.write(msg.challengeVerifyPacket(ch.bytes, req, solution));
  assert.is((await c.read(msg.GET_REPLY_SIZE + 1)).length, msg.GET_REPLY_SIZE);
  c.close();
});

test('a challenge is accepted until ts + timeout + rl_gracetime, not after', async () => {
  const rec = await create();
  const t0 = clock;
  try {
    const fresh = msg.buildRequest(Op.GET, rec.id, alphaOf());
    const a = await solved(fresh);
    assert.is(a.ch.n, 60);
    clock = t0 + DIFFICULTIES[0]!.timeout + 10; // n=60: 1 s + gracetime 10 s: still fresh
    let c = await open();
    c.write(a.packet);
    assert.is((await c.read(msg.GET_REPLY_SIZE + 1)).length, msg.GET_REPLY_SIZE, 'accepted at the edge');
    c.close();

    clock = t0;
    const stale = msg.buildRequest(Op.GET, rec.id, alphaOf());
    const b = await solved(stale);
    clock = t0 + DIFFICULTIES[0]!.timeout + 10 + 0.5;
    c = await open();
    c.write(b.packet);
    await expectFail(c, 'expired challenge');
  } finally {
    clock = t0;
  }
});

test('all-zero, equal-index and corrupted solutions are refused', async () => {
  const rec = await create();
  const req = msg.buildRequest(Op.GET, rec.id, alphaOf());
  const { ch, solution } = await solved(req);
  const size = equihash.solsize(ch.n, ch.k);
  const equal = equihash.encode(ch.n, ch.k, 7, new Array(2 ** ch.k).fill(1234));
  const corrupted = solution.slice();
  corrupted[size - 1]! ^= 1;
  // A leaf exchanged across the halves: every digit still XORs to zero (the
  // reference would accept it) but the tree breaks.
  const dec = equihash.decode(ch.n, ch.k, solution);
  const rows = equihash.digits(ch.n, ch.k, msg.puzzleSeed(ch.bytes, req), dec.nonce, dec.indices);
  const m = [8, 9, 10, 11, 12, 13, 14, 15].find((t) => rows[t]![0] !== rows[0]![0])!;
  const sw = dec.indices.slice();
  [sw[1], sw[m]] = [sw[m]!, sw[1]!];
  const reordered = equihash.encode(ch.n, ch.k, dec.nonce, sw);
  for (const [name, sol] of [
    ['all zero', new Uint8Array(size)],
    ['equal indices', equal],
    ['corrupted', corrupted],
    ['leaves moved across groups', reordered],
  ] as const) {
    const c = await open();
    c.write(msg.challengeVerifyPacket(ch.bytes, req, sol));
    await expectFail(c, name);
  }
  // refused solutions do not burn the challenge
  const c = await open();
  c.write(msg.challengeVerifyPacket(ch.bytes, req, solution));
  assert.is((await c.read(msg.GET_REPLY_SIZE + 1)).length, msg.GET_REPLY_SIZE);
  c.close();
});

test('replay: a solved challenge is accepted once', async () => {
  const rec = await create();
  const req = msg.buildRequest(Op.GET, rec.id, alphaOf());
  const { packet } = await solved(req);
  let c = await open();
  c.write(packet);
  assert.is((await c.read(msg.GET_REPLY_SIZE + 1)).length, msg.GET_REPLY_SIZE);
  c.close();
  c = await open();
  c.write(packet);
  await expectFail(c, 'replayed packet');
});

test('replay cache full of live challenges: a fresh request is still served (the soonest-expiring entry is forgotten)', async () => {
  const small = await startServer({
    config: serverConfig({ server: { address: '127.0.0.1', port: '0', datadir: join(dir, 'data'), timeout: '2', rl_threshold: '1000' } }, dir),
    now,
    logger: silentLogger,
    replayCapacity: 1,
  });
  try {
    const rec = await create();
    const get = async (): Promise<number> => {
      const req = msg.buildRequest(Op.GET, rec.id, alphaOf());
      const { packet } = await solved(req, small.port);
      const c = await open(small.port);
      c.write(packet);
      const b = await c.read(msg.GET_REPLY_SIZE + 1);
      c.close();
      return b.length;
    };
    assert.is(await get(), msg.GET_REPLY_SIZE, 'first GET fills the only slot');
    assert.is(await get(), msg.GET_REPLY_SIZE, 'a fresh, valid GET is served although the only slot is live');
    assert.is(await get(), msg.GET_REPLY_SIZE, 'and another');
  } finally {
    await small.close();
  }
});

test('truncated packets: the oracle closes without answering ok (and never hangs past timeout)', async () => {
  const rec = await create();
  // truncated CREATE, then the client half-closes
  let c = await open();
  c.write(msg.createRequest(rid(), alphaOf()).subarray(0, 40));
  const sock = (c as unknown as { sock: import('node:tls').TLSSocket }).sock;
  sock.end();
  const b = await c.read(10);
  assert.ok(b.length === 0 || toHex(b) === toHex(FAIL), 'nothing or fail after a truncated CREATE');
  // truncated verify packet (short solution), client keeps the connection open: closed by timeout (2 s)
  const req = msg.buildRequest(Op.GET, rec.id, alphaOf());
  const { packet } = await solved(req);
  c = await open();
  c.write(packet.subarray(0, packet.length - 3));
  // (StreamConn rejects after 5 s of silence: the oracle must close first, timeout = 2 s)
  const r = await c.read(1);
  assert.is(r.length, 0, 'closed without reply');
  // the same packet, complete, still works afterwards (truncation did not burn it)
  c = await open();
  c.write(packet);
  assert.is((await c.read(msg.GET_REPLY_SIZE + 1)).length, msg.GET_REPLY_SIZE);
  c.close();
});

test('oversized packets fail', async () => {
  const rec = await create();
  const req = msg.buildRequest(Op.GET, rec.id, alphaOf());
  let c = await open();
  c.write(concat(msg.challengeCreatePacket(req), Uint8Array.of(0)));
  await expectFail(c, 'challenge request with a trailing byte');
  const { packet } = await solved(req);
  c = await open();
  c.write(concat(packet, new Uint8Array(5)));
  await expectFail(c, 'verify packet with trailing bytes');
  c = await open();
  c.write(concat(msg.createRequest(rid(), alphaOf()), Uint8Array.of(1)));
  await expectFail(c, 'CREATE request with a trailing byte');
  // the last message of a CREATE with a trailing byte: fail, and nothing stored
  const id = rid();
  const kp = keypair();
  const list = newList();
  c = await open();
  c.write(msg.createRequest(id, alphaOf()));
  await c.read(32);
  c.write(msg.createStep2(kp.publicKey, rules(), (m) => signDetached(kp.privateKey, m)));
  c.write(msg.userListRequest(list.uid, (m) => signDetached(list.kp.privateKey, m)));
  assert.is(hex(await c.read(2)), '0000');
  c.write(concat(msg.newUserList(list.kp.publicKey, sealed(), (m) => signDetached(list.kp.privateKey, m)), Uint8Array.of(0)));
  await expectFail(c, 'new user list with a trailing byte');
  assert.not.ok(existsSync(recDir(id)), 'no record');
  assert.not.ok(existsSync(recDir(list.uid)), 'no user list');
  // a CHALLENGE_CREATE for a READ with 65 bytes (READ requests are 33)
  c = await open();
  c.write(concat(Uint8Array.of(Op.CHALLENGE_CREATE, Op.READ), rid(), alphaOf()));
  await expectFail(c, 'READ request with an alpha');
});

test('unknown op codes close silently; a rate-limited op without puzzle fails; CHALLENGE for a non-rate-limited op fails', async () => {
  for (const op of [0x01, 0x12, 0x77, 0xfe]) {
    const c = await open();
    c.write(concat(Uint8Array.of(op), rid(), alphaOf()));
    await expectClosed(c, `op 0x${op.toString(16)}`);
  }
  const rec = await create();
  let c = await open();
  c.write(msg.buildRequest(Op.GET, rec.id, alphaOf()));
  await expectFail(c, 'GET without puzzle');
  c = await open();
  c.write(concat(Uint8Array.of(Op.CHALLENGE_CREATE, Op.CREATE), rec.id, alphaOf()));
  await expectFail(c, 'challenge for CREATE');
});

// ------------------------------------------------------------------ CHANGE / COMMIT / UNDO

async function change(rec: Rec, authKp: Keypair, newKp: Keypair, newRules: Uint8Array): Promise<{ beta: Uint8Array; alpha2: Uint8Array }> {
  const c = await verified(msg.buildRequest(Op.CHANGE, rec.id, alphaOf()));
  await auth(c, true, authKp);
  const alpha2 = alphaOf();
  c.write(alpha2);
  const beta = msg.parseBeta(await c.read(32));
  c.write(msg.createStep2(newKp.publicKey, newRules, (m) => signDetached(newKp.privateKey, m)));
  await expectOk(c, 'CHANGE');
  return { beta, alpha2 };
}

async function simple(op: number, rec: Rec, kp: Keypair): Promise<StreamConn> {
  const c = await verified(msg.buildRequest(op, rec.id, alphaOf()));
  await auth(c, true, kp);
  return c;
}

test('CHANGE stores a pending generation; GET keeps the old one; COMMIT swaps; UNDO swaps back', async () => {
  const rec = await create();
  const k1 = file(rec.id, 'key')!;
  const kp2 = keypair();
  const rules2 = rules();
  const alpha = alphaOf();
  let c = await verified(msg.buildRequest(Op.CHANGE, rec.id, alpha));
  const a = await auth(c, true, rec.kp);
  assert.is(hex(a.beta), hex(respond(alpha, k1)), 'auth beta from the current key');
  const alpha2 = alphaOf();
  c.write(alpha2);
  const beta2 = msg.parseBeta(await c.read(32));
  c.write(msg.createStep2(kp2.publicKey, rules2, (m) => signDetached(kp2.privateKey, m)));
  await expectOk(c, 'CHANGE');
  const k2 = file(rec.id, 'new')!;
  assert.is(hex(respond(alpha2, k2)), hex(beta2));
  assert.is(hex(file(rec.id, 'pub.new')), hex(kp2.publicKey));
  assert.is(hex(file(rec.id, 'rules.new')), hex(rules2));
  assert.is(hex(file(rec.id, 'key')), hex(k1), 'current key untouched');

  const g = alphaOf();
  c = await verified(msg.buildRequest(Op.GET, rec.id, g));
  assert.is(hex(msg.parseGetReply(await c.read(msg.GET_REPLY_SIZE)).beta), hex(respond(g, k1)), 'GET still uses the old key');
  c.close();

  c = await simple(Op.COMMIT, rec, rec.kp);
  await expectOk(c, 'COMMIT');
  assert.is(hex(file(rec.id, 'key')), hex(k2));
  assert.is(hex(file(rec.id, 'pub')), hex(kp2.publicKey));
  assert.is(hex(file(rec.id, 'rules')), hex(rules2));
  assert.is(hex(file(rec.id, 'old')), hex(k1));
  assert.is(hex(file(rec.id, 'pub.old')), hex(rec.kp.publicKey));
  assert.is(hex(file(rec.id, 'rules.old')), hex(rec.rules));
  for (const f of ['new', 'pub.new', 'rules.new']) assert.is(file(rec.id, f), null, `${f} removed`);

  c = await simple(Op.COMMIT, rec, kp2);
  await expectFail(c, 'second COMMIT');

  c = await simple(Op.UNDO, rec, kp2);
  await expectOk(c, 'UNDO');
  assert.is(hex(file(rec.id, 'key')), hex(k1));
  assert.is(hex(file(rec.id, 'pub')), hex(rec.kp.publicKey));
  assert.is(hex(file(rec.id, 'new')), hex(k2));
  assert.is(hex(file(rec.id, 'rules.new')), hex(rules2));
  for (const f of ['old', 'pub.old', 'rules.old']) assert.is(file(rec.id, f), null, `${f} removed`);

  c = await simple(Op.UNDO, rec, rec.kp);
  await expectFail(c, 'second UNDO');
});

test('auth with a bad signature fails and changes nothing (CHANGE, COMMIT, UNDO, DELETE, READ)', async () => {
  const rec = await create();
  await change(rec, rec.kp, keypair(), rules());
  const before = readdirSync(recDir(rec.id))
    .filter((f) => f !== 'difficulty')
    .map((f) => `${f}=${hex(file(rec.id, f))}`)
    .sort();
  const stranger = keypair();
  for (const op of [Op.CHANGE, Op.COMMIT, Op.UNDO, Op.DELETE]) {
    const c = await verified(msg.buildRequest(op, rec.id, alphaOf()));
    await auth(c, true, stranger);
    await expectFail(c, `op 0x${op.toString(16)}`);
  }
  const c = await verified(msg.buildRequest(Op.READ, rec.list.uid));
  await auth(c, false, stranger);
  await expectFail(c, 'READ');
  const after = readdirSync(recDir(rec.id))
    .filter((f) => f !== 'difficulty')
    .map((f) => `${f}=${hex(file(rec.id, f))}`)
    .sort();
  assert.equal(after, before);
});

test('CHANGE with an invalid new alpha or a bad new signature stores nothing', async () => {
  const rec = await create();
  let c = await verified(msg.buildRequest(Op.CHANGE, rec.id, alphaOf()));
  await auth(c, true, rec.kp);
  c.write(new Uint8Array(32));
  await expectFail(c, 'identity alpha2');
  c = await verified(msg.buildRequest(Op.CHANGE, rec.id, alphaOf()));
  await auth(c, true, rec.kp);
  c.write(alphaOf());
  await c.read(32);
  const kp = keypair();
  c.write(msg.createStep2(kp.publicKey, rules(), (m) => signDetached(rec.kp.privateKey, m)));
  await expectFail(c, 'pk | rule signed by another key');
  assert.is(file(rec.id, 'new'), null);
});

test('COMMIT / UNDO / CHANGE / DELETE of an unknown record fail', async () => {
  for (const op of [Op.CHANGE, Op.COMMIT, Op.UNDO, Op.DELETE]) {
    const c = await verified(msg.buildRequest(op, rid(), alphaOf()));
    await expectFail(c, `op 0x${op.toString(16)}`);
  }
  const c = await verified(msg.buildRequest(Op.READ, rid()));
  await expectFail(c, 'READ');
});

// ------------------------------------------------------------------ READ / DELETE

test('READ sends the stored blob after auth with the list key (nonce only)', async () => {
  const rec = await create();
  const c = await verified(msg.buildRequest(Op.READ, rec.list.uid));
  const a = await auth(c, false, rec.list.kp);
  assert.is(a.beta, null);
  const blob = file(rec.list.uid, 'blob')!;
  assert.is(hex(await c.read(blob.length + 1)), hex(blob));
  c.close();
});

test('two READs of one list in the same second at the same level both succeed (unique challenges, no false replay)', async () => {
  const rec = await create();
  const req = msg.buildRequest(Op.READ, rec.list.uid);
  const a = await solved(req);
  const b = await solved(req);
  assert.is.not(toHex(a.ch.bytes), toHex(b.ch.bytes), 'the second challenge differs');
  assert.is(a.ch.n, b.ch.n, 'same level');
  assert.is(b.ch.ts, a.ch.ts - 1, 'by its timestamp, one second earlier: a repeat never lives longer than the first');
  for (const [name, p] of [['first', a.packet], ['second', b.packet]] as const) {
    const c = await open();
    c.write(p);
    await auth(c, false, rec.list.kp);
    const blob = file(rec.list.uid, 'blob')!;
    assert.is(hex(await c.read(blob.length + 1)), hex(blob), `${name} READ`);
    c.close();
  }
});

test('DELETE updates the user list and removes the record directory', async () => {
  const rec = await create();
  const c = await simple(Op.DELETE, rec, rec.kp);
  c.write(msg.userListRequest(rec.list.uid, (m) => signDetached(rec.list.kp.privateKey, m)));
  const blob = file(rec.list.uid, 'blob')!;
  assert.is(hex(await c.read(blob.length)), hex(blob));
  const s = sealed(50);
  c.write(msg.updatedUserList(s, (m) => signDetached(rec.list.kp.privateKey, m)));
  await expectOk(c, 'DELETE');
  assert.not.ok(existsSync(recDir(rec.id)));
  assert.is(hex(file(rec.list.uid, 'blob')), hex(msg.encodeBlob(s)));
  assert.equal(readdirSync(datadir()).filter((n) => n.startsWith('.') && n !== USED_CHALLENGES_FILE && n !== RUNNING_FILE), [], 'no leftovers');
});

test('DELETE fails without the user list, with a bad list signature, or with a stranger as list owner', async () => {
  const rec = await create();
  // list record that does not exist
  let c = await simple(Op.DELETE, rec, rec.kp);
  const nolist = newList();
  c.write(msg.userListRequest(nolist.uid, (m) => signDetached(nolist.kp.privateKey, m)));
  await expectFail(c, 'no list');
  // updated list signed by a stranger
  c = await simple(Op.DELETE, rec, rec.kp);
  c.write(msg.userListRequest(rec.list.uid, (m) => signDetached(rec.list.kp.privateKey, m)));
  await c.read(file(rec.list.uid, 'blob')!.length);
  c.write(msg.updatedUserList(sealed(), (m) => signDetached(keypair().privateKey, m)));
  await expectFail(c, 'bad list signature');
  assert.ok(existsSync(join(recDir(rec.id), 'key')), 'record kept');
});

// ------------------------------------------------------------------ difficulty

test('difficulty climbs with rl_threshold and decays with rl_decay (injected clock)', async () => {
  const s = await start({ rl_threshold: '1', rl_decay: '1800' });
  const port = s.port;
  const t0 = clock;
  try {
    // a record on this server (same datadir)
    const rec = await create();
    const ask = async (): Promise<number> => {
      const c = await open(port);
      c.write(msg.challengeCreatePacket(msg.buildRequest(Op.GET, rec.id, alphaOf())));
      const ch = msg.parseChallenge(await c.read(CHALLENGE_SIZE));
      c.close();
      return ch.n;
    };
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) seen.push(await ask());
    assert.equal(seen, [60, 60, 65, 65, 70, 70, 75, 75]);
    const st = decodeDifficulty(file(rec.id, 'difficulty')!)!;
    assert.equal(st, { level: 3, count: 1, ts: Math.floor(clock) });
    // quiet for two decay periods (and a bit): two levels down
    clock = t0 + 2 * 1800 + 1;
    assert.is(await ask(), 65);
    assert.equal(decodeDifficulty(file(rec.id, 'difficulty')!), { level: 1, count: 0, ts: Math.floor(clock) });
    // exactly rl_decay later is not yet "more than rl_decay"
    clock += 1800;
    assert.is(await ask(), 65, 'no decay at exactly rl_decay');
    assert.is(await ask(), 70, 'count reached rl_threshold: climbs');
    clock += 1800 * 100;
    assert.is(await ask(), 60, 'never below level 0');
    // an id with no record: level 0 every time, nothing stored
    const ghost = rid();
    for (let i = 0; i < 3; i++) {
      const c = await open(port);
      c.write(msg.challengeCreatePacket(msg.buildRequest(Op.GET, ghost, alphaOf())));
      assert.is(msg.parseChallenge(await c.read(CHALLENGE_SIZE)).n, 60);
      c.close();
    }
    assert.not.ok(existsSync(recDir(ghost)));
  } finally {
    clock = t0;
    await s.close();
  }
});

test.run();
