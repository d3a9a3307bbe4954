// The oracle's resilience (issue 3, Resilience and Storage; protocol.md §8.3,
// §8.4, §8.6): the real oracle as a child process on 127.0.0.1, real TLS,
// real files.
// - a peer speaking plain bytes, a TCP reset (before, during and after the
//   TLS handshake, and mid-request): each ends only that connection;
// - 300 idle TCP/TLS connections while a real GET is answered, and the
//   max_conns cap dropping the oldest idle connections;
// - SIGHUP reloads the certificate without dropping connections; a bad new
//   certificate is refused and the old one kept;
// - SIGTERM finishes in-flight requests and exits 0;
// - concurrent CHANGE/COMMIT on one record are serialized.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { randomBytes, X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { StreamConn } from '../client/conn.js';
import { toHex } from '../shared/bytes.js';
import { CHALLENGE_SIZE, Op, POINT_SIZE } from '../shared/constants.js';
import * as msg from '../shared/messages.js';
import { solve } from '../shared/equihash.js';
import { oracleFleet, startOracle } from './helpers/oracle-process.js';
import { assertGet, makeRecord } from './helpers/oracle-asserts.js';
import {
  FAILED,
  Wire,
  checkRecord,
  closedByPeer,
  newGen,
  newUserList,
  okReply,
  randomAlpha,
  randomKeypair,
  readRecord,
  reply,
  stateName,
  type Gen,
} from './helpers/wire.js';
import { signDetached } from '../client/crypto.js';
import { respond } from '../oracle/crypto.js';

type Oracle = Awaited<ReturnType<typeof startOracle>>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** A sleep that does not keep the test process alive. */
const deadline = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());
/** Tests must not depend on the puzzle difficulty climbing. */
const FLAT = { rl_threshold: 4294967295 };

const fleet = oracleFleet(FLAT);
const { start: oracleWith, tmp } = fleet;
const stop = (o: Oracle): Promise<void> => fleet.stop(o);

test.after(() => fleet.cleanup());

function alive(o: Oracle): boolean {
  if (o.proc.exitCode !== null || o.proc.signalCode !== null) return false;
  try {
    process.kill(o.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves when the socket closes (or is destroyed); rejects after ms. */
function closed(s: Socket, ms: number, what: string): Promise<void> {
  return new Promise((res, rej) => {
    if (s.destroyed) return res();
    const t = setTimeout(() => rej(new Error(`${what}: the oracle did not close the connection within ${ms} ms`)), ms);
    s.on('error', () => undefined);
    s.once('close', () => {
      clearTimeout(t);
      res();
    });
  });
}

function tcp(port: number): Promise<Socket> {
  return new Promise((res, rej) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => res(s));
    s.once('error', rej);
  });
}

/** A TLS connection that trusts anything (to look at the certificate the oracle presents). */
function tlsRaw(port: number, socket?: Socket): Promise<TLSSocket> {
  return new Promise((res, rej) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(socket ? { socket } : {}) }, () => res(s));
    s.once('error', rej);
  });
}

async function presentedFingerprint(port: number): Promise<string> {
  const s = await tlsRaw(port);
  const fp = s.getPeerCertificate().fingerprint256;
  s.destroy();
  return fp;
}

/** The first bytes a TLS client sends (a real ClientHello), captured from Node's own client. */
async function clientHello(): Promise<Buffer> {
  return new Promise((res, rej) => {
    const srv = createServer((s) => {
      s.once('data', (d) => {
        res(Buffer.from(d));
        s.destroy();
        srv.close();
      });
    });
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      const c = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false });
      c.on('error', () => undefined);
    });
    srv.on('error', rej);
  });
}

