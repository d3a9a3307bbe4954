// Oracle hardening, round 2 (issue 14; issue 13 "Oracle, as an operator"):
// the real oracle as a child process on 127.0.0.1, real TLS, real files.
// - a used challenge stays used across a clean restart and a kill -9; a
//   challenge issued before a clean restart is still good once;
// - a full replay cache never refuses an honest GET; repeated identical READ
//   challenges are never stamped later than the request;
// - a full disk (a real tmpfs, when this machine lets us mount one): GET,
//   list (READ) and DELETE work, CREATE is refused by the free-space reserve,
//   nothing half-written is left; `.difficulty.tmp` is removed after a restart;
// - symlinks in a record are never written through, never silently dropped;
// - TLS 1.2 only with ECDHE + AEAD suites, TLS 1.3 kept; ticket keys rotate;
// - CREATE per source is a token bucket;
// - max_conns evicts the connection idle longest, whatever its stage;
// - permission warnings name the chmod; start-up never hangs; a health probe
//   is not a failed request; log_peers lines feed the fail2ban filter.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { StreamConn } from '../client/conn.js';
import { toHex } from '../shared/bytes.js';
import { CHALLENGE_SIZE, Op } from '../shared/constants.js';
import * as msg from '../shared/messages.js';
import { solve } from '../shared/equihash.js';
import { oracleFleet, runOracle, serverConfigText, startOracle } from './helpers/oracle-process.js';
import { assertGet, makeRecord } from './helpers/oracle-asserts.js';
import { FAILED, Wire, newGen, newUserList, randomAlpha, reply } from './helpers/wire.js';

type Oracle = Awaited<ReturnType<typeof startOracle>>;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Tests must not depend on the puzzle difficulty climbing, nor on the CREATE limit unless they test it. */
const FLAT = { rl_threshold: 4294967295, create_rate: 0 };

const fleet = oracleFleet(FLAT);
const { start: oracleWith, stop, tmp } = fleet;
const mounts: string[] = [];

test.after(async () => {
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  await fleet.cleanup();
});

/** A solved CHALLENGE_VERIFY packet for GET of id (connection 1 done, puzzle solved). */
async function solvedGet(w: Wire, id: Uint8Array): Promise<Uint8Array> {
  const req = msg.buildRequest(Op.GET, id, randomAlpha());
  const ch = await w.challenge(req);
  assert.ok(ch !== FAILED, 'challenge');
  return msg.challengeVerifyPacket(ch.bytes, req, await solve(ch.n, ch.k, msg.puzzleSeed(ch.bytes, req)));
}

/** Send a verify packet on a new connection: true when the GET is answered, false for fail. */
async function sendVerify(w: Wire, packet: Uint8Array): Promise<boolean> {
  const c = await w.connect();
  try {
    c.write(packet);
    return (await reply(c, msg.GET_REPLY_SIZE, 'GET')) !== FAILED;
  } finally {
    c.close();
  }
}

// ------------------------------------------------------------------ 1. replay after restart

for (const how of ['SIGTERM', 'SIGKILL'] as const) {
  test(`replay after a restart (${how}): a used challenge is refused by the next oracle life`, async () => {
    const o = await oracleWith({ server: { timeout: 20, rl_gracetime: 60 } });
    const w = new Wire(o);
    const { id, gen } = await makeRecord(w);
    const packet = await solvedGet(w, id);
    assert.ok(await sendVerify(w, packet), 'first use accepted');
    assert.not.ok(await sendVerify(w, packet), 'replay in the same life refused');
    // a challenge fetched but not used before the restart
    const pending = await solvedGet(w, id);
    await stop(o, how);
    const o2 = await oracleWith({ datadir: o.datadir, server: { timeout: 20, rl_gracetime: 60 } });
    const w2 = new Wire(o2);
    assert.not.ok(await sendVerify(w2, packet), `replay after ${how} + restart refused`);
    // a clean restart keeps unused challenges good (once); after a crash the client must ask again
    assert.is(await sendVerify(w2, pending), how === 'SIGTERM', how === 'SIGTERM' ? 'an unused challenge survives a clean restart' : 'challenges from before a crash are refused');
    assert.not.ok(await sendVerify(w2, pending), 'and is single-use');
    await assertGet(o2, w2, id, gen, 'a fresh GET after the restart');
    await stop(o2);
  });
}

// ------------------------------------------------------------------ 2. replay-cache lockout

