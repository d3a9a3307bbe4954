// transcripts.json replayed against the real oracle (issue 3, Tests): the
// oracle as a child process on 127.0.0.1 over real TLS, driven by our client
// flows (client/flows.ts) with the recorded masterkey, blinding scalars and
// client randomness, and the recorded oracle MAC key in <datadir>/key.
//
// The oracle's randomness (record keys, auth nonces) and the clock differ
// from the recording, so for every step this compares what the vectors
// allow:
// - the connections: how many, and per connection the exact byte counts in
//   each direction; every byte that does not depend on the oracle's
//   randomness or the clock is equal to the recording (requests, ids,
//   alphas, auth public keys, the user-list messages and the user lists the
//   oracle hands back), challenges carry the recorded difficulty (n, k) and
//   a MAC that verifies under the recorded MAC key;
// - the results: user lists and the target password exactly as recorded,
//   passwords consistent across create/change/commit/undo/get, the
//   recorded errors (bad check digit, record not found, record exists);
// - the datadir after each step: exactly the recorded record files, with the
//   recorded sizes; pub and user-list blobs byte-equal; difficulty files
//   with the recorded level and count and a current timestamp.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concat, utf8 } from '../shared/bytes.js';
import { OK, RATE_LIMIT_DEFAULTS, RULE_SIZE, SEAL_NONCE_SIZE } from '../shared/constants.js';
import * as msg from '../shared/messages.js';
import { solve, solsize } from '../shared/equihash.js';
import { decodeDifficulty, levelOf } from '../shared/ratelimit.js';
import { makeChallenge } from '../oracle/challenge.js';
import { unpackRulePlaintext } from '../shared/rules.js';
import { ruleFromPositionals } from '../client/args.js';
import type { Conn } from '../client/conn.js';
import { BadCheckDigit, ClientError } from '../client/errors.js';
import * as flows from '../client/flows.js';
import { startOracle } from './helpers/oracle-process.js';
import { hex, loadVectors, toHex } from './helpers/vectors.js';
import { Wire, isRecordDirName } from './helpers/wire.js';
import { checkDigit, open, sealKey, unpackRule, challengeWith, finish } from '../client/crypto.js';

const T = loadVectors('transcripts');
const MK = hex(T.setup.masterkey);
const MAC_KEY = hex(T.setup.server_mac_key);
const SK = sealKey(MK);
const HOST = 'example.com';

interface Event {
  dir: 'c2s' | 's2c';
  hex: string;
}
interface Step {
  step: string;
  call: string;
  result: string | boolean | null;
  error: string | null;
  client_r: string[];
  connections: Event[][];
  datadir_changed: Record<string, string>;
  datadir_removed: string[];
}
const STEPS: Step[] = T.steps;

/** A connection that records both directions. */
class Recorder implements Conn {
  readonly sent: Uint8Array[] = [];
  readonly got: Uint8Array[] = [];
  constructor(private readonly inner: Conn) {}
  write(d: Uint8Array): void {
    this.sent.push(Uint8Array.from(d));
    this.inner.write(d);
  }
  async read(n: number): Promise<Uint8Array> {
    const b = await this.inner.read(n);
    this.got.push(Uint8Array.from(b));
    return b;
  }
  close(): void {
    this.inner.close();
  }
  get c2s(): Uint8Array {
    return concat(...this.sent);
  }
  get s2c(): Uint8Array {
    return concat(...this.got);
  }
}

const stream = (events: Event[], dir: 'c2s' | 's2c'): Uint8Array => concat(...events.filter((e) => e.dir === dir).map((e) => hex(e.hex)));
const sends = (events: Event[]): Uint8Array[] => events.filter((e) => e.dir === 'c2s').map((e) => hex(e.hex));

/** Segments of a byte stream: [length, compare with the recording?]; -1 = the rest. */
type Seg = [number, boolean];