test('the oracle closes every connection after its reply, success or fail, without waiting for the client', async () => {
  const o = await oracleWith({ server: { timeout: 30 } });
  const w = new Wire(o);
  const { id, gen } = await makeRecord(w);
  // connection 1: the challenge
  const c1 = await w.connect();
  const req = msg.buildRequest(Op.GET, id, randomAlpha());
  c1.write(msg.challengeCreatePacket(req));
  const ch = await reply(c1, CHALLENGE_SIZE, 'challenge');
  assert.ok(ch !== FAILED);
  assert.ok(await closedByPeer(c1, 5000), 'closed after the challenge');
  // connection 2: verify + GET, answered
  const challenge = msg.parseChallenge(ch);
  const c2 = await w.connect();
  c2.write(msg.challengeVerifyPacket(challenge.bytes, req, await solve(challenge.n, challenge.k, msg.puzzleSeed(challenge.bytes, req))));
  const r = await reply(c2, msg.GET_REPLY_SIZE, 'GET');
  assert.ok(r !== FAILED);
  assert.is(toHex(r.subarray(POINT_SIZE)), toHex(gen.rules));
  assert.ok(await closedByPeer(c2, 5000), 'closed after the GET reply');
  // a refused CREATE (the record exists)
  const c3 = await w.connect();
  c3.write(msg.createRequest(id, randomAlpha()));
  assert.is(await reply(c3, POINT_SIZE, 'CREATE of an existing record'), FAILED);
  assert.ok(await closedByPeer(c3, 5000), 'closed after fail');
  // a successful CREATE, after its ok
  const gen2 = newGen();
  const list = newUserList();
  assert.ok(await w.create(new Uint8Array(randomBytes(32)), gen2, list));
  // an unknown op code: closed without a reply
  const c4 = await w.connect();
  c4.write(Uint8Array.of(0x42, ...randomBytes(64)));
  assert.ok(await closedByPeer(c4, 5000), 'closed after an unknown op code');
  await stop(o);
});

// ------------------------------------------------------------------ hostile connections

test('plain bytes (not TLS) end only that connection; a GET then succeeds', async () => {
  const o = await oracleWith({ server: { timeout: 5 } });
  const w = new Wire(o);
  const { id, gen } = await makeRecord(w);
  const probes: Array<[string, Buffer]> = [
    ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')],
    ['a bare GET op byte', Buffer.from([Op.GET, ...randomBytes(64)])],
    ['random bytes', randomBytes(2000)],
    ['a TLS record header with a bad length', Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0x01])],
  ];
  for (const [what, bytes] of probes) {
    const s = await tcp(o.port);
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.write(bytes);
    await closed(s, 6000, what);
    // whatever it sent (a TLS alert at most), it never served the plain request
    assert.not.ok(Buffer.concat(got).includes(Buffer.from('fail')), `${what}: no protocol reply on a non-TLS connection`);
    assert.ok(alive(o), `oracle still running after ${what}`);
  }
  await assertGet(o, w, id, gen, 'after plain-bytes connections');
  await stop(o);
});

test('TCP resets before, during and after the TLS handshake and mid-request; a GET then succeeds', async () => {
  const o = await oracleWith({ server: { timeout: 5 } });
  const w = new Wire(o);
  const { id, gen } = await makeRecord(w);
  const hello = await clientHello();

  // reset right after connecting
  const a = await tcp(o.port);
  a.resetAndDestroy();

  // reset after the ClientHello, once the oracle has answered with its ServerHello
  const b = await tcp(o.port);
  const serverSpoke = new Promise<void>((res) => b.once('data', () => res()));
  b.write(hello);
  await serverSpoke;
  b.resetAndDestroy();

  // reset in the middle of a ClientHello
  const c = await tcp(o.port);
  c.write(hello.subarray(0, Math.floor(hello.length / 2)));
  await sleep(50);
  c.resetAndDestroy();

  // reset after the handshake, mid-request (half a CHALLENGE_VERIFY packet)
  const rawD = await tcp(o.port);
  const d = await tlsRaw(o.port, rawD);
  const req = msg.buildRequest(Op.GET, id, randomAlpha());
  d.write(msg.challengeCreatePacket(req).subarray(0, 20));
  await sleep(50);
  rawD.resetAndDestroy();

  // reset while the oracle waits for a CREATE's second message
  const rawE = await tcp(o.port);
  const e = await tlsRaw(o.port, rawE);
  const ce = new StreamConn(e, 5000);
  ce.write(msg.createRequest(new Uint8Array(randomBytes(32)), randomAlpha()));
  const beta = await reply(ce, POINT_SIZE, 'CREATE beta');
  assert.ok(beta !== FAILED);
  rawE.resetAndDestroy();

  await sleep(200);
  assert.ok(alive(o), 'oracle still running after resets');
  await assertGet(o, w, id, gen, 'after resets');
  await stop(o);
});

