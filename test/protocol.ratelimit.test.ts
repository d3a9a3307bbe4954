// shared/ratelimit.ts against ratelimit.json (pwdsphinx 1.0.16 oracle.create_challenge /
// verify_challenge), plus the properties the reference lacks (replay cache, bounds).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadVectors, hex, toHex } from './helpers/vectors.js';
import { concat } from '../shared/bytes.js';
import { DIFFICULTIES, Op, RATE_LIMIT_DEFAULTS } from '../shared/constants.js';
import {
  ReplayCache,
  TOP_LEVEL,
  decodeDifficulty,
  encodeDifficulty,
  levelOf,
  nextDifficulty,
  timeoutOf,
  type DifficultyState,
} from '../shared/ratelimit.js';
import { checkChallenge, makeChallenge } from '../oracle/challenge.js';
import {
  buildRequest,
  challengeVerifyPacket,
  encodeChallengeHead,
  parseChallenge,
  parseRequest,
  parseVerifyPacket,
  puzzleSeed,
} from '../shared/messages.js';
import { ProtocolError } from '../shared/errors.js';
import { sodium } from '../oracle/crypto.js';

const V = loadVectors('ratelimit');
const macKey = hex(V.mac_key);
const cfg = { rl_decay: V.rl_decay as number, rl_threshold: V.rl_threshold as number };
const grace = V.rl_gracetime as number;
const OPS: Record<string, number> = { GET: Op.GET, CHANGE: Op.CHANGE, DELETE: Op.DELETE, COMMIT: Op.COMMIT, UNDO: Op.UNDO, READ: Op.READ };
// solsize as protocol.md §4 states it (4 + 2^k (n/(k+1) + 1) / 8), to size the vectors' solutions independently.
const isRange = (e: unknown): boolean => e instanceof RangeError;
const isProtocol = (e: unknown): boolean => e instanceof ProtocolError;
const solsize = (n: number, k: number): number => 4 + ((1 << k) * (Math.floor(n / (k + 1)) + 1)) / 8;

test('vector settings are the protocol defaults and the DIFFICULTIES table', () => {
  assert.equal({ ...cfg, rl_gracetime: grace }, { ...RATE_LIMIT_DEFAULTS });
  assert.equal(V.difficulties, DIFFICULTIES.map((d) => ({ ...d })));
  DIFFICULTIES.forEach((d, i) => {
    assert.is(levelOf(d.n, d.k), i);
    assert.is(timeoutOf(d.n, d.k), d.timeout);
  });
  assert.is(levelOf(61, 4), -1);
  assert.is(levelOf(60, 5), -1);
  assert.throws(() => timeoutOf(60, 3), isRange);
});

for (const c of V.cases) {
  test(`cases[${c.op}]: challenge, MAC, seed and verify packet byte for byte`, () => {
    const req = hex(c.request);
    assert.is(req.length, c.request_len);
    // The request as our client builds it.
    const op = OPS[c.op]!;
    const parsed = parseRequest(req);
    assert.is(parsed.op, op);
    assert.equal(buildRequest(op, parsed.id, parsed.alpha ?? undefined), req);

    const level = levelOf(c.n, c.k);
    assert.is(level, 0);
    const challenge = makeChallenge(macKey, req, level, c.timestamp);
    assert.is(toHex(challenge), c.challenge_response);
    assert.is(toHex(challenge.subarray(0, 10)), c.challenge);
    assert.is(toHex(encodeChallengeHead(c.n, c.k, c.timestamp)), c.challenge);
    assert.is(toHex(challenge.subarray(10)), c.mac);
    // The MAC is keyed BLAKE2b over req | n | k | ts (independently computed here).
    assert.is(toHex(sodium.crypto_generichash(32, concat(req, hex(c.challenge)), macKey)), c.mac);

    const ch = parseChallenge(challenge);
    assert.equal([ch.n, ch.k, ch.ts, toHex(ch.mac)], [c.n, c.k, c.timestamp, c.mac]);

    const seed = puzzleSeed(challenge, req);
    assert.is(seed.length, c.seed_len);
    assert.is(toHex(seed), c.seed);

    const solution = hex(c.solution);
    assert.is(solution.length, solsize(c.n, c.k));
    const packet = challengeVerifyPacket(challenge, req, solution);
    assert.is(toHex(packet), c.client_verify_packet);
    const back = parseVerifyPacket(packet, solsize);
    assert.equal(back.challenge, challenge);
    assert.equal(back.req, req);
    assert.equal(back.solution, solution);

    const verdict = checkChallenge(macKey, challenge, req, c.timestamp + 5, grace);
    assert.is(verdict.ok, c.oracle_accepts_at_ts_plus_5);
    if (verdict.ok) {
      assert.equal([verdict.n, verdict.k, verdict.ts, verdict.level], [c.n, c.k, c.timestamp, 0]);
      assert.is(verdict.expiresAt, c.timestamp + DIFFICULTIES[0]!.timeout + grace);
    }
  });
}

