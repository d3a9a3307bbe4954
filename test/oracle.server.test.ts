// The in-process server shell (oracle/server.ts): open-connection cap
// dropping the oldest idle connection, max_kids without blocking accepts,
// the whole-connection timeout, verbose request lines without secrets,
// graceful close finishing a request in flight, certificate reload keeping
// the old certificate on failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, X509Certificate } from 'node:crypto';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';
import { StreamConn } from '../client/conn.js';
import { concat, toHex } from '../shared/bytes.js';
import { CHALLENGE_SIZE, OK, Op, RULE_SIZE } from '../shared/constants.js';
import * as equihash from '../shared/equihash.js';
import * as msg from '../shared/messages.js';
import { serverConfig } from '../oracle/config.js';
import { createLogger } from '../oracle/log.js';
import { startServer, type OracleServer } from '../oracle/server.js';
import { challenge as oprfChallenge, seedKeypair, signDetached } from '../client/crypto.js';
import { respond } from '../oracle/crypto.js';

let dir = '';
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'oracle-server-'));
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

interface Started {
  s: OracleServer;
  log: string[];
  ca: string;
}

async function start(keys: Record<string, string> = {}): Promise<Started> {
  const log: string[] = [];
  const datadir = mkdtempSync(join(dir, 'data-'));
  const cfg = serverConfig({ server: { address: '127.0.0.1', port: '0', datadir, rl_threshold: '1000', ...keys } }, dir);
  const s = await startServer({ config: cfg, logger: createLogger({ verbose: true, write: (l) => void log.push(l) }) });
  return { s, log, ca: readFileSync(s.certPath, 'latin1') };
}

async function tls(st: Started, ca = st.ca): Promise<{ c: StreamConn; sock: TLSSocket }> {
  const sock = tlsConnect({ host: '127.0.0.1', port: st.s.port, ca, servername: 'localhost' });
  await once(sock, 'secureConnect');
  return { c: new StreamConn(sock, 5000), sock };
}

const closed = (sock: TLSSocket | import('node:net').Socket): Promise<void> =>
  sock.destroyed ? Promise.resolve() : new Promise((r) => sock.once('close', () => r()));

const rid = (): Uint8Array => new Uint8Array(randomBytes(32));
const alphaOf = (): Uint8Array => oprfChallenge(new Uint8Array(randomBytes(16))).alpha;

/** CREATE; returns the record's stored key location and the id. */
async function create(st: Started): Promise<Uint8Array> {
  const id = rid();
  const kp = seedKeypair(new Uint8Array(randomBytes(32)));
  const ukp = seedKeypair(new Uint8Array(randomBytes(32)));
  const { c } = await tls(st);
  c.write(msg.createRequest(id, alphaOf()));
  await c.read(32);
  c.write(msg.createStep2(kp.publicKey, new Uint8Array(randomBytes(RULE_SIZE)), (m) => signDetached(kp.privateKey, m)));
  c.write(msg.userListRequest(rid(), (m) => signDetached(ukp.privateKey, m)));
  assert.is(toHex(await c.read(2)), '0000');
  c.write(msg.newUserList(ukp.publicKey, concat(Uint8Array.of(0), new Uint8Array(randomBytes(60))), (m) => signDetached(ukp.privateKey, m)));
  assert.is(toHex(await c.read(3)), toHex(OK));
  c.close();
  return id;
}

async function get(st: Started, id: Uint8Array, alpha = alphaOf()): Promise<Uint8Array> {
  const req = msg.buildRequest(Op.GET, id, alpha);
  let { c } = await tls(st);
  c.write(msg.challengeCreatePacket(req));
  const ch = msg.parseChallenge(await c.read(CHALLENGE_SIZE));
  c.close();
  const sol = await equihash.solve(ch.n, ch.k, msg.puzzleSeed(ch.bytes, req));
  ({ c } = await tls(st));
  c.write(msg.challengeVerifyPacket(ch.bytes, req, sol));
  const r = await c.read(msg.GET_REPLY_SIZE + 1);
  c.close();
  return r;
}

test('max_conns: a new connection beyond the cap drops the oldest idle one; requests still work', async () => {
  const st = await start({ max_conns: '3', timeout: '30' });
  try {
    const a = await tls(st);
    const b = await tls(st);
    const c = await tls(st);
    const aClosed = closed(a.sock);
    const d = await tls(st);
    await aClosed; // the oldest idle connection went first
    assert.not.ok(b.sock.destroyed || c.sock.destroyed || d.sock.destroyed);
    assert.ok(st.s.connections <= 3);
    // a plain TCP connection that never says hello also counts, and is evicted as idle
    const raw = netConnect(st.s.port, '127.0.0.1');
    await once(raw, 'connect');
    raw.on('error', () => {});
    for (const x of [b, c, d]) x.sock.destroy();
    const id = await create(st);
    assert.is((await get(st, id)).length, msg.GET_REPLY_SIZE);
    raw.destroy();
  } finally {
    await st.s.close();
  }
});

test('timeout bounds the whole connection: a silent TLS peer and a silent TCP peer are dropped', async () => {
  const st = await start({ timeout: '1' });
  try {
    const t0 = Date.now();
    const { sock } = await tls(st);
    const raw = netConnect(st.s.port, '127.0.0.1');
    raw.on('error', () => {});
    await once(raw, 'connect');
    let guard: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<string>((r) => (guard = setTimeout(() => r('still open after 20 s'), 20000)));
    const outcome = await Promise.race([Promise.all([closed(sock), closed(raw)]).then(() => 'closed'), gaveUp]);
    clearTimeout(guard);
    assert.is(outcome, 'closed', 'both silent peers are dropped by the oracle');
    assert.ok(Date.now() - t0 >= 900, 'not before the timeout');
  } finally {
    await st.s.close();
  }
});

