// The client flows replayed against the reference transcripts
// (test/vectors/transcripts.json): the oracle side is the recorded bytes, the
// blinding scalars and the random values are the recorded ones, so every byte
// the client sends must equal what pwdsphinx 1.0.16 sent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { concat } from '../shared/bytes.js';
import { randomBytes } from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { OK, RULE_SIZE, SEAL_NONCE_SIZE, SYMBOLS } from '../shared/constants.js';
import { unpackRulePlaintext } from '../shared/rules.js';
import { ruleFromPositionals } from '../client/args.js';
import type { Conn } from '../client/conn.js';
import { BadCheckDigit, ClientError, Exit } from '../client/errors.js';
import * as flows from '../client/flows.js';
import { hex, loadVectors, toHex } from './helpers/vectors.js';
import { checkDigit, open, packRule, passHash, sealKey, unpackRule, challengeWith, recordId } from '../client/crypto.js';
import { sodium } from '../oracle/crypto.js';

const T = loadVectors('transcripts');
const MK = hex(T.setup.masterkey);
const SK = sealKey(MK);

interface Event {
  dir: 'c2s' | 's2c';
  hex: string;
}

/** One recorded connection: serves the oracle's bytes, records the client's. */
class ScriptConn implements Conn {
  sent: Uint8Array[] = [];
  private s2c: Uint8Array;
  private pos = 0;
  closed = false;
  constructor(
    readonly events: Event[],
    extra: Uint8Array = new Uint8Array(0),
  ) {
    this.s2c = concat(...events.filter((e) => e.dir === 's2c').map((e) => hex(e.hex)), extra);
  }
  get expected(): Uint8Array {
    return concat(...this.events.filter((e) => e.dir === 'c2s').map((e) => hex(e.hex)));
  }
  get written(): Uint8Array {
    return concat(...this.sent);
  }
  write(d: Uint8Array): void {
    assert.not.ok(this.closed, 'write after close');
    this.sent.push(Uint8Array.from(d));
  }
  async read(n: number): Promise<Uint8Array> {
    const out = this.s2c.slice(this.pos, this.pos + n);
    this.pos += out.length;
    return out;
  }
  close(): void {
    this.closed = true;
  }
}

/** The solution inside a recorded CHALLENGE_VERIFY packet: after 0xa5 | challenge(42) | req. */
function recordedSolution(conn2: Event[]): { seed: Uint8Array; solution: Uint8Array } {
  const c2s = concat(...conn2.filter((e) => e.dir === 'c2s').map((e) => hex(e.hex)));
  const reqLen = c2s[43] === 0x33 ? 33 : 65;
  const seed = c2s.slice(1, 43 + reqLen);
  // the solution is what the reference's third send() carried
  const sends = conn2.filter((e) => e.dir === 'c2s');
  return { seed, solution: hex(sends[2]!.hex) };
}

interface Replay {
  env: flows.FlowEnv;
  conns: ScriptConn[];
  randomsLeft: () => number;
}

