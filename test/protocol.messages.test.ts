// shared/messages.ts: every codec round-trips, and every parser refuses bytes
// of the wrong size or kind with ProtocolError (OracleFailure for "\x00\x04fail").
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { concat, u16be } from '../shared/bytes.js';
import { FAIL, OK, Op, RATE_LIMITED_OPS, RULE_SIZE, SEAL_OVERHEAD } from '../shared/constants.js';
import { ProtocolError, UsageError } from '../shared/errors.js';
import * as M from '../shared/messages.js';

const isRange = (e: unknown): boolean => e instanceof RangeError;
const isProtocol = (e: unknown): boolean => e instanceof ProtocolError;
const isOracleFail = (e: unknown): boolean => e instanceof M.OracleFailure && e instanceof ProtocolError;

const fill = (len: number, v: number): Uint8Array => new Uint8Array(len).fill(v);
const id = fill(32, 0x11);
const alpha = fill(32, 0x22);
const beta = fill(32, 0x33);
const nonce = fill(32, 0x44);
const pk = fill(32, 0x55);
const rule = fill(RULE_SIZE, 0x66);
const sig = fill(64, 0x77);
const sealed = fill(SEAL_OVERHEAD + 5, 0x88);

/** A sign callback that records what it was asked to sign. */
function recorder(): { sign: (m: Uint8Array) => Uint8Array; seen: Uint8Array[] } {
  const seen: Uint8Array[] = [];
  return { seen, sign: (m) => (seen.push(m.slice()), sig) };
}

test('isFail / isOk / parseOk recognise exactly the fixed packets', () => {
  assert.ok(M.isFail(FAIL));
  assert.ok(M.isFail(Uint8Array.from(Buffer.from('\x00\x04fail', 'latin1'))));
  assert.not.ok(M.isFail(FAIL.subarray(0, 5)));
  assert.not.ok(M.isFail(concat(FAIL, Uint8Array.of(0))));
  assert.not.ok(M.isFail(Uint8Array.from(Buffer.from('\x00\x04faiL', 'latin1'))));
  assert.ok(M.isOk(OK));
  assert.not.ok(M.isOk(Uint8Array.of(0x6f)));
  M.parseOk(OK);
  assert.throws(() => M.parseOk(FAIL), isOracleFail);
  assert.throws(() => M.parseOk(Uint8Array.of(0x6f, 0x6c)), isProtocol);
  assert.throws(() => M.parseOk(new Uint8Array(0)), isProtocol);
});

test('requests: build/parse for every rate-limited op, READ without alpha', () => {
  for (const op of RATE_LIMITED_OPS) {
    const req = op === Op.READ ? M.buildRequest(op, id) : M.buildRequest(op, id, alpha);
    assert.is(req.length, M.requestSize(op));
    assert.is(req.length, op === Op.READ ? 33 : 65);
    assert.ok(M.isValidRequest(req));
    const r = M.parseRequest(req);
    assert.is(r.op, op);
    assert.equal(r.id, id);
    assert.equal(r.alpha, op === Op.READ ? null : alpha);
    // wrong sizes
    assert.throws(() => M.parseRequest(req.subarray(0, req.length - 1)), isProtocol);
    assert.throws(() => M.parseRequest(concat(req, Uint8Array.of(0))), isProtocol);
    assert.not.ok(M.isValidRequest(req.subarray(1)));
  }
  assert.throws(() => M.buildRequest(Op.READ, id, alpha), isRange);
  assert.throws(() => M.buildRequest(Op.GET, id), isRange);
  assert.throws(() => M.buildRequest(Op.GET, id.subarray(1), alpha), isRange);
  assert.throws(() => M.buildRequest(Op.CREATE, id, alpha), isRange);
  // CREATE, the puzzle ops and unknown ops are not rate-limited requests
  for (const op of [Op.CREATE, Op.CHALLENGE_CREATE, Op.CHALLENGE_VERIFY, 0x69, 0x01]) {
    assert.throws(() => M.requestSize(op), isProtocol);
    assert.throws(() => M.parseRequest(concat(Uint8Array.of(op), id, alpha)), isProtocol);
    assert.not.ok(M.isValidRequest(concat(Uint8Array.of(op), id, alpha)));
  }
  assert.throws(() => M.parseRequest(new Uint8Array(0)), isProtocol);
  // a 65-byte READ is wrong too
  assert.throws(() => M.parseRequest(concat(Uint8Array.of(Op.READ), id, alpha)), isProtocol);
});