function compareSegments(ours: Uint8Array, ref: Uint8Array, segs: Seg[], what: string): void {
  assert.is(ours.length, ref.length, `${what}: byte count (ours ${ours.length}, recorded ${ref.length})`);
  let off = 0;
  for (const [len, eq] of segs) {
    const end = len < 0 ? ref.length : off + len;
    if (eq) assert.is(toHex(ours.subarray(off, end)), toHex(ref.subarray(off, end)), `${what}: bytes ${off}..${end} as recorded`);
    off = end;
  }
}

/** The client randomness a recorded CREATE/CHANGE/DELETE used, in the order the flows ask for it. */
function recordedRandoms(step: Step): Uint8Array[] {
  const out: Uint8Array[] = [];
  const ruleFrom = (pkRuleSig: Uint8Array, withXormask: boolean): void => {
    const rule = pkRuleSig.subarray(32, 32 + RULE_SIZE);
    if (withXormask) out.push(unpackRulePlaintext(open(SK, rule)).xormask);
    out.push(rule.slice(1, 1 + SEAL_NONCE_SIZE));
  };
  const listNonce = (m: Uint8Array, isNew: boolean): void => {
    const off = isNew ? 34 : 2;
    out.push(m.slice(off + 1, off + 1 + SEAL_NONCE_SIZE));
  };
  const isTarget = step.call.includes("'Tr0ub4dor&3'");
  if (step.call.startsWith('create(') && step.error === null) {
    const s = sends(step.connections[0]!);
    ruleFrom(s[1]!, !isTarget);
    const s2c = stream(step.connections[0]!, 's2c');
    listNonce(s[3]!, s2c[32] === 0 && s2c[33] === 0);
  } else if (step.call.startsWith('change(')) {
    ruleFrom(sends(step.connections[1]!)[5]!, true);
  } else if (step.call.startsWith('delete(')) {
    const s = sends(step.connections[1]!);
    listNonce(s[s.length - 1]!, false);
  }
  return out;
}

// ------------------------------------------------------------------ the run

type Oracle = Awaited<ReturnType<typeof startOracle>>;
let oracle: Oracle | null = null;
let datadir = '';
let wire: Wire;

test.before(async () => {
  datadir = mkdtempSync(join(tmpdir(), 'sphinx-transcripts-'));
  mkdirSync(datadir, { recursive: true, mode: 0o700 });
  chmodSync(datadir, 0o700);
  writeFileSync(join(datadir, 'key'), MAC_KEY, { mode: 0o600 }); // the recorded oracle MAC key
  // the recording's rate-limit settings are the defaults
  oracle = await startOracle({ datadir, server: { ...RATE_LIMIT_DEFAULTS } });
  wire = new Wire(oracle, { readTimeoutMs: 20000 });
});

test.after(async () => {
  if (oracle) assert.is(await oracle.stop(), 0, 'the oracle exits 0 on stop');
  oracle = null;
  if (datadir) rmSync(datadir, { recursive: true, force: true });
});

/** The oracle's datadir as recorded after each step (path → hex), replayed step by step. */
const model = new Map<string, string>();
/** Passwords our run produced, per user: current and pending. */
const pw: Record<string, { cur?: string; pending?: string; old?: string }> = {};
const pwdOf = (call: string): Uint8Array => utf8(/\(b'([^']*)'/.exec(call)![1]!);

interface Run {
  conns: Recorder[];
  result?: unknown;
  error?: unknown;
  start: number;
  end: number;
  rs: Uint8Array[];
}

async function run(step: Step, f: (env: flows.FlowEnv) => Promise<unknown>): Promise<Run> {
  const conns: Recorder[] = [];
  const rs = step.client_r.map((r) => hex(r));
  const rsLeft = [...rs];
  const randoms = recordedRandoms(step);
  const env: flows.FlowEnv = {
    connect: async () => {
      const c = new Recorder(await wire.connect());
      conns.push(c);
      return c;
    },
    masterkey: MK,
    rwdKeys: T.setup.rwd_keys,
    validatePassword: T.setup.validate_password,
    solve: (n, k, seed) => solve(n, k, seed),
    blind: (p) => {
      const r = rsLeft.shift();
      assert.ok(r, 'more blindings than recorded');
      return challengeWith(p, Uint8Array.from(r!));
    },
    random: (n) => {
      const r = randoms.shift();
      assert.ok(r, `random(${n}) not recorded`);
      assert.is(r!.length, n);
      return Uint8Array.from(r!);
    },
    earlyConnectMaxN: 0, // connections in the reference's order: challenge, solve, verify
    warn: () => undefined,
  };
  const out: Run = { conns, start: Math.floor(Date.now() / 1000), end: 0, rs };
  try {
    out.result = await f(env);
  } catch (e) {
    out.error = e;
  }
  out.end = Math.ceil(Date.now() / 1000);
  assert.is(rsLeft.length, 0, 'every recorded blinding scalar used');
  assert.is(randoms.length, 0, 'every recorded random value used');
  return out;
}