/** Replays one recorded step, or several in a row (their connections and blindings in order). */
function replay(stepNames: string | string[], opts: { okAfterCreate?: boolean; randoms?: Uint8Array[]; rwdKeys?: boolean } = {}): Replay {
  const steps = [stepNames].flat().map((name) => {
    const st = T.steps.find((s: { step: string }) => s.step === name);
    assert.ok(st, name);
    return st;
  });
  const last = steps[steps.length - 1];
  const conns: ScriptConn[] = steps.flatMap((st) =>
    st.connections.map((events: Event[], i: number) => new ScriptConn(events, opts.okAfterCreate && st === last && i === st.connections.length - 1 ? OK : undefined)),
  );
  let next = 0;
  const rs: Uint8Array[] = steps.flatMap((st) => st.client_r.map((r: string) => hex(r)));
  const randoms = [...(opts.randoms ?? [])];
  const env: flows.FlowEnv = {
    connect: async () => {
      const c = conns[next++];
      assert.ok(c, 'more connections than recorded');
      return c;
    },
    masterkey: MK,
    rwdKeys: opts.rwdKeys ?? T.setup.rwd_keys,
    validatePassword: T.setup.validate_password,
    solve: async (n, k, seed) => {
      const rec = steps.map((st) => recordedSolution(st.connections[1])).find((r) => toHex(r.seed) === toHex(seed));
      assert.ok(rec, 'puzzle seed = challenge | req of a recorded step');
      assert.is(n, seed[0]);
      assert.is(k, seed[1]);
      return rec.solution;
    },
    blind: (pwd) => {
      const r = rs.shift();
      assert.ok(r, 'more blindings than recorded');
      return challengeWith(pwd, Uint8Array.from(r));
    },
    random: (n) => {
      const r = randoms.shift();
      assert.ok(r, `unexpected random(${n})`);
      assert.is(r.length, n);
      return Uint8Array.from(r);
    },
    warn: () => undefined,
  };
  return { env, conns, randomsLeft: () => randoms.length };
}

const step = (name: string) => T.steps.find((s: { step: string }) => s.step === name);
const pwdOf = (call: string): Uint8Array => new TextEncoder().encode(/\(b'([^']*)'/.exec(call)![1]!);

function assertAllSent(r: Replay): void {
  assert.is(r.conns.length, r.conns.filter((c) => c.closed).length, 'every connection closed');
  r.conns.forEach((c, i) => assert.is(toHex(c.written), toHex(c.expected), `connection ${i} bytes`));
}

/** The randoms a recorded CREATE/CHANGE used: xormask (from the stored rule), the rule nonce, the list nonce. */
function createRandoms(name: string, conn: number, ruleSendIndex: number, listSendIndex: number | null): Uint8Array[] {
  const s = step(name);
  const sends = s.connections[conn].filter((e: Event) => e.dir === 'c2s').map((e: Event) => hex(e.hex));
  const rule = sends[ruleSendIndex].slice(32, 32 + RULE_SIZE);
  const pt = open(SK, rule);
  const out = [unpackRulePlaintext(pt).xormask, rule.slice(1, 1 + SEAL_NONCE_SIZE)];
  if (listSendIndex !== null) {
    const m = sends[listSendIndex];
    // new list: upk(32) | len(2) | sealed; existing: len(2) | sealed
    const off = m.length === 2 + ((m[0] << 8) | m[1]) + 64 ? 2 : 34;
    out.push(m.slice(off + 1, off + 1 + SEAL_NONCE_SIZE));
  }
  return out;
}

test('create (new user list) sends exactly the reference bytes and reads ok', async () => {
  const name = 'create user1';
  const r = replay(name, { okAfterCreate: true, randoms: createRandoms(name, 0, 1, 3) });
  const pw = await flows.create(r.env, pwdOf(step(name).call), 'user1', 'example.com', ruleFromPositionals([]));
  assert.is(pw, step(name).result);
  assertAllSent(r);
  assert.is(r.randomsLeft(), 0);
});

test('create (existing user list, ul size 12)', async () => {
  const name = 'create user2 (ul, size 12)';
  const r = replay(name, { okAfterCreate: true, randoms: createRandoms(name, 0, 1, 3) });
  const pw = await flows.create(r.env, pwdOf(step(name).call), 'user2', 'example.com', ruleFromPositionals(['ul', '12']));
  assert.is(pw, step(name).result);
  assertAllSent(r);
});

test('create fails without the oracle ok (protocol.md §8.7)', async () => {
  const name = 'create user1';
  const r = replay(name, { okAfterCreate: false, randoms: createRandoms(name, 0, 1, 3) });
  try {
    await flows.create(r.env, pwdOf(step(name).call), 'user1', 'example.com', ruleFromPositionals([]));
    assert.unreachable('no ok, no success');
  } catch (e) {
    assert.instance(e, ClientError);
    assert.match((e as Error).message, /closed the connection before confirming/);
  }
});