test('freshness[]: accepted until ts + timeout + gracetime inclusive, fractional now compared as is', () => {
  const c = V.cases[0];
  const req = hex(c.request);
  const challenge = makeChallenge(macKey, req, 0, c.timestamp);
  assert.ok(V.freshness.length >= 5);
  for (const f of V.freshness) {
    const r = checkChallenge(macKey, challenge, req, c.timestamp + f.seconds_after_integer_ts, grace);
    assert.is(r.ok ? 'accepted' : 'fail', f.result, `at ts+${f.seconds_after_integer_ts}`);
    if (!r.ok) assert.match(r.reason, /expired/);
  }
});

test('freshness at every level: the boundary moves with timeout(n,k) and gracetime', () => {
  const req = hex(V.cases[0].request);
  const ts = 1700000000;
  for (let level = 0; level <= TOP_LEVEL; level++) {
    const challenge = makeChallenge(macKey, req, level, ts + 0.9); // ts is floor(now)
    assert.is(parseChallenge(challenge).ts, ts);
    const last = ts + DIFFICULTIES[level]!.timeout + grace;
    assert.ok(checkChallenge(macKey, challenge, req, last, grace).ok);
    assert.not.ok(checkChallenge(macKey, challenge, req, last + 0.01, grace).ok);
    assert.not.ok(checkChallenge(macKey, challenge, req, last, grace - 1).ok);
    assert.ok(checkChallenge(macKey, challenge, req, last - 1, grace - 1).ok);
  }
});

test('tampering[]: MAC-covered changes (n, k, ts, mac, request) are rejected', () => {
  const names = V.tampering.map((t: { what: string }) => t.what);
  const nChanged = V.tampering.find((t: { what: string }) => /n changed/.test(t.what));
  const reqChanged = V.tampering.find((t: { what: string }) => /request id changed/.test(t.what));
  assert.ok(nChanged && reqChanged, `tampering cases: ${names}`);
  assert.is(nChanged.result, 'fail');
  assert.is(reqChanged.result, 'fail');

  for (const c of V.cases) {
    const req = hex(c.request);
    const challenge = makeChallenge(macKey, req, 0, c.timestamp);
    const now = c.timestamp + 5;
    assert.ok(checkChallenge(macKey, challenge, req, now, grace).ok);
    const reject = (ch: Uint8Array, rq: Uint8Array, why: string): void => {
      const r = checkChallenge(macKey, ch, rq, now, grace);
      assert.not.ok(r.ok, why);
      if (!r.ok) assert.type(r.reason, 'string');
    };
    // n changed to the next level: a valid difficulty, but not the one MAC'd.
    const n2 = challenge.slice();
    n2[0] = DIFFICULTIES[1]!.n;
    reject(n2, req, 'n changed');
    const k2 = challenge.slice();
    k2[1] = 5;
    reject(k2, req, 'k changed');
    const ts2 = challenge.slice();
    ts2[2]! += 60; // a later ts would extend the lifetime
    reject(ts2, req, 'ts changed');
    const mac2 = challenge.slice();
    mac2[41]! ^= 1;
    reject(mac2, req, 'mac changed');
    // request id changed after the challenge
    const id2 = req.slice();
    id2[1]! ^= 0x80;
    reject(challenge, id2, 'request id changed');
    // op changed: a GET challenge cannot be spent on a DELETE
    if (req.length === 65) {
      const op2 = req.slice();
      op2[0] = req[0] === Op.DELETE ? Op.GET : Op.DELETE;
      reject(challenge, op2, 'op changed');
      const alpha2 = req.slice();
      alpha2[64]! ^= 1;
      reject(challenge, alpha2, 'alpha changed');
    }
    // malformed inputs: reported, never thrown
    reject(challenge.subarray(0, 41), req, 'short challenge');
    reject(challenge, req.subarray(0, req.length - 1), 'short request');
    reject(challenge, concat(Uint8Array.of(Op.CREATE), req.subarray(1)), 'CREATE is not rate-limited');
    // another oracle's key
    const other = makeChallenge(new Uint8Array(32).fill(7), req, 0, c.timestamp);
    reject(other, req, 'other key');
  }
});