test('a full replay cache (replay_cache = 4) never refuses an honest GET', async () => {
  const o = await oracleWith({ server: { timeout: 20, replay_cache: 4 } });
  const w = new Wire(o);
  const { id, gen } = await makeRecord(w);
  for (let i = 0; i < 12; i++) assert.ok(await sendVerify(w, await solvedGet(w, id)), `flood GET ${i}`);
  await assertGet(o, w, id, gen, 'with the cache full of live challenges');
  await stop(o);
});

test('64 identical READ challenges in one second: none is stamped later than the request (no longer life)', async () => {
  const o = await oracleWith({ server: { timeout: 20 } });
  const w = new Wire(o);
  const list = newUserList();
  await makeRecord(w, list);
  const req = msg.buildRequest(Op.READ, list.uid);
  const stamps: number[] = [];
  const macs = new Set<string>();
  for (let i = 0; i < 64; i++) {
    const ch = await w.challenge(req);
    const after = Math.floor(Date.now() / 1000);
    assert.ok(ch !== FAILED);
    assert.ok(ch.ts <= after, `challenge ${i}: ts ${ch.ts} is not after the time of issue ${after}`);
    stamps.push(ch.ts);
    macs.add(toHex(ch.bytes));
  }
  assert.ok(macs.size >= 11, `repeats are made unique while they can live (${macs.size} distinct)`);
  await stop(o);
});

// ------------------------------------------------------------------ 4. disk full (+ 8. free-space reserve)

/** A fresh tmpfs of `mb` MiB, or null when this machine does not let us mount one. */
function tmpfs(mb: number): string | null {
  const d = tmp('sphinx-tmpfs-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${mb}m,mode=0700`, 'tmpfs', d], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  mounts.push(d);
  return d;
}

/** Fill the file system holding `dir` to the last byte. */
function fill(dir: string): void {
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; ; i++) {
    try {
      writeFileSync(join(dir, `filler-${i}`), chunk);
    } catch {
      break;
    }
  }
  for (let i = 0; ; i++) {
    try {
      writeFileSync(join(dir, `small-${i}`), Buffer.alloc(512));
    } catch {
      break;
    }
  }
}

test('a full disk: GET, list and DELETE work, CREATE is refused (create_min_free), nothing half-written is left', async () => {
  const mnt = tmpfs(6);
  if (!mnt) {
    console.log('  (no tmpfs here: mount refused; the full-disk case is not run)');
    return;
  }
  const datadir = join(mnt, 'data');
  const o = await oracleWith({ datadir, server: { timeout: 20, create_min_free: 1 } });
  const w = new Wire(o);
  const list = newUserList();
  const a = await makeRecord(w, list);
  const b = await makeRecord(w, list); // b never got a difficulty file: its first challenge needs a new file
  await assertGet(o, w, a.id, a.gen, 'before the disk fills');
  fill(mnt);
  const idC = new Uint8Array(randomBytes(32));
  assert.not.ok(await w.create(idC, newGen(), newUserList()), 'CREATE refused on a full disk');
  await sleep(200);
  assert.match(o.stderr(), /below create_min_free/, `the log says why:\n${o.stderr()}`);
  await assertGet(o, w, b.id, b.gen, 'GET of a record without a difficulty file, disk full');
  await assertGet(o, w, a.id, a.gen, 'GET, disk full');
  const blob = await w.read(list);
  assert.ok(blob !== FAILED && blob !== null, 'list (READ) works on a full disk');
  assert.ok(await w.del(b.id, b.gen.kp, list), 'DELETE works on a full disk');
  assert.not.ok(existsSync(join(datadir, toHex(b.id))), 'the record is gone');
  assert.equal(readdirSync(datadir).filter((n) => /\.(new|old|del)$/.test(n)), [], 'no half-written record directories left');
  // free some space: CREATE works again, the difficulty kept in memory is written
  for (const f of readdirSync(mnt).filter((n) => n.startsWith('filler-')).slice(0, 40)) unlinkSync(join(mnt, f));
  const c = await makeRecord(w, list);
  await assertGet(o, w, c.id, c.gen, 'after freeing space');
  await stop(o);
});

test('a CREATE that hits a full disk leaves no .<hex>.new directory behind', async () => {
  const mnt = tmpfs(6);
  if (!mnt) return;
  const datadir = join(mnt, 'data');
  const o = await oracleWith({ datadir, server: { timeout: 20, create_min_free: 0 } });
  const w = new Wire(o);
  await makeRecord(w);
  fill(mnt);
  for (let i = 0; i < 3; i++) assert.not.ok(await w.create(new Uint8Array(randomBytes(32)), newGen(), newUserList()), 'CREATE on a full disk fails');
  assert.equal(readdirSync(datadir).filter((n) => n.startsWith('.') && !['.used-challenges', '.running'].includes(n)), [], 'no temp directories left holding space');
  await stop(o);
});