test('create with a target password stores a rule that derives the target', async () => {
  const name = 'create user3 with target password';
  const s = step(name);
  const r = replay(name, { okAfterCreate: true, randoms: [] });
  // encode() pads with its own random digits, so the xormask differs: use system randomness here
  delete r.env.random;
  const pw = await flows.create(r.env, pwdOf(s.call), 'user3', 'example.com', ruleFromPositionals(['Tr0ub4dor&3']));
  assert.is(pw, 'Tr0ub4dor&3');
  const sent = r.conns[0]!.written;
  const exp = r.conns[0]!.expected;
  assert.is(sent.length, exp.length);
  assert.is(toHex(sent.slice(0, 65)), toHex(exp.slice(0, 65)), 'CREATE request');
  assert.is(toHex(sent.slice(65, 65 + 32)), toHex(exp.slice(65, 65 + 32)), 'same auth public key');
  const rule = unpackRulePlaintext(open(SK, sent.slice(97, 97 + RULE_SIZE)));
  const recorded = unpackRulePlaintext(open(SK, exp.slice(97, 97 + RULE_SIZE)));
  assert.equal([rule.classes, rule.symbols, rule.size, rule.checkDigit], [recorded.classes, recorded.symbols, recorded.size, recorded.checkDigit]);
});

test('create of an existing record: the oracle fails, a clear error', async () => {
  const name = 'create user1 again (exists: oracle answers fail)';
  const r = replay(name, { randoms: [] });
  try {
    await flows.create(r.env, pwdOf(step(name).call), 'user1', 'example.com', ruleFromPositionals([]));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ClientError);
    assert.is((e as ClientError).exitCode, Exit.ERROR);
    assert.match((e as Error).message, /exists already/);
  }
  assertAllSent(r);
});

for (const name of ['get user1', 'get user1 before commit (old pw)', 'get user1 after commit (new pw)', 'get user3']) {
  test(`${name}: exact bytes and the reference password`, async () => {
    const s = step(name);
    const r = replay(name);
    const user = /'(user\d)'/.exec(s.call)![1]!;
    const pw = await flows.get(r.env, pwdOf(s.call), user, 'example.com');
    assert.is(pw, s.result);
    assertAllSent(r);
  });
}

test('get with a wrong master password: bad check digit (exit 2)', async () => {
  const name = 'get user1 with wrong master pw (bad check digit)';
  const r = replay(name);
  try {
    await flows.get(r.env, pwdOf(step(name).call), 'user1', 'example.com');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, BadCheckDigit);
    assert.is((e as ClientError).exitCode, Exit.BAD_CHECK_DIGIT);
  }
  assertAllSent(r);
});

test('get of a deleted record: oracle fail → record not found (exit 1)', async () => {
  const name = 'get deleted user2 (oracle answers fail)';
  const r = replay(name);
  try {
    await flows.get(r.env, pwdOf(step(name).call), 'user2', 'example.com');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ClientError);
    assert.is((e as ClientError).exitCode, Exit.ERROR);
    assert.match((e as Error).message, /no record for user "user2" at "example.com"/);
  }
  assertAllSent(r);
});

test('list before and after delete', async () => {
  for (const name of ['list example.com', 'list example.com after delete']) {
    const r = replay(name);
    const users = await flows.list(r.env, 'example.com');
    assert.is(users.join('\n'), step(name).result);
    assertAllSent(r);
  }
});

test('change: exact bytes with the recorded randomness, new password as the reference', async () => {
  const name = 'change user1 (new master pw qwer)';
  const s = step(name);
  // conn 1 sends: verify(3 writes) sig alpha' pk|rule|sig → the rule is in send index 5
  const r = replay(name, { randoms: createRandoms(name, 1, 5, null) });
  const pw = await flows.change(r.env, new TextEncoder().encode('asdf'), new TextEncoder().encode('qwer'), 'user1', 'example.com', ruleFromPositionals(['ulsd', '20']));
  assert.is(pw, s.result);
  assertAllSent(r);
});