test('parsers return copies, not views', () => {
  const req = M.buildRequest(Op.GET, id, alpha);
  const r = M.parseRequest(req);
  req.fill(0);
  assert.equal(r.id, id);
  assert.equal(r.alpha, alpha);
});

test('puzzle packets: challenge create, challenge, seed, verify header and packet', () => {
  const req = M.buildRequest(Op.GET, id, alpha);
  const p1 = M.challengeCreatePacket(req);
  assert.is(p1[0], 0x5a);
  assert.equal(p1.subarray(1), req);
  const back = M.parseChallengeCreatePacket(p1);
  assert.equal(back.req, req);
  assert.is(back.request.op, Op.GET);
  assert.throws(() => M.parseChallengeCreatePacket(concat(Uint8Array.of(0xa5), req)), isProtocol);
  assert.throws(() => M.parseChallengeCreatePacket(p1.subarray(0, 40)), isProtocol);
  assert.throws(() => M.challengeCreatePacket(req.subarray(1)), isRange);

  const head = M.encodeChallengeHead(75, 4, 0x0102030405);
  assert.equal(head, Uint8Array.of(75, 4, 5, 4, 3, 2, 1, 0, 0, 0));
  const challenge = concat(head, fill(32, 0x99));
  const ch = M.parseChallenge(challenge);
  assert.equal([ch.n, ch.k, ch.ts], [75, 4, 0x0102030405]);
  assert.equal(ch.mac, fill(32, 0x99));
  assert.equal(ch.bytes, challenge);
  assert.throws(() => M.parseChallenge(challenge.subarray(1)), isProtocol);
  assert.throws(() => M.parseChallenge(FAIL), isOracleFail);
  const huge = challenge.slice();
  huge[9] = 0xff; // ts beyond 2^53
  assert.throws(() => M.parseChallenge(huge), isProtocol);
  assert.throws(() => M.encodeChallengeHead(256, 4, 0), isRange);
  assert.throws(() => M.encodeChallengeHead(60, 4, -1), isRange);

  assert.equal(M.puzzleSeed(challenge, req), concat(challenge, req));
  const solution = fill(36, 0xab);
  const packet = M.challengeVerifyPacket(challenge, req, solution);
  assert.equal(packet, concat(Uint8Array.of(0xa5), challenge, req, solution));
  assert.is(M.VERIFY_PREFIX_SIZE, 43);
  assert.is(M.verifyHeaderSize(Op.GET), 108);
  assert.is(M.verifyHeaderSize(Op.READ), 76);
  const hdr = M.parseVerifyHeader(packet.subarray(0, 108));
  assert.equal(hdr.challenge, challenge);
  assert.equal(hdr.req, req);
  assert.equal(hdr.request.id, id);
  assert.throws(() => M.parseVerifyHeader(packet.subarray(0, 107)), isProtocol);
  assert.throws(() => M.parseVerifyHeader(packet.subarray(0, 43)), isProtocol);
  assert.throws(() => M.parseVerifyHeader(concat(Uint8Array.of(0x5a), packet.subarray(1, 108))), isProtocol);
  const full = M.parseVerifyPacket(packet, (n, k) => (n === 75 && k === 4 ? 36 : -1));
  assert.equal(full.solution, solution);
  assert.throws(() => M.parseVerifyPacket(packet, () => 35), isProtocol);
  // READ in the verify packet
  const rreq = M.buildRequest(Op.READ, id);
  const rpacket = M.challengeVerifyPacket(challenge, rreq, solution);
  assert.is(rpacket.length, 76 + 36);
  assert.equal(M.parseVerifyPacket(rpacket, () => 36).request.alpha, null);
  // an unknown op inside the verify packet
  const bad = packet.slice();
  bad[43] = 0x69;
  assert.throws(() => M.parseVerifyPacket(bad, () => 36), isProtocol);
  assert.throws(() => M.challengeVerifyPacket(challenge, req, new Uint8Array(0)), isRange);
});