test('tampering[]: a short solution is a size error for the verify packet codec', () => {
  const t = V.tampering.find((x: { what: string }) => /short solution/.test(x.what));
  assert.is(t.result, 'fail');
  const c = V.cases[0];
  const packet = hex(c.client_verify_packet);
  assert.throws(() => parseVerifyPacket(packet.subarray(0, packet.length - 1), solsize), isProtocol);
  assert.throws(() => parseVerifyPacket(concat(packet, Uint8Array.of(0)), solsize), isProtocol);
});

test('checkChallenge: a correctly MAC\'d but unknown difficulty is rejected', () => {
  const req = hex(V.cases[0].request);
  for (const [n, k] of [[61, 4], [60, 5], [125, 4], [0, 0]] as const) {
    const head = encodeChallengeHead(n, k, 1700000000);
    const ch = concat(head, sodium.crypto_generichash(32, concat(req, head), macKey));
    const r = checkChallenge(macKey, ch, req, 1700000000, grace);
    assert.not.ok(r.ok);
    if (!r.ok) assert.match(r.reason, /unknown difficulty/);
  }
});

test('difficulty_sequence_same_id[]: replayed through nextDifficulty + encodeDifficulty', () => {
  assert.ok(V.difficulty_sequence_same_id.length >= 20);
  let stored: Uint8Array | null = null; // the difficulty file; none before the first challenge
  for (const [i, e] of V.difficulty_sequence_same_id.entries()) {
    const state = nextDifficulty(stored === null ? null : decodeDifficulty(stored), e.now, cfg);
    stored = encodeDifficulty(state);
    assert.is(toHex(stored), e.stored_difficulty, `entry ${i} at ${e.now}`);
    assert.equal(state, { level: e.stored_level, count: e.stored_count, ts: e.stored_ts });
    assert.equal(decodeDifficulty(stored), state);
    const { n, k } = DIFFICULTIES[state.level]!;
    assert.equal([n, k], [e.n, e.k]);
    // The challenge carries int(now) as u64le.
    const challenge = makeChallenge(macKey, hex(V.cases[0].request), state.level, e.now);
    assert.is(toHex(challenge.subarray(2, 10)), e.ts_le);
  }
});

test('difficulty_no_record_dir[]: no state is kept, so the level stays 0', () => {
  for (const e of V.difficulty_no_record_dir) {
    const state = nextDifficulty(null, e.now, cfg);
    assert.equal([DIFFICULTIES[state.level]!.n, DIFFICULTIES[state.level]!.k], [e.n, e.k]);
    assert.equal(state, { level: 0, count: 0, ts: Math.floor(e.now) });
  }
});

test('nextDifficulty: out-of-range level clamps to the top, count 0', () => {
  for (const level of [13, 200, 255]) {
    const s = nextDifficulty({ level, count: 7, ts: 1700000000 }, 1700000001, cfg);
    assert.equal(s, { level: TOP_LEVEL, count: 0, ts: 1700000001 });
  }
  // a 9-byte file with level 0xff decodes and then clamps
  const st = decodeDifficulty(hex('ff0500000000f15365'));
  assert.equal(st, { level: 255, count: 5, ts: 1700000000 });
  assert.is(nextDifficulty(st, 1700000000, cfg).level, TOP_LEVEL);
});