test('.difficulty.tmp (and other in-record temp files) left by a crash are removed after a restart', async () => {
  const o = await oracleWith({ server: { timeout: 20 } });
  const w = new Wire(o);
  const { id } = await makeRecord(w);
  await stop(o, 'SIGKILL');
  const dir = join(o.datadir, toHex(id));
  writeFileSync(join(dir, '.difficulty.tmp'), Buffer.alloc(9));
  writeFileSync(join(dir, '.blob.tmp'), Buffer.alloc(100));
  const o2 = await oracleWith({ datadir: o.datadir, server: { timeout: 20 } });
  for (let i = 0; i < 50 && readdirSync(dir).some((n) => n.endsWith('.tmp')); i++) await sleep(100);
  assert.equal(readdirSync(dir).filter((n) => n.endsWith('.tmp')), [], 'temp files removed');
  await stop(o2);
});

// ------------------------------------------------------------------ 5. symlinks

test('symlinks in a record: a difficulty symlink is never written through; a symlinked key is refused, not dropped', async () => {
  const o = await oracleWith({ server: { timeout: 20 } });
  const w = new Wire(o);
  const outside = tmp('sphinx-outside-');
  const victim = join(outside, 'victim');
  writeFileSync(victim, 'precious!'); // 9 bytes, the size of a difficulty state: the old oracle wrote into it in place
  const a = await makeRecord(w);
  const dirA = join(o.datadir, toHex(a.id));
  rmSync(join(dirA, 'difficulty'), { force: true });
  symlinkSync(victim, join(dirA, 'difficulty'));
  await assertGet(o, w, a.id, a.gen, 'GET with a symlinked difficulty (repaired)');
  await assertGet(o, w, a.id, a.gen, 'GET again');
  assert.is(readFileSync(victim, 'utf8'), 'precious!', 'the file outside the datadir is untouched');

  const b = await makeRecord(w);
  const dirB = join(o.datadir, toHex(b.id));
  const keyOutside = join(outside, 'key');
  writeFileSync(keyOutside, readFileSync(join(dirB, 'key')));
  unlinkSync(join(dirB, 'key'));
  symlinkSync(keyOutside, join(dirB, 'key'));
  assert.is(await w.get(b.id, randomAlpha()), FAILED, 'GET through a symlinked key is refused');
  assert.not.ok(await w.change(b.id, randomAlpha(), b.gen.kp, newGen()), 'CHANGE of a record with a symlinked key is refused');
  assert.ok(readdirSync(dirB).includes('key'), 'the symlinked key is not silently dropped');
  assert.match(o.stderr(), /symlink/, 'the log names the problem');
  await stop(o);
});

// ------------------------------------------------------------------ 7. TLS

function tlsTry(port: number, opts: ConnectionOptions): Promise<TLSSocket | null> {
  return new Promise((res) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => res(s));
    s.once('error', () => res(null));
  });
}

test('TLS: 1.2 only with ECDHE and AES-GCM or ChaCha20-Poly1305; 1.3 kept', async () => {
  const o = await oracleWith({});
  for (const c of ['AES128-SHA', 'ECDHE-ECDSA-AES128-SHA', 'ECDHE-RSA-AES128-SHA', 'ECDHE-ECDSA-AES128-SHA256', 'ECDHE-RSA-AES256-SHA384', 'AES128-GCM-SHA256', 'ECDHE-ECDSA-AES128-CCM8', 'ECDHE-ECDSA-ARIA128-GCM-SHA256', 'DHE-RSA-AES128-GCM-SHA256']) {
    const s = await tlsTry(o.port, { maxVersion: 'TLSv1.2', ciphers: c });
    assert.is(s, null, `TLS 1.2 ${c} refused`);
  }
  const ok: string[] = [];
  for (const c of ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305']) {
    const s = await tlsTry(o.port, { maxVersion: 'TLSv1.2', ciphers: c });
    if (s) {
      ok.push(s.getCipher().standardName);
      s.destroy();
    }
  }
  assert.ok(ok.length >= 3, `the AEAD ECDHE suites of the certificate's key type are accepted (${ok.join(', ')})`);
  const t13 = await tlsTry(o.port, { minVersion: 'TLSv1.3' });
  assert.ok(t13, 'TLS 1.3 accepted');
  assert.is(t13!.getProtocol(), 'TLSv1.3');
  t13!.destroy();
  await stop(o);
});