test('timeout bounds the whole life of a connection: silent, TLS-idle and slow-drip peers are closed', async () => {
  const o = await oracleWith({ server: { timeout: 2 } });
  const w = new Wire(o);
  const { id, gen } = await makeRecord(w);
  const silent = await tcp(o.port); // never says hello
  const idle = await tlsRaw(o.port); // hello, then nothing
  const drip = await tlsRaw(o.port); // keeps sending, one byte at a time, never completes
  const packet = msg.challengeCreatePacket(msg.buildRequest(Op.GET, id, randomAlpha()));
  let i = 0;
  const t = setInterval(() => {
    if (!drip.destroyed && i < packet.length - 1) drip.write(packet.subarray(i, ++i));
  }, 150);
  try {
    // 15 s is far beyond timeout = 2 s: only a connection that is never closed fails this
    await Promise.all([closed(silent, 15000, 'silent peer'), closed(idle, 15000, 'TLS-idle peer'), closed(drip, 15000, 'slow-drip peer')]);
  } finally {
    clearInterval(t);
  }
  assert.ok(i < packet.length - 1, 'the slow-drip peer was cut off before it finished its request');
  assert.ok(alive(o));
  await assertGet(o, w, id, gen, 'after the timeouts');
  await stop(o);
});

test('300 idle TCP and TLS connections: a real GET is still answered', async () => {
  // timeout long enough that the idle ones are not dropped by age during the test
  const o = await oracleWith({ server: { timeout: 60, max_conns: 1000, max_kids: 5 } });
  const w = new Wire(o, { readTimeoutMs: 30000 });
  const { id, gen } = await makeRecord(w);
  const idle: Socket[] = [];
  let closedCount = 0;
  const track = (s: Socket): void => {
    s.on('error', () => undefined);
    s.once('close', () => closedCount++);
    idle.push(s);
  };
  for (let i = 0; i < 150; i++) track(await tcp(o.port)); // never say hello
  for (let i = 0; i < 150; i += 10) {
    const batch = await Promise.all(Array.from({ length: 10 }, () => tlsRaw(o.port))); // hello, then silence
    batch.forEach(track);
  }
  assert.is(idle.length, 300);
  await assertGet(o, w, id, gen, 'with 300 idle connections open');
  assert.ok(alive(o));
  assert.is(closedCount, 0, 'with max_conns 1000 and a 60 s timeout no idle connection is dropped');
  for (const s of idle) s.destroy();
  await stop(o);
});

test('max_conns: 300 idle connections over a cap of 100; the oldest idle ones are dropped and a GET succeeds', async () => {
  const o = await oracleWith({ server: { timeout: 60, max_conns: 100 } });
  const w = new Wire(o, { readTimeoutMs: 30000 });
  const { id, gen } = await makeRecord(w);
  const idle: Array<{ s: Socket; closed: boolean }> = [];
  for (let i = 0; i < 300; i++) {
    const s = await tcp(o.port);
    const e = { s, closed: false };
    s.on('error', () => undefined);
    s.once('close', () => (e.closed = true));
    idle.push(e);
    if (i % 50 === 49) await sleep(20); // let the oracle see them in order
  }
  await assertGet(o, w, id, gen, 'with 300 idle connections over max_conns 100');
  await sleep(300);
  const dropped = idle.filter((e) => e.closed).length;
  assert.ok(dropped >= 190, `at least 200 of 300 idle connections dropped (got ${dropped})`);
  const newest = idle.slice(-50).filter((e) => !e.closed).length;
  const oldest = idle.slice(0, 50).filter((e) => !e.closed).length;
  assert.ok(oldest < newest, `the oldest are dropped first (open: oldest 50 → ${oldest}, newest 50 → ${newest})`);
  for (const e of idle) e.s.destroy();
  await stop(o);
});