/** Connections: count, and byte streams segment by segment. */
function compareConnections(step: Step, r: Run): void {
  assert.is(r.conns.length, step.connections.length, 'number of connections');
  const fn = step.call.slice(0, step.call.indexOf('('));
  const failed = step.error !== null && !step.error.includes('checkdigit');
  if (step.connections.length === 1) {
    // CREATE: one connection
    const ref = step.connections[0]!;
    const ours = r.conns[0]!;
    if (failed) {
      compareSegments(ours.c2s, stream(ref, 'c2s'), [[-1, true]], 'CREATE request');
      compareSegments(ours.s2c, stream(ref, 's2c'), [[-1, true]], 'CREATE refusal');
      return;
    }
    // request | pk | rule | sig | uid | sig(uid) | user list: only rule and sig depend on rwd
    compareSegments(ours.c2s, stream(ref, 'c2s'), [[65, true], [32, true], [RULE_SIZE + 64, false], [-1, true]], 'CREATE client bytes');
    // beta | user list (00 00 or the stored one) | ok — the reference client never read the ok (§8.7)
    const s2c = ours.s2c;
    assert.is(toHex(s2c.subarray(s2c.length - 2)), toHex(OK), 'CREATE ends with ok');
    compareSegments(s2c.subarray(0, s2c.length - 2), stream(ref, 's2c'), [[32, false], [-1, true]], 'CREATE oracle bytes');
    return;
  }
  // rate-limited: connection 1 = 0x5a | req → challenge
  const [ref1, ref2] = step.connections as [Event[], Event[]];
  const [c1, c2] = r.conns as [Recorder, Recorder];
  compareSegments(c1.c2s, stream(ref1, 'c2s'), [[-1, true]], 'CHALLENGE_CREATE');
  compareSegments(c1.s2c, stream(ref1, 's2c'), [[2, true], [-1, false]], 'challenge n | k (the recorded difficulty)');
  const ch = msg.parseChallenge(c1.s2c);
  assert.ok(ch.ts >= r.start - 1 && ch.ts <= r.end + 1, 'challenge timestamp is the current time');
  const req = c1.c2s.subarray(1);
  assert.is(toHex(ch.bytes), toHex(makeChallenge(MAC_KEY, req, levelOf(ch.n, ch.k), ch.ts)), 'challenge MAC under the recorded MAC key');
  // connection 2 = 0xa5 | challenge | req | solution | op-specific
  const head: Seg[] = [[1, true], [42, false], [req.length, true], [solsize(ch.n, ch.k), false]];
  assert.is(toHex(c2.c2s.subarray(1, 43)), toHex(ch.bytes), 'the challenge echoed');
  const tail: Record<string, { c2s: Seg[]; s2c: Seg[] }> = {
    get: { c2s: [], s2c: [[-1, failed]] },
    users: { c2s: [[64, false]], s2c: [[32, false], [-1, true]] },
    change: { c2s: [[64, false], [32, true], [32, true], [RULE_SIZE + 64, false]], s2c: [[64, false], [32, false], [-1, true]] },
    commit: { c2s: [[64, false]], s2c: [[64, false], [-1, true]] },
    undo: { c2s: [[64, false]], s2c: [[64, false], [-1, true]] },
    delete: { c2s: [[64, false], [-1, true]], s2c: [[64, false], [-1, true]] },
  };
  const t = tail[fn];
  assert.ok(t, `op ${fn}`);
  compareSegments(c2.c2s, stream(ref2, 'c2s'), [...head, ...t!.c2s], `${fn}: client bytes`);
  compareSegments(c2.s2c, stream(ref2, 's2c'), t!.s2c, `${fn}: oracle bytes`);
}