test('CREATE: request, beta, pk | rule | sig(pk | rule)', () => {
  const req = M.createRequest(id, alpha);
  assert.equal(req, concat(Uint8Array.of(0), id, alpha));
  assert.equal(M.parseCreateRequest(req), { id, alpha });
  assert.throws(() => M.parseCreateRequest(M.buildRequest(Op.GET, id, alpha)), isProtocol);
  assert.throws(() => M.parseCreateRequest(req.subarray(1)), isProtocol);

  assert.equal(M.parseBeta(beta), beta);
  assert.throws(() => M.parseBeta(FAIL), isOracleFail);
  assert.throws(() => M.parseBeta(beta.subarray(1)), isProtocol);
  assert.equal(M.parseAlpha(alpha), alpha);
  assert.throws(() => M.parseAlpha(concat(alpha, Uint8Array.of(1))), isProtocol);

  const r = recorder();
  const step2 = M.createStep2(pk, rule, r.sign);
  assert.is(step2.length, M.KEY_RULE_SIZE);
  assert.is(M.KEY_RULE_SIZE, 175);
  assert.equal(r.seen, [concat(pk, rule)]);
  assert.equal(step2, concat(pk, rule, sig));
  assert.equal(M.createStep2(pk, rule, sig), step2);
  const p = M.parseCreateStep2(step2);
  assert.equal(p, { pk, rule, signed: concat(pk, rule), sig });
  assert.throws(() => M.parseCreateStep2(step2.subarray(1)), isProtocol);
  assert.throws(() => M.createStep2(pk, rule.subarray(1), sig), isRange);
  assert.throws(() => M.createStep2(pk, rule, sig.subarray(1)), isRange);
  assert.throws(() => M.createStep2(pk, rule, () => new Uint8Array(63)), isRange);
});

test('GET reply and auth exchange', () => {
  const reply = M.getReply(beta, rule);
  assert.is(reply.length, M.GET_REPLY_SIZE);
  assert.equal(M.parseGetReply(reply), { beta, rules: rule });
  assert.throws(() => M.parseGetReply(FAIL), isOracleFail);
  assert.throws(() => M.parseGetReply(reply.subarray(0, 110)), isProtocol);

  const withBeta = M.authChallenge(nonce, beta);
  assert.equal(withBeta, concat(beta, nonce));
  assert.equal(M.parseAuthChallenge(withBeta, true), { beta, nonce });
  const plain = M.authChallenge(nonce, null);
  assert.equal(plain, nonce);
  assert.equal(M.parseAuthChallenge(plain, false), { beta: null, nonce });
  assert.throws(() => M.parseAuthChallenge(plain, true), isProtocol);
  assert.throws(() => M.parseAuthChallenge(withBeta, false), isProtocol);
  assert.throws(() => M.parseAuthChallenge(FAIL, true), isOracleFail);
  assert.throws(() => M.parseAuthChallenge(FAIL, false), isOracleFail);

  const r = recorder();
  assert.equal(M.authResponse(nonce, r.sign), sig);
  assert.equal(r.seen, [nonce]);
  assert.equal(M.parseAuthResponse(sig), sig);
  assert.throws(() => M.parseAuthResponse(sig.subarray(1)), isProtocol);
});