test('change with checkCurrentFirst (the CLI): a GET checks the current password, then the exact bytes of the reference change', async () => {
  const name = 'change user1 (new master pw qwer)';
  const s = step(name);
  const r = replay(['get user1', name], { randoms: createRandoms(name, 1, 5, null) });
  r.env.checkCurrentFirst = true;
  const pw = await flows.change(r.env, new TextEncoder().encode('asdf'), new TextEncoder().encode('qwer'), 'user1', 'example.com', ruleFromPositionals(['ulsd', '20']));
  assert.is(pw, s.result);
  assertAllSent(r);
});

test('change with a mistyped current password (validate_password on): bad check digit, and no CHANGE connection opened', async () => {
  const r = replay(['get user1 with wrong master pw (bad check digit)', 'change user1 (new master pw qwer)']);
  r.env.checkCurrentFirst = true;
  try {
    await flows.change(r.env, new TextEncoder().encode('wrong'), new TextEncoder().encode('qwer'), 'user1', 'example.com', ruleFromPositionals([]));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, BadCheckDigit);
  }
  assert.is(r.conns.filter((c) => c.sent.length > 0).length, 2, 'only the GET (puzzle request, solved request) was sent');
  assert.is(r.conns[2]!.sent.length, 0, 'the change never started');
});

test('commit and undo (rwd_keys false: no password, no argon2)', async () => {
  for (const [name, fn] of [
    ['commit user1', flows.commit],
    ['undo user1', flows.undo],
  ] as const) {
    const r = replay(name);
    await fn(r.env, new Uint8Array(0), 'user1', 'example.com');
    assertAllSent(r);
  }
});

test('delete removes the user from the list (exact bytes)', async () => {
  const name = 'delete user2';
  const s = step(name);
  const sends = s.connections[1].filter((e: Event) => e.dir === 'c2s').map((e: Event) => hex(e.hex));
  const list = sends[sends.length - 1]; // len | sealed | sig
  const r = replay(name, { randoms: [list.slice(3, 3 + SEAL_NONCE_SIZE)] });
  await flows.del(r.env, new Uint8Array(0), 'user2', 'example.com');
  assertAllSent(r);
});

test('a second commit fails with a clear message', async () => {
  // the commit transcript with the oracle's ok replaced by fail
  const name = 'commit user1';
  const s = step(name);
  const conns: ScriptConn[] = [
    new ScriptConn(s.connections[0]),
    new ScriptConn([...s.connections[1].filter((e: Event) => !(e.dir === 's2c' && e.hex === '6f6b')), { dir: 's2c', hex: '00046661696c' }]),
  ];
  let i = 0;
  const r = replay(name);
  r.env.connect = async () => conns[i++]!;
  try {
    await flows.commit(r.env, new Uint8Array(0), 'user1', 'example.com');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ClientError);
    assert.match((e as Error).message, /no pending change/);
  }
});

test('an oracle that closes without answering gives a clear error, not a hang', async () => {
  const r = replay('get user1');
  const empty = new ScriptConn([]);
  r.env.connect = async () => empty;
  try {
    await flows.get(r.env, new TextEncoder().encode('asdf'), 'user1', 'example.com');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ClientError);
    assert.match((e as Error).message, /closed the connection instead of sending the rate-limit challenge/);
  }
});

test('a target password too long for its alphabet is refused before connecting', async () => {
  const r = replay('get user1');
  r.env.connect = async () => assert.unreachable('must not connect') as never;
  try {
    await flows.create(r.env, new TextEncoder().encode('x'), 'u', 'h', { classes: 'uld', symbols: '', size: 0, target: '1'.repeat(78) });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ClientError);
    assert.match((e as Error).message, /too long/);
  }
});

test.run();