/** A TLS 1.3 connection: whether it resumed `session`, and the ticket it got (if any within 2 s). */
function ticketed(port: number, session?: Buffer): Promise<{ ticket: Buffer | null; reused: boolean }> {
  return new Promise((res, rej) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: 'TLSv1.3', ...(session ? { session } : {}) });
    let ticket: Buffer | null = null;
    s.on('session', (t: Buffer) => (ticket = t));
    s.once('secureConnect', () => {
      const reused = s.isSessionReused();
      const t0 = Date.now();
      const wait = (): void => {
        if (ticket || Date.now() - t0 > 2000) {
          s.destroy();
          res({ ticket, reused });
        } else setTimeout(wait, 20);
      };
      wait();
    });
    s.once('error', rej);
  });
}

test('TLS session tickets: resumption works, and the ticket key rotates (ticket_rotate)', async () => {
  const o = await oracleWith({ server: { ticket_rotate: 2 } });
  const first = await ticketed(o.port);
  assert.ok(first.ticket, 'the oracle issues a session ticket');
  const again = await ticketed(o.port, first.ticket!);
  assert.ok(again.reused, 'a fresh ticket resumes the session');
  await sleep(4500); // two rotations
  const late = await ticketed(o.port, first.ticket!);
  assert.not.ok(late.reused, 'a ticket from before the rotation no longer resumes');
  await stop(o);
});

// ------------------------------------------------------------------ 8. CREATE floods

test('CREATE per source: create_burst at once, then refused; every other operation still works', async () => {
  const o = await oracleWith({ server: { timeout: 20, create_rate: 0.001, create_burst: 3 } });
  const w = new Wire(o);
  const list = newUserList();
  const recs = [];
  for (let i = 0; i < 3; i++) recs.push(await makeRecord(w, list));
  assert.not.ok(await w.create(new Uint8Array(randomBytes(32)), newGen(), newUserList()), 'the 4th CREATE in a burst is refused');
  await assertGet(o, w, recs[0]!.id, recs[0]!.gen, 'GET while CREATE is limited');
  assert.ok(await w.del(recs[1]!.id, recs[1]!.gen.kp, list), 'DELETE while CREATE is limited');
  await stop(o);
});

// ------------------------------------------------------------------ 3. eviction

function tcp(port: number): Promise<Socket> {
  return new Promise((res, rej) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => res(s));
    s.once('error', rej);
  });
}

test('max_conns: the connection stalled longest is evicted, not a newer one still in its TLS handshake', async () => {
  const o = await oracleWith({ server: { timeout: 60, max_conns: 6 } });
  const w = new Wire(o, { readTimeoutMs: 30000 });
  const { id, gen } = await makeRecord(w);
  // five connections that handshake, send one byte and go quiet
  const quiet: TLSSocket[] = [];
  for (let i = 0; i < 5; i++) {
    const s = (await tlsTry(o.port, {}))!;
    s.on('error', () => undefined);
    s.write(Uint8Array.of(Op.CHALLENGE_CREATE));
    quiet.push(s);
  }
  await sleep(2500); // quiet for longer than a client's think time (argon2): stalled
  // a real client whose TCP connection is up but whose handshake has not started yet
  const raw = await tcp(o.port);
  await sleep(100);
  // the connection that pushes the oracle over max_conns
  const extra = await tcp(o.port);
  await sleep(300);
  assert.not.ok(raw.destroyed, 'the client in its handshake was not evicted');
  const sock = await new Promise<TLSSocket>((res, rej) => {
    const s = tlsConnect({ socket: raw, servername: 'localhost', ca: readFileSync(o.certPath), checkServerIdentity: () => undefined }, () => res(s));
    s.once('error', rej);
  });
  const c = new StreamConn(sock, 10000);
  const req = msg.buildRequest(Op.GET, id, randomAlpha());
  c.write(msg.challengeCreatePacket(req));
  const ch = await reply(c, CHALLENGE_SIZE, 'challenge on the connection that was mid-handshake');
  assert.ok(ch !== FAILED, 'it is served');
  c.close();
  await sleep(200);
  const evicted = quiet.filter((s) => s.destroyed || s.readableEnded).length;
  assert.ok(evicted >= 1, `a quiet connection was evicted instead (${evicted})`);
  for (const s of quiet) s.destroy();
  extra.destroy();
  await assertGet(o, w, id, gen, 'afterwards');
  await stop(o);
});