test('max_kids = 1: concurrent requests all complete; waiting connections never block accepts', async () => {
  const st = await start({ max_kids: '1', timeout: '10' });
  try {
    const id = await create(st);
    // idle connections that hold no slot
    const idle = await Promise.all(Array.from({ length: 5 }, () => tls(st)));
    const results = await Promise.all(Array.from({ length: 6 }, () => get(st, id)));
    for (const r of results) assert.is(r.length, msg.GET_REPLY_SIZE);
    for (const i of idle) i.sock.destroy();
  } finally {
    await st.s.close();
  }
});

test('verbose: one line per request with op, outcome, duration and a 4-byte id prefix; never a secret', async () => {
  const st = await start();
  try {
    const id = await create(st);
    const alpha = alphaOf();
    const r = await get(st, id, alpha);
    const key = new Uint8Array(readFileSync(join(st.s.datadir, toHex(id), 'key')));
    const macKey = new Uint8Array(readFileSync(join(st.s.datadir, 'key')));
    const text = st.log.join('');
    const lines = st.log.filter((l) => / debug /.test(l));
    assert.ok(lines.some((l) => /CREATE ok [\d.]+ ms id=[0-9a-f]{8}\n$/.test(l)), text);
    assert.ok(lines.some((l) => /CHALLENGE\(GET\) ok \(level 0\) [\d.]+ ms id=/.test(l)), text);
    assert.ok(lines.some((l) => new RegExp(`GET ok [\\d.]+ ms id=${toHex(id.subarray(0, 4))}\\n$`).test(l)), text);
    assert.not.ok(text.includes(toHex(id)), 'not the whole id');
    for (const [name, secret] of [['record key', key], ['MAC key', macKey], ['beta', r.subarray(0, 32)], ['alpha', alpha], ['beta of key', respond(alpha, key)]] as const) {
      for (const enc of [toHex(secret), Buffer.from(secret).toString('base64'), toHex(secret.subarray(0, 8))]) assert.not.ok(text.includes(enc), `${name} in the log`);
    }
  } finally {
    await st.s.close();
  }
});

test('close(): stops accepting, lets the request in progress finish, then resolves', async () => {
  const st = await start({ timeout: '10' });
  const id = rid();
  const kp = seedKeypair(new Uint8Array(randomBytes(32)));
  const ukp = seedKeypair(new Uint8Array(randomBytes(32)));
  const { c } = await tls(st);
  c.write(msg.createRequest(id, alphaOf()));
  await c.read(32); // the CREATE is in progress
  let done = false;
  const closing = st.s.close().then(() => (done = true));
  await new Promise((r) => setTimeout(r, 100));
  assert.not.ok(done, 'waits for the request in progress');
  // no new connections
  const refused = await new Promise<boolean>((res) => {
    const s = tlsConnect({ host: '127.0.0.1', port: st.s.port, ca: st.ca, servername: 'localhost' });
    s.once('secureConnect', () => {
      s.destroy();
      res(false);
    });
    s.once('error', () => res(true));
  });
  assert.ok(refused, 'new connections are refused while closing');
  c.write(msg.createStep2(kp.publicKey, new Uint8Array(randomBytes(RULE_SIZE)), (m) => signDetached(kp.privateKey, m)));
  c.write(msg.userListRequest(rid(), (m) => signDetached(ukp.privateKey, m)));
  assert.is(toHex(await c.read(2)), '0000');
  c.write(msg.newUserList(ukp.publicKey, concat(Uint8Array.of(0), new Uint8Array(randomBytes(60))), (m) => signDetached(ukp.privateKey, m)));
  assert.is(toHex(await c.read(3)), toHex(OK), 'the request in progress completes');
  await closing;
  assert.ok(done);
  assert.ok(readFileSync(join(st.s.datadir, toHex(id), 'key')).length === 32);
});

test('reload(): a new certificate is served to new connections; a bad one is refused and the old one kept', async () => {
  const certPath = join(dir, 'r-cert.pem');
  const keyPath = join(dir, 'r-key.pem');
  const mk = async (): Promise<{ cert: string; key: string }> => {
    const p = await generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }],
    });
    return { cert: p.cert, key: p.private };
  };
  const one = await mk();
  writeFileSync(certPath, one.cert);
  writeFileSync(keyPath, one.key);
  const st = await start({ ssl_cert: certPath, ssl_key: keyPath });
  const fp = async (ca: string): Promise<string> => {
    const { sock } = await tls(st, ca);
    const f = sock.getPeerX509Certificate()!.fingerprint256;
    sock.destroy();
    return f;
  };
  try {
    const fp1 = new X509Certificate(one.cert).fingerprint256;
    assert.is(await fp(one.cert), fp1);
    const held = await tls(st, one.cert); // an open connection survives the reload
    writeFileSync(certPath, 'garbage');
    assert.is(await st.s.reload(), false);
    assert.ok(st.log.some((l) => /reload failed, keeping the old one/.test(l)));
    assert.is(await fp(one.cert), fp1, 'old certificate kept');
    const two = await mk();
    writeFileSync(certPath, two.cert);
    assert.is(await st.s.reload(), false, 'certificate without its key refused');
    writeFileSync(keyPath, two.key);
    assert.is(await st.s.reload(), true);
    assert.is(await fp(two.cert), new X509Certificate(two.cert).fingerprint256, 'new certificate served');
    assert.not.ok(held.sock.destroyed, 'open connection not dropped');
    held.sock.destroy();
  } finally {
    await st.s.close();
  }
});

test.run();