/** Our datadir's record files against the recorded datadir after this step. */
function compareDatadir(step: Step, r: Run): void {
  for (const p of step.datadir_removed) model.delete(p);
  for (const [p, v] of Object.entries(step.datadir_changed)) model.set(p, v);
  const ours = new Map<string, Buffer>();
  for (const d of readdirSync(datadir).filter(isRecordDirName)) {
    for (const f of readdirSync(join(datadir, d))) ours.set(`${d}/${f}`, readFileSync(join(datadir, d, f)));
  }
  assert.equal([...ours.keys()].sort(), [...model.keys()].sort(), 'the record files are exactly the recorded ones');
  for (const [p, v] of model) {
    const b = ours.get(p);
    if (!b) continue;
    const ref = hex(v);
    const file = p.slice(p.indexOf('/') + 1);
    assert.is(b.length, ref.length, `${p}: size`);
    if (file === 'pub' || file.startsWith('pub.') || file === 'blob') {
      assert.is(b.toString('hex'), v, `${p}: as recorded`);
    } else if (file === 'difficulty') {
      const a = decodeDifficulty(b);
      const e = decodeDifficulty(ref);
      assert.ok(a && e);
      assert.equal([a!.level, a!.count], [e!.level, e!.count], `${p}: level and count as recorded`);
      if (p in step.datadir_changed) assert.ok(a!.ts >= r.start - 1 && a!.ts <= r.end + 1, `${p}: timestamp is now`);
    }
  }
}

/** Does this run's GET reply (connection 2) pass the check digit for pwd? (1 in 32 wrong passwords do.) */
async function checkDigitMatches(r: Run, pwd: Uint8Array, id: Uint8Array): Promise<boolean> {
  const s2c = r.conns[1]!.s2c;
  const { beta, rules } = msg.parseGetReply(s2c);
  const alpha = r.conns[0]!.c2s.subarray(1 + 1 + 32, 1 + 1 + 32 + 32);
  const rwd = await finish(pwd, r.rs[0]!, alpha, beta, id);
  return unpackRule(SK, rules).checkDigit === checkDigit(rwd, true);
}

// ------------------------------------------------------------------ the steps

const user = (s: Step): string => /'(user\d)'/.exec(s.call)![1]!;

