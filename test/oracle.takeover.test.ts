// An existing pwdsphinx oracle's datadir is served as is: the datadir the
// reference oracle left after the transcripts.json session (its MAC key and
// every record file, difficulty states included) is written to disk, our
// oracle starts on it, and the client side of the protocol, run by hand over
// TLS, gets the reference's passwords back (GET) and the host's user list
// (READ), with the difficulty continuing from the reference's stored state.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { StreamConn } from '../client/conn.js';
import { utf8, xor } from '../shared/bytes.js';
import { CHALLENGE_SIZE, Op } from '../shared/constants.js';
import * as equihash from '../shared/equihash.js';
import * as msg from '../shared/messages.js';
import { derive } from '../shared/password.js';
import { decodeDifficulty } from '../shared/ratelimit.js';
import { decodeUsers } from '../shared/userlist.js';
import { serverConfig } from '../oracle/config.js';
import { silentLogger } from '../oracle/log.js';
import { startServer, type OracleServer } from '../oracle/server.js';
import { hex, loadVectors, toHex } from './helpers/vectors.js';
import { authKeypair, checkDigit, open as openSealed, passHash, recordId, sealKey, unpackRule, userListId, challenge as oprfChallenge, finish, signDetached } from '../client/crypto.js';

const T = loadVectors('transcripts');
const MK = hex(T.setup.masterkey);
const HOST = 'example.com';
let dir = '';
let datadir = '';
let server: OracleServer;
let ca = '';
const clock = T.setup.fixed_time as number;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oracle-takeover-'));
  datadir = join(dir, 'data');
  mkdirSync(datadir, { mode: 0o700 });
  // the reference's datadir after the whole session
  const files = new Map<string, string>();
  for (const s of T.steps as Array<{ datadir_changed: Record<string, string>; datadir_removed: string[] }>) {
    for (const [p, v] of Object.entries(s.datadir_changed)) files.set(p, v);
    for (const p of s.datadir_removed) files.delete(p);
  }
  for (const [p, v] of files) {
    mkdirSync(dirname(join(datadir, p)), { recursive: true, mode: 0o700 });
    writeFileSync(join(datadir, p), hex(v), { mode: 0o600 });
  }
  writeFileSync(join(datadir, 'key'), hex(T.setup.server_mac_key), { mode: 0o600 });
  const cfg = serverConfig({ server: { address: '127.0.0.1', port: '0', datadir } }, dir);
  server = await startServer({ config: cfg, now: () => clock, logger: silentLogger });
  ca = readFileSync(server.certPath, 'latin1');
});
test.after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function connect(): Promise<StreamConn> {
  const sock = tlsConnect({ host: '127.0.0.1', port: server.port, ca, servername: 'localhost' });
  await once(sock, 'secureConnect');
  return new StreamConn(sock, 10000);
}

/** Connection 1 + solve + connection 2; the request continues on the returned connection. Also returns n. */
async function verified(req: Uint8Array): Promise<{ c: StreamConn; n: number }> {
  let c = await connect();
  c.write(msg.challengeCreatePacket(req));
  const ch = msg.parseChallenge(await c.read(CHALLENGE_SIZE));
  c.close();
  const sol = await equihash.solve(ch.n, ch.k, msg.puzzleSeed(ch.bytes, req));
  c = await connect();
  c.write(msg.challengeVerifyPacket(ch.bytes, req, sol));
  return { c, n: ch.n };
}

/** The client's GET, by hand: OPRF, argon2, rule, check digit, derive. */
async function getPassword(user: string, pwd: string): Promise<string> {
  const id = recordId(MK, user, HOST);
  const { r, alpha } = oprfChallenge(utf8(pwd));
  const { c } = await verified(msg.buildRequest(Op.GET, id, alpha));
  const { beta, rules } = msg.parseGetReply(await c.read(msg.GET_REPLY_SIZE));
  c.close();
  const rwd = await finish(utf8(pwd), r, alpha, beta, id);
  const rule = unpackRule(sealKey(MK), rules);
  assert.is(checkDigit(rwd, true), rule.checkDigit, `${user}: check digit`);
  return derive(xor(passHash(rwd), rule.xormask), rule.classes, rule.size, rule.symbols);
}

test('GET: the reference passwords come back from its datadir', async () => {
  const results = new Map((T.steps as Array<{ step: string; result: unknown }>).map((s) => [s.step, s.result]));
  // user1 was changed, committed, then undone: the original password is current again
  assert.is(await getPassword('user1', 'asdf'), results.get('create user1'));
  assert.is(await getPassword('user3', 'asdf'), 'Tr0ub4dor&3');
});

test('READ: the user list, and the difficulty continues from the stored state', async () => {
  const uid = userListId(MK, HOST);
  const before = decodeDifficulty(readFileSync(join(datadir, toHex(uid), 'difficulty')));
  assert.ok(before, 'the reference left a difficulty state');
  const { c, n } = await verified(msg.buildRequest(Op.READ, uid));
  const kp = authKeypair(MK, uid, new Uint8Array(0), false);
  const a = msg.parseAuthChallenge(await c.read(32), false);
  c.write(signDetached(kp.privateKey, a.nonce));
  const head = await c.read(2);
  const sealed = msg.parseBlob(new Uint8Array([...head, ...(await c.read(msg.blobBodySize(head)))]));
  c.close();
  assert.equal(decodeUsers(openSealed(sealKey(MK), sealed)), ['user1', 'user3']);
  const after = decodeDifficulty(readFileSync(join(datadir, toHex(uid), 'difficulty')))!;
  assert.is(after.ts, Math.floor(clock));
  assert.ok(after.level > before!.level || (after.level === before!.level && after.count === before!.count + 1), 'state advanced from the reference one');
  assert.is(n, [60, 65, 70, 75, 80, 85, 90, 95, 100, 105, 110, 115, 120][after.level], 'challenge level = stored level');
});

test.run();