test('max_conns: a connection with a request in progress is not evicted as idle', async () => {
  // A CREATE waits for the client's second message while the client runs
  // argon2 (~0.2 s): that connection is busy with a request, not idle, and a
  // burst of new connections must evict truly idle ones (or be refused) first.
  const o = await oracleWith({ server: { timeout: 60, max_conns: 50 } });
  const w = new Wire(o);
  const id = new Uint8Array(randomBytes(32));
  const gen = newGen();
  const list = newUserList();
  const c = await w.connect();
  c.write(msg.createRequest(id, gen.alpha));
  const beta = await reply(c, POINT_SIZE, 'CREATE beta');
  assert.ok(beta !== FAILED);
  const burst: Socket[] = [];
  for (let i = 0; i < 100; i++) {
    const s = await tcp(o.port);
    s.on('error', () => undefined);
    burst.push(s);
  }
  await sleep(200);
  c.write(msg.createStep2(gen.kp.publicKey, gen.rules, (m) => signDetached(gen.kp.privateKey, m)));
  c.write(msg.userListRequest(list.uid, (m) => signDetached(list.kp.privateKey, m)));
  const none = await reply(c, 2, 'user list').catch((e: Error) => e);
  assert.ok(!(none instanceof Error), `the in-progress CREATE survives a burst of new connections (${none instanceof Error ? none.message : ''})`);
  assert.ok(none !== FAILED && none[0] === 0 && none[1] === 0, 'no user list yet');
  const sealed = new Uint8Array(randomBytes(60));
  sealed[0] = 0;
  c.write(msg.newUserList(list.kp.publicKey, sealed, (m) => signDetached(list.kp.privateKey, m)));
  assert.ok(await okReply(c, 'CREATE ok'));
  c.close();
  for (const s of burst) s.destroy();
  await stop(o);
});

test('max_conns: requests stalled on their peer are evicted (oldest first) when no idle connection is left; a GET succeeds', async () => {
  // An attacker fills every slot with CREATEs that get their beta and then go
  // quiet: without eviction of stalled requests, every new connection would be
  // refused until the timeout (60 s here).
  const o = await oracleWith({ server: { timeout: 60, max_conns: 12 } });
  const w = new Wire(o, { readTimeoutMs: 30000 });
  const { id, gen } = await makeRecord(w);
  const stalled: Array<{ close(): void }> = [];
  for (let i = 0; i < 12; i++) {
    const c = await w.connect();
    c.write(msg.createRequest(new Uint8Array(randomBytes(32)), newGen().alpha));
    const beta = await reply(c, POINT_SIZE, 'stalled CREATE beta');
    assert.ok(beta !== FAILED, 'the stalled CREATE got its beta');
    stalled.push(c);
  }
  await sleep(100);
  await assertGet(o, w, id, gen, 'with max_conns connections stalled mid-request');
  for (const c of stalled) c.close();
  await stop(o);
});

// ------------------------------------------------------------------ signals

async function certPair(cn: string): Promise<{ cert: string; key: string; fp: string }> {
  const p = await generate([{ name: 'commonName', value: cn }], { keyType: 'ec', algorithm: 'sha256' } as never);
  return { cert: p.cert, key: p.private, fp: new X509Certificate(p.cert).fingerprint256 };
}

async function waitFor(cond: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await cond()) return;
    await sleep(100);
  }
  assert.unreachable(`${what} (waited ${ms} ms)`);
}

test('SIGHUP reloads the certificate without dropping connections; a bad new certificate is refused, the old kept', async () => {
  const dir = tmp('sphinx-hup-');
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const [A, B, C, D] = await Promise.all(['oracle-a', 'oracle-b', 'oracle-c', 'oracle-d'].map(certPair));
  writeFileSync(certPath, A!.cert);
  writeFileSync(keyPath, A!.key, { mode: 0o600 });
  const o = await oracleWith({ datadir: join(dir, 'data'), server: { ssl_cert: certPath, ssl_key: keyPath, timeout: 60 } });
  assert.is(await presentedFingerprint(o.port), A!.fp, 'the configured certificate');
  const wA = new Wire({ port: o.port, certPath });
  const { id, gen } = await makeRecord(wA);

  // a connection opened under A, idle across the reload
  const x = await tlsRaw(o.port);
  let xClosed = false;
  x.once('close', () => (xClosed = true));
  assert.is(x.getPeerCertificate().fingerprint256, A!.fp);

  writeFileSync(certPath, B!.cert);
  writeFileSync(keyPath, B!.key, { mode: 0o600 });
  process.kill(o.pid, 'SIGHUP');
  await waitFor(async () => (await presentedFingerprint(o.port)) === B!.fp, 10000, 'new connections see the renewed certificate');
  assert.ok(alive(o));

  // the old connection still works: it gets its challenge
  assert.not.ok(xClosed, 'the connection opened before the reload is still open');
  const cx = new StreamConn(x, 5000);
  cx.write(msg.challengeCreatePacket(msg.buildRequest(Op.GET, id, randomAlpha())));
  const ch = await reply(cx, CHALLENGE_SIZE, 'challenge on the pre-reload connection');
  assert.ok(ch !== FAILED && ch.length === CHALLENGE_SIZE, 'a connection from before the reload is served');
  x.destroy();

  const wB = new Wire({ port: o.port, certPath });
  await assertGet(o, wB, id, gen, 'after the reload (client pinned to the new certificate)');

  // bad renewals: garbage, and a certificate that does not match the key
  for (const [what, cert, key] of [
    ['a damaged certificate file', '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n', B!.key],
    ['a certificate that does not match the key', C!.cert, D!.key],
    ['an empty key file', B!.cert, ''],
  ] as const) {
    writeFileSync(certPath, cert);
    writeFileSync(keyPath, key, { mode: 0o600 });
    const logBefore = o.stderr().length;
    process.kill(o.pid, 'SIGHUP');
    await waitFor(() => o.stderr().length > logBefore, 5000, `a log line about ${what}`);
    await sleep(200);
    assert.ok(alive(o), `the oracle survives ${what}`);
    assert.is(await presentedFingerprint(o.port), B!.fp, `${what}: the old certificate is kept`);
    await assertGet(o, wB, id, gen, `after refusing ${what}`);
  }
  await stop(o);
});