// ------------------------------------------------------------------ 6. permissions, start-up

test('start-up warns about a datadir or MAC key other users can read, naming the chmod', async () => {
  const o = await oracleWith({});
  await stop(o);
  chmodSync(o.datadir, 0o755);
  chmodSync(join(o.datadir, 'key'), 0o644);
  const o2 = await oracleWith({ datadir: o.datadir });
  const log = o2.stderr();
  assert.match(log, `chmod 700 ${o.datadir}`);
  assert.match(log, `chmod 600 ${join(o.datadir, 'key')}`);
  await stop(o2);
  chmodSync(o.datadir, 0o700);
  chmodSync(join(o.datadir, 'key'), 0o600);
  const o3 = await oracleWith({ datadir: o.datadir });
  assert.not.match(o3.stderr(), /chmod/, 'no warning when the modes are right');
  await stop(o3);
});

test('start-up never hangs: datadir under /proc fails with one line', async () => {
  const dir = tmp('sphinx-proc-');
  writeFileSync(join(dir, 'sphinx.cfg'), serverConfigText({ address: '127.0.0.1', port: 0, datadir: '/proc/sphinxdata', startup_timeout: 3 }));
  const r = await runOracle(['--config', join(dir, 'sphinx.cfg')], { cwd: dir, timeoutMs: 15000 });
  assert.is(r.code, 1, `exit code 1 (stderr: ${r.stderr})`);
  assert.is(r.stderr.trim().split('\n').length, 1, 'one line');
  assert.match(r.stderr, /\/proc\/sphinxdata/);
});

// ------------------------------------------------------------------ operator logs, fail2ban

test('a health probe (TLS handshake, then close) is not logged as a failed request; log_peers logs real failures with the address', async () => {
  const o = await oracleWith({ server: { verbose: true, log_peers: true, timeout: 20 } });
  const w = new Wire(o);
  const { id } = await makeRecord(w);
  const before = o.stderr().length;
  for (let i = 0; i < 3; i++) {
    const s = (await tlsTry(o.port, {}))!;
    s.end();
    await new Promise((r) => s.once('close', r));
  }
  const t = await tcp(o.port);
  t.destroy();
  await sleep(300);
  const probeLog = o.stderr().slice(before);
  assert.not.match(probeLog, /fail|failed/i, `probes logged nothing as failed:\n${probeLog}`);
  // a bad puzzle solution and a plain-text client: failed requests with the address
  const req = msg.buildRequest(Op.GET, id, randomAlpha());
  const ch = await w.challenge(req);
  assert.ok(ch !== FAILED);
  const c = await w.connect();
  const good = await solve(ch.n, ch.k, msg.puzzleSeed(ch.bytes, req));
  c.write(msg.challengeVerifyPacket(ch.bytes, req, new Uint8Array(good.length))); // all zeros: refused
  assert.is(await reply(c, msg.GET_REPLY_SIZE, 'bad solution'), FAILED);
  c.close();
  const plain = await tcp(o.port);
  plain.write('GET / HTTP/1.0\r\n\r\n');
  await new Promise((r) => plain.once('close', r));
  await sleep(300);
  const lines = o.stderr().slice(before).split('\n').filter((l) => / failed request from /.test(l));
  assert.ok(lines.some((l) => /failed request from 127\.0\.0\.1: GET \(bad puzzle solution\)/.test(l)), `bad solution logged:\n${lines.join('\n')}`);
  assert.ok(lines.some((l) => /failed request from 127\.0\.0\.1: TLS handshake/.test(l)), 'plain text logged');
  const logFile = join(tmp('sphinx-f2b-'), 'oracle.log');
  writeFileSync(logFile, o.stderr());
  await stop(o);

  // contrib/fail2ban: the filter matches exactly these lines
  const filter = join(ROOT, 'contrib/fail2ban/filter.d/sphinx-oracle.conf');
  assert.ok(existsSync(filter), 'the filter exists');
  const which = spawnSync('sh', ['-c', 'command -v fail2ban-regex']);
  if (which.status !== 0) {
    console.log('  (fail2ban-regex not installed: the filter is checked by its regex only)');
    return;
  }
  const r = spawnSync('fail2ban-regex', ['--print-all-matched', logFile, filter], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const m = /Lines: \d+ lines, \d+ ignored, (\d+) matched/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.is(Number(m![1]), lines.length, `fail2ban matches every failed-request line and nothing else:\n${r.stdout}`);
  assert.match(r.stdout, /127\.0\.0\.1/);
});

test.run();