test('nextDifficulty: decay boundary uses the fractional now; periods are floored', () => {
  const ts = 1700000000;
  const at = (level: number, count: number, now: number): DifficultyState => nextDifficulty({ level, count, ts }, now, cfg);
  // exactly rl_decay later: not yet decayed (strict >), so the level rises
  assert.equal(at(5, 1, ts + 1800), { level: 6, count: 0, ts: ts + 1800 });
  // half a second more: one period
  assert.equal(at(5, 1, ts + 1800.5), { level: 4, count: 0, ts: ts + 1800 });
  assert.equal(at(5, 0, ts + 3599.9), { level: 4, count: 0, ts: ts + 3599 });
  assert.equal(at(5, 0, ts + 3600.5), { level: 3, count: 0, ts: ts + 3600 });
  // never below 0
  assert.equal(at(2, 3, ts + 1800 * 10), { level: 0, count: 0, ts: ts + 18000 });
  // level 0 does not decay: counting goes on as the reference does
  assert.equal(at(0, 1, ts + 1800 * 10), { level: 1, count: 0, ts: ts + 18000 });
  // the top level stays and counts
  assert.equal(at(TOP_LEVEL, 4, ts + 1), { level: TOP_LEVEL, count: 5, ts: ts + 1 });
  // a higher threshold needs more requests per level
  const cfg3 = { rl_decay: 1800, rl_threshold: 3 };
  let s: DifficultyState | null = null;
  const levels: number[] = [];
  for (let i = 0; i < 9; i++) {
    s = nextDifficulty(s, ts + i, cfg3);
    levels.push(s.level);
  }
  assert.equal(levels, [0, 0, 0, 0, 1, 1, 1, 1, 2]);
  // count saturates at u32 max instead of overflowing the file
  assert.is(nextDifficulty({ level: TOP_LEVEL, count: 0xffffffff, ts }, ts, cfg).count, 0xffffffff);
  encodeDifficulty(nextDifficulty({ level: TOP_LEVEL, count: 0xffffffff, ts }, ts, cfg));
});

test('nextDifficulty / makeChallenge reject an unusable clock or config', () => {
  for (const now of [NaN, -1, Infinity, 2 ** 32]) {
    assert.throws(() => nextDifficulty(null, now, cfg), isRange);
    assert.throws(() => makeChallenge(macKey, hex(V.cases[0].request), 0, now), isRange);
  }
  assert.throws(() => nextDifficulty(null, 1, { rl_decay: 0, rl_threshold: 1 }), isRange);
  assert.throws(() => makeChallenge(macKey, hex(V.cases[0].request), 13, 1), isRange);
  assert.throws(() => makeChallenge(macKey.subarray(1), hex(V.cases[0].request), 0, 1), isRange);
  assert.throws(() => makeChallenge(macKey, hex(V.cases[0].request).subarray(1), 0, 1), isRange);
});

test('decodeDifficulty: anything but 9 bytes is "no state" (level 0), encode validates', () => {
  for (const len of [0, 1, 8, 10, 64]) assert.is(decodeDifficulty(new Uint8Array(len)), null);
  assert.is(nextDifficulty(decodeDifficulty(new Uint8Array(5)), 1700000000.5, cfg).level, 0);
  const b = hex('0c0300000000f15365');
  assert.equal(decodeDifficulty(b), { level: 12, count: 3, ts: 1700000000 });
  // decoding a view into a larger buffer
  assert.equal(decodeDifficulty(concat(Uint8Array.of(9, 9), b).subarray(2)), { level: 12, count: 3, ts: 1700000000 });
  assert.throws(() => encodeDifficulty({ level: 256, count: 0, ts: 0 }), isRange);
  assert.throws(() => encodeDifficulty({ level: 0, count: -1, ts: 0 }), isRange);
  assert.throws(() => encodeDifficulty({ level: 0, count: 0, ts: 2 ** 32 }), isRange);
  assert.throws(() => encodeDifficulty({ level: 0, count: 0.5, ts: 0 }), isRange);
});