test('SIGTERM: in-flight GET and CREATE complete, no new connection is served, exit code 0', async () => {
  const o = await oracleWith({ server: { timeout: 20 } });
  const w = new Wire(o);
  const { id, gen } = await makeRecord(w);

  // GET: everything but the last byte of CHALLENGE_VERIFY sent
  const alpha = randomAlpha();
  const req = msg.buildRequest(Op.GET, id, alpha);
  const ch = await w.challenge(req);
  assert.ok(ch !== FAILED);
  const packet = msg.challengeVerifyPacket(ch.bytes, req, await solve(ch.n, ch.k, msg.puzzleSeed(ch.bytes, req)));
  const g = await w.connect();
  g.write(packet.subarray(0, packet.length - 1));

  // CREATE: the oracle has sent beta and waits for pk | rule | sig
  const id2 = new Uint8Array(randomBytes(32));
  const gen2 = newGen();
  const list = newUserList();
  const c = await w.connect();
  c.write(msg.createRequest(id2, gen2.alpha));
  const beta2 = await reply(c, POINT_SIZE, 'CREATE beta');
  assert.ok(beta2 !== FAILED);
  gen2.beta = beta2;
  await sleep(100);

  const exited = new Promise<{ code: number | null; signal: string | null }>((res) => o.proc.once('exit', (code, signal) => res({ code, signal })));
  process.kill(o.pid, 'SIGTERM');
  await sleep(300);

  // no new connection is served once the oracle is stopping
  let served = false;
  try {
    const n = await Promise.race([tlsRaw(o.port), deadline(3000).then(() => Promise.reject(new Error('no handshake')))]);
    const cn = new StreamConn(n, 1500);
    cn.write(msg.challengeCreatePacket(msg.buildRequest(Op.GET, id, randomAlpha())));
    const b = await cn.read(CHALLENGE_SIZE).catch(() => new Uint8Array(0));
    served = b.length === CHALLENGE_SIZE;
    n.destroy();
  } catch {
    // refused or reset: not served
  }
  assert.not.ok(served, 'a connection opened after SIGTERM is not served');

  // the in-flight requests complete
  g.write(packet.subarray(packet.length - 1));
  const r = await reply(g, msg.GET_REPLY_SIZE, 'in-flight GET');
  assert.ok(r !== FAILED, 'in-flight GET answered');
  {
    assert.is(toHex(r.subarray(POINT_SIZE)), toHex(gen.rules));
    assert.is(toHex(r.subarray(0, POINT_SIZE)), toHex(respond(alpha, readRecord(o.datadir, id)!.get('key')!)));
  }
  g.close();

  c.write(msg.createStep2(gen2.kp.publicKey, gen2.rules, (m) => signDetached(gen2.kp.privateKey, m)));
  c.write(msg.userListRequest(list.uid, (m) => signDetached(list.kp.privateKey, m)));
  const none = await reply(c, 2, 'user list');
  assert.ok(none !== FAILED && none[0] === 0 && none[1] === 0, 'no user list yet');
  const sealed = new Uint8Array(randomBytes(60));
  sealed[0] = 0;
  c.write(msg.newUserList(list.kp.publicKey, sealed, (m) => signDetached(list.kp.privateKey, m)));
  assert.ok(await okReply(c, 'in-flight CREATE'), 'in-flight CREATE acknowledged');
  c.close();

  const { code, signal } = await Promise.race([exited, deadline(10000).then(() => ({ code: -1, signal: 'timeout' }))]);
  fleet.forget(o);
  assert.is(signal, null, 'exited by itself, not killed');
  assert.is(code, 0, 'exit code 0');
  const { state, problems } = checkRecord(readRecord(o.datadir, id2)!, [gen2]);
  assert.equal(problems, []);
  assert.is(state.cur?.tag, gen2.tag, 'the in-flight CREATE is stored');
});