test('blobs: u16be len | sealed, bounds, and the fail packet read as a length', () => {
  const blob = M.encodeBlob(sealed);
  assert.equal(blob, concat(u16be(sealed.length), sealed));
  assert.is(M.blobBodySize(blob.subarray(0, 2)), sealed.length);
  assert.equal(M.parseBlob(blob), sealed);
  assert.throws(() => M.parseBlob(blob.subarray(0, blob.length - 1)), isProtocol);
  assert.throws(() => M.parseBlob(concat(blob, Uint8Array.of(0))), isProtocol);
  assert.throws(() => M.parseBlob(Uint8Array.of(0)), isProtocol);
  // a length below the seal overhead cannot be a sealed list
  assert.throws(() => M.parseBlob(concat(u16be(3), fill(3, 1))), isProtocol);
  // "\x00\x04fail" reads as length 4 followed by 4 bytes: recognised as the oracle's fail
  assert.is(M.blobBodySize(FAIL.subarray(0, 2)), 4);
  assert.throws(() => M.parseBlob(FAIL), isOracleFail);
  assert.throws(() => M.parseUserListReply(FAIL), isOracleFail);
  // the largest sealed list that fits, and one byte more
  assert.is(M.encodeBlob(new Uint8Array(0xffff)).length, 0x10001);
  assert.throws(() => M.encodeBlob(new Uint8Array(0x10000)), (e: unknown) => e instanceof UsageError);
  assert.throws(() => M.encodeBlob(new Uint8Array(SEAL_OVERHEAD - 1)), isRange);
  assert.throws(() => M.blobBodySize(Uint8Array.of(1)), isProtocol);
});

test('user-list exchange: uid | sig(uid), 00 00 or blob, new and updated lists', () => {
  const uid = fill(32, 0x12);
  const r = recorder();
  const rq = M.userListRequest(uid, r.sign);
  assert.equal(rq, concat(uid, sig));
  assert.equal(r.seen, [uid]);
  assert.is(rq.length, M.USER_LIST_REQUEST_SIZE);
  assert.equal(M.parseUserListRequest(rq), { uid, signed: uid, sig });
  assert.throws(() => M.parseUserListRequest(rq.subarray(1)), isProtocol);

  assert.is(M.parseUserListReply(M.NO_USER_LIST), null);
  assert.equal(M.parseUserListReply(M.encodeBlob(sealed)), sealed);
  assert.throws(() => M.parseUserListReply(Uint8Array.of(0)), isProtocol);
  assert.is(M.parseReadReply(new Uint8Array(0)), null);
  assert.equal(M.parseReadReply(M.encodeBlob(sealed)), sealed);

  const upk = fill(32, 0x34);
  const r2 = recorder();
  const nl = M.newUserList(upk, sealed, r2.sign);
  const blob = M.encodeBlob(sealed);
  assert.equal(nl, concat(upk, blob, sig));
  assert.equal(r2.seen, [concat(upk, blob)]);
  assert.is(M.NEW_USER_LIST_HEAD_SIZE, 34);
  assert.is(M.blobBodySize(nl.subarray(32, 34)) + 64, nl.length - 34);
  assert.equal(M.parseNewUserList(nl), { pk: upk, blob, sealed, signed: concat(upk, blob), sig });
  assert.throws(() => M.parseNewUserList(nl.subarray(0, nl.length - 1)), isProtocol);
  assert.throws(() => M.parseNewUserList(nl.subarray(0, 33)), isProtocol);

  const r3 = recorder();
  const ul = M.updatedUserList(sealed, r3.sign);
  assert.equal(ul, concat(blob, sig));
  assert.equal(r3.seen, [blob]);
  assert.equal(M.parseUpdatedUserList(ul), { blob, sealed, signed: blob, sig });
  assert.throws(() => M.parseUpdatedUserList(concat(ul, Uint8Array.of(0))), isProtocol);
  assert.throws(() => M.parseUpdatedUserList(Uint8Array.of(0)), isProtocol);
  // a length prefix that lies
  const lie = ul.slice();
  lie[1]! += 1;
  assert.throws(() => M.parseUpdatedUserList(lie), isProtocol);
});

test('parsed fields are copies, never views of a received Node Buffer', () => {
  const head = M.encodeChallengeHead(60, 4, 1234);
  const received = Buffer.from(concat(head, fill(32, 0x42)));
  const ch = M.parseChallenge(received);
  received.fill(0); // the connection code reuses or wipes its buffers
  assert.equal(ch.mac, fill(32, 0x42));
  assert.equal(ch.bytes.subarray(0, 10), head);
  assert.ok(!Buffer.isBuffer(ch.bytes), 'a plain Uint8Array');
});

test.run();