test('ReplayCache: a used MAC is rejected until its challenge expires', () => {
  const c = V.cases[0];
  const req = hex(c.request);
  const challenge = makeChallenge(macKey, req, 0, c.timestamp);
  const v = checkChallenge(macKey, challenge, req, c.timestamp + 1, grace);
  assert.ok(v.ok);
  if (!v.ok) return;
  const mac = challenge.subarray(10);
  const cache = new ReplayCache(16);
  assert.ok(cache.checkAndRemember(mac, v.expiresAt, c.timestamp + 1));
  assert.not.ok(cache.checkAndRemember(mac.slice(), v.expiresAt, c.timestamp + 2), 'replay');
  assert.not.ok(cache.checkAndRemember(mac, v.expiresAt, v.expiresAt), 'replay at the last accepted instant');
  assert.ok(cache.has(mac, v.expiresAt));
  // another challenge is independent
  const other = makeChallenge(macKey, hex(V.cases[1].request), 0, c.timestamp).subarray(10);
  assert.ok(cache.checkAndRemember(other, v.expiresAt, c.timestamp + 3));
  assert.is(cache.size, 2);
  // after expiry the entries are dropped (checkChallenge rejects that challenge by then)
  assert.not.ok(checkChallenge(macKey, challenge, req, v.expiresAt + 0.5, grace).ok);
  cache.prune(v.expiresAt + 0.5);
  assert.is(cache.size, 0);
  assert.not.ok(cache.has(mac, v.expiresAt + 0.5));
  // an already-expired challenge is not stored
  assert.ok(cache.checkAndRemember(mac, v.expiresAt, v.expiresAt + 1));
  assert.is(cache.size, 0);
});

test('ReplayCache: bounded; when full the entries expiring soonest are evicted', () => {
  const cache = new ReplayCache(4);
  const mac = (i: number): Uint8Array => new Uint8Array(32).fill(i);
  const now = 1000;
  // expiries out of order
  const exp = [1050, 1010, 1040, 1020];
  exp.forEach((e, i) => assert.ok(cache.checkAndRemember(mac(i), e, now)));
  assert.is(cache.size, 4);
  assert.ok(cache.checkAndRemember(mac(9), 1030, now));
  assert.is(cache.size, 4);
  assert.not.ok(cache.has(mac(1), now), 'soonest (1010) evicted');
  for (const i of [0, 2, 3, 9]) assert.ok(cache.has(mac(i), now));
  // replays of the survivors still rejected
  for (const i of [0, 2, 3, 9]) assert.not.ok(cache.checkAndRemember(mac(i), 2000, now));
  // expired entries are purged before live ones are evicted
  assert.ok(cache.checkAndRemember(mac(10), 1100, 1025)); // 1020 expired at 1025
  for (const i of [0, 2, 9, 10]) assert.ok(cache.has(mac(i), 1025), `kept ${i}`);
  assert.is(cache.size, 4);
  // full of live entries and the new one would expire first: it is the one not kept
  assert.ok(cache.checkAndRemember(mac(11), 1026, 1025));
  assert.not.ok(cache.has(mac(11), 1025));
  for (const i of [0, 2, 9, 10]) assert.ok(cache.has(mac(i), 1025), `still kept ${i}`);
  // many inserts never exceed the bound, and the latest-expiring survive
  const big = new ReplayCache(100);
  for (let i = 0; i < 1000; i++) {
    const m = new Uint8Array(32);
    new DataView(m.buffer).setUint32(0, i);
    big.checkAndRemember(m, 2000 + ((i * 7919) % 1000), 1000);
    assert.ok(big.size <= 100);
  }
  let kept = 0;
  for (let i = 0; i < 1000; i++) {
    const m = new Uint8Array(32);
    new DataView(m.buffer).setUint32(0, i);
    if (big.has(m, 1000)) {
      kept++;
      assert.ok((i * 7919) % 1000 >= 900, `entry ${i} should have been evicted`);
    }
  }
  assert.is(kept, 100);
  assert.throws(() => new ReplayCache(0), isRange);
});

test('ReplayCache.isFull: true only while every slot guards an unexpired challenge', () => {
  const cache = new ReplayCache(2);
  const mac = (i: number): Uint8Array => new Uint8Array(32).fill(i);
  assert.not.ok(cache.isFull(1000));
  assert.ok(cache.checkAndRemember(mac(1), 1010, 1000));
  assert.not.ok(cache.isFull(1000));
  assert.ok(cache.checkAndRemember(mac(2), 1020, 1000));
  assert.ok(cache.isFull(1000));
  assert.ok(cache.isFull(1010), 'mac(1) is still live at its expiry second');
  assert.not.ok(cache.isFull(1011), 'mac(1) expired: a slot is free');
  assert.is(cache.size, 1);
});

test.run();