for (const step of STEPS) {
  test(`transcript step: ${step.step}`, async () => {
    const fn = step.call.slice(0, step.call.indexOf('('));
    const u = fn === 'users' ? '' : user(step);
    const spec =
      step.step === 'create user2 (ul, size 12)'
        ? ruleFromPositionals(['ul', '12'])
        : step.call.includes("'Tr0ub4dor&3'")
          ? ruleFromPositionals(['Tr0ub4dor&3'])
          : fn === 'change'
            ? ruleFromPositionals(['ulsd', '20'])
            : ruleFromPositionals([]);
    const r = await run(step, (env) => {
      switch (fn) {
        case 'create':
          return flows.create(env, pwdOf(step.call), u, HOST, spec);
        case 'get':
          return flows.get(env, pwdOf(step.call), u, HOST);
        case 'users':
          return flows.list(env, HOST).then((l) => l.join('\n'));
        case 'change':
          return flows.change(env, utf8('asdf'), utf8('qwer'), u, HOST, spec);
        case 'commit':
          return flows.commit(env, pwdOf(step.call), u, HOST);
        case 'undo':
          return flows.undo(env, pwdOf(step.call), u, HOST);
        case 'delete':
          return flows.del(env, pwdOf(step.call), u, HOST);
        default:
          throw new Error(`unknown call ${step.call}`);
      }
    });

    // results
    const p = (pw[u] ??= {});
    if (step.error === null) {
      if (r.error) throw r.error;
      switch (fn) {
        case 'create':
          assert.type(r.result, 'string');
          if (spec.target !== undefined) assert.is(r.result, step.result, 'the target password, as recorded');
          if (spec.size) assert.is((r.result as string).length, spec.size, 'password size as the rule says');
          p.cur = r.result as string;
          break;
        case 'change':
          assert.is((r.result as string).length, 20);
          p.pending = r.result as string;
          break;
        case 'commit':
          [p.old, p.cur, p.pending] = [p.cur, p.pending, undefined];
          break;
        case 'undo':
          [p.pending, p.cur, p.old] = [p.cur, p.old, undefined];
          break;
        case 'get': {
          // "before commit (old pw)" / "after commit (new pw)": the get of the current password
          assert.is(r.result, p.cur, `GET returns the current password of ${u}`);
          if (spec.target === undefined && step.step === 'get user3') assert.is(r.result, step.result);
          break;
        }
        case 'users':
          assert.is(r.result, step.result, 'the user list, as recorded');
          break;
        case 'delete':
          delete pw[u];
          break;
      }
    } else if (step.error.includes('checkdigit')) {
      const id = r.conns[0]!.c2s.subarray(2, 34);
      if (await checkDigitMatches(r, pwdOf(step.call), id)) {
        assert.not.ok(r.error, 'the check digit happens to match (1 in 32): no error');
      } else {
        assert.instance(r.error, BadCheckDigit, 'bad check digit, as recorded');
      }
    } else {
      assert.instance(r.error, ClientError, `an error, as recorded (${step.error})`);
      if (fn === 'get') assert.match((r.error as Error).message, /no record for user/);
      if (fn === 'create') assert.match((r.error as Error).message, /exists already/);
    }
    compareConnections(step, r);
    compareDatadir(step, r);
  });
}

// ------------------------------------------------------------------ taking over the reference's datadir

test("the reference oracle's datadir after the transcript is served as is: the recorded passwords come back", async () => {
  // Rebuild the pwdsphinx oracle's datadir from the recording (its MAC key,
  // every record file it wrote), start our oracle on it and use it.
  const files = new Map<string, string>();
  for (const st of STEPS) {
    for (const p of st.datadir_removed) files.delete(p);
    for (const [p, v] of Object.entries(st.datadir_changed)) files.set(p, v);
  }
  const dir = mkdtempSync(join(tmpdir(), 'sphinx-takeover-'));
  let o: Oracle | null = null;
  try {
    chmodSync(dir, 0o700);
    writeFileSync(join(dir, 'key'), MAC_KEY, { mode: 0o600 });
    for (const [p, v] of files) {
      mkdirSync(join(dir, p.slice(0, p.indexOf('/'))), { recursive: true, mode: 0o700 });
      writeFileSync(join(dir, p), hex(v), { mode: 0o600 });
    }
    o = await startOracle({ datadir: dir, server: { ...RATE_LIMIT_DEFAULTS } });
    const w = new Wire(o, { readTimeoutMs: 20000 });
    const env: flows.FlowEnv = {
      connect: w.connect,
      masterkey: MK,
      rwdKeys: T.setup.rwd_keys,
      validatePassword: T.setup.validate_password,
      solve: (n, k, seed) => solve(n, k, seed),
      earlyConnectMaxN: 0,
      warn: () => undefined,
    };
    const result = (name: string): string => STEPS.find((st) => st.step === name)!.result as string;
    // after "undo user1" the current record is the one "create user1" made
    assert.is(await flows.get(env, utf8('asdf'), 'user1', HOST), result('create user1'), 'user1: the password the reference created');
    assert.is(await flows.get(env, utf8('asdf'), 'user3', HOST), 'Tr0ub4dor&3', 'user3: the target password');
    assert.is((await flows.list(env, HOST)).join('\n'), 'user1\nuser3', 'the user list the reference stored');
    // undo moved the changed record to new*: committing it brings back the change's password
    await flows.commit(env, new Uint8Array(0), 'user1', HOST);
    assert.is(await flows.get(env, utf8('qwer'), 'user1', HOST), result('change user1 (new master pw qwer)'), 'user1 after commit: the changed password');
  } finally {
    if (o) await o.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