test('SIGTERM does not wait for idle connections (TCP or TLS without a request byte)', async () => {
  // timeout 60 s: an oracle that waits for idle connections to time out would take a minute
  const o = await oracleWith({ server: { timeout: 60 } });
  const idleTcp = await tcp(o.port);
  const idleTls = await tlsRaw(o.port);
  idleTls.on('error', () => undefined);
  await sleep(100);
  const exited = new Promise<{ code: number | null; signal: string | null }>((res) => o.proc.once('exit', (code, signal) => res({ code, signal })));
  process.kill(o.pid, 'SIGTERM');
  const r = await Promise.race([exited, deadline(15000).then(() => null)]);
  idleTcp.destroy();
  idleTls.destroy();
  assert.ok(r !== null, 'the oracle exits without waiting for the idle connections to time out');
  fleet.forget(o);
  assert.is(r!.code, 0, 'exit code 0');
});

test('the datadir is the only source of truth: an operator restores, deletes and copies record folders while the oracle runs', async () => {
  const o = await oracleWith({ server: { timeout: 20 } });
  const w = new Wire(o);
  const kp = randomKeypair();
  const id = new Uint8Array(randomBytes(32));
  const g1 = newGen(kp);
  assert.ok(await w.create(id, g1, newUserList()));
  const dir = join(o.datadir, toHex(id));
  const backup = tmp('sphinx-backup-');
  cpSync(dir, join(backup, 'rec'), { recursive: true });
  // a newer generation, committed
  const g2 = newGen(kp);
  assert.ok(await w.change(id, randomAlpha(), kp, g2));
  assert.ok(await w.commit(id, kp));
  await assertGet(o, w, id, g2, 'after commit');
  // restore the backup: the oracle serves the restored generation at once
  rmSync(dir, { recursive: true });
  cpSync(join(backup, 'rec'), dir, { recursive: true });
  await assertGet(o, w, id, g1, 'after the operator restored a backup');
  assert.not.ok(await w.commit(id, kp), 'the restored record has no pending change (nothing cached)');
  // delete the folder: the record is gone
  rmSync(dir, { recursive: true });
  assert.is(await w.get(id, randomAlpha()), FAILED, 'GET after the operator deleted the folder');
  // a record folder copied in from another oracle's datadir is served
  const other = await oracleWith({});
  const wo = new Wire(other);
  const id3 = new Uint8Array(randomBytes(32));
  const g3 = newGen();
  assert.ok(await wo.create(id3, g3, newUserList()));
  await stop(other);
  cpSync(join(other.datadir, toHex(id3)), join(o.datadir, toHex(id3)), { recursive: true });
  await assertGet(o, w, id3, g3, 'a record copied in from another datadir');
  await stop(o);
});

// ------------------------------------------------------------------ serialization

test('concurrent CHANGE and COMMIT on one record are serialized: the record stays whole and explainable', async () => {
  const o = await oracleWith({ server: { max_kids: 16, timeout: 20 } });
  const w = new Wire(o, { readTimeoutMs: 20000 });
  const kp = randomKeypair(); // one auth key for every generation, so any interleaving authenticates
  const id = new Uint8Array(randomBytes(32));
  const g0 = newGen(kp);
  assert.ok(await w.create(id, g0, newUserList()));

  const known: Gen[] = [g0];
  const changesSoFar: Gen[] = [];
  let commitsSoFar = 0;
  for (let round = 0; round < 2; round++) {
    const changes = Array.from({ length: 8 }, () => newGen(kp));
    known.push(...changes);
    changesSoFar.push(...changes);
    const tasks: Array<Promise<{ kind: 'change' | 'commit'; ok: boolean }>> = [];
    for (let i = 0; i < 8; i++) {
      tasks.push(w.change(id, randomAlpha(), kp, changes[i]!).then((ok) => ({ kind: 'change' as const, ok })));
      tasks.push(sleep(Math.random() * 30).then(() => w.commit(id, kp).then((ok) => ({ kind: 'commit' as const, ok }))));
    }
    const results = await Promise.all(tasks);
    assert.ok(results.filter((r) => r.kind === 'change').every((r) => r.ok), 'every CHANGE is accepted (the auth key never changes)');
    const commits = results.filter((r) => r.kind === 'commit' && r.ok).length;
    commitsSoFar += commits;

    const { state, problems } = checkRecord(readRecord(o.datadir, id)!, known);
    const ctx = `round ${round} (${commits} COMMITs ok, ${stateName(state)})`;
    assert.equal(problems, [], `${ctx}: the record is whole`);
    const isChange = (g: Gen | null): boolean => g !== null && changesSoFar.includes(g);
    if (commitsSoFar === 0) {
      assert.is(state.cur, g0, `${ctx}: no COMMIT succeeded, so the current generation is the original`);
      assert.is(state.old, null, `${ctx}: nothing to undo yet`);
    } else {
      assert.ok(isChange(state.cur), `${ctx}: after a COMMIT the current generation is one of the changes`);
      assert.ok(state.old !== null && state.old !== state.cur, `${ctx}: the previous generation is kept for UNDO`);
    }
    assert.ok(state.new === null || (isChange(state.new) && state.new !== state.cur), `${ctx}: the pending generation is another change`);
    await assertGet(o, w, id, state.cur!, `${ctx}: GET serves the current generation`);
  }
  await stop(o);
});

test('GETs during a storm of CHANGE/COMMIT/UNDO always see one whole generation (key and rules together)', async () => {
  // 24 identical GET requests (one alpha) within a second: rl_gracetime 60 lets
  // the oracle give each a distinct challenge (it stamps repeats earlier, within the window).
  const o = await oracleWith({ server: { max_kids: 16, timeout: 20, rl_gracetime: 60 } });
  const w = new Wire(o, { readTimeoutMs: 20000 });
  const kp = randomKeypair();
  const A = randomAlpha(); // one alpha for every generation and every GET: beta identifies the key
  const gen = (): Gen => Object.assign(newGen(kp), { alpha: A });
  const id = new Uint8Array(randomBytes(32));
  const g0 = gen();
  assert.ok(await w.create(id, g0, newUserList()));
  const gens = new Map<string, Gen>([[toHex(g0.rules), g0]]);
  const seen: Array<{ beta: Uint8Array; rules: Uint8Array }> = [];
  const tasks: Array<Promise<unknown>> = [];
  for (let i = 0; i < 12; i++) {
    const g = gen();
    gens.set(toHex(g.rules), g);
    tasks.push(sleep(Math.random() * 600).then(() => w.change(id, randomAlpha(), kp, g)));
    tasks.push(sleep(Math.random() * 600).then(() => w.commit(id, kp)));
    tasks.push(sleep(Math.random() * 600).then(() => w.undo(id, kp)));
    for (let j = 0; j < 2; j++) {
      tasks.push(
        sleep(Math.random() * 600)
          .then(() => w.get(id, A))
          .then((r) => {
            assert.ok(r !== FAILED, 'GET of an existing record');
            seen.push(r);
          }),
      );
    }
  }
  await Promise.all(tasks);
  assert.is(seen.length, 24);
  const distinct = new Set<string>();
  for (const r of seen) {
    const g = gens.get(toHex(r.rules));
    assert.ok(g, 'GET returns the rules of a generation that was written');
    assert.is(toHex(r.beta), toHex(g!.beta!), `GET of ${g!.tag}: beta from that generation's key (not a torn read)`);
    distinct.add(g!.tag);
  }
  const { state, problems } = checkRecord(readRecord(o.datadir, id)!, gens.values());
  assert.equal(problems, [], `the record is whole (${stateName(state)})`);
  console.log(`  storm: GETs saw ${distinct.size} generation(s); final ${stateName(state)}`);
  await stop(o);
});

test.run();
