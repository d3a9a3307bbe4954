// The websphinx host's pure parts without I/O: framing, request parsing and
// reply shapes, Assuan escaping and parsing, and the order of pinentry
// questions per command (dispatch.ts with recording fakes).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SYMBOLS } from '../shared/constants.js';
import { confirmCommands, parseLine, percentDecode, percentEncode, pinCommands } from '../client/assuan.js';
import { askNew, dispatch, MAX_ROUNDS, type HostDeps } from '../websphinx/dispatch.js';
import { encodeFrame, FrameReader } from '../websphinx/frames.js';
import { isRejected, parseRequest, type Request } from '../websphinx/requests.js';

const enc = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));

test('frames: little and big endian, split and joined chunks, an oversized length skipped', () => {
  const a = encodeFrame({ cmd: 'list' });
  assert.is(a.readUInt32LE(0), a.length - 4);
  assert.is(encodeFrame({ x: 1 }, false).readUInt32BE(0), 7);
  const r = new FrameReader();
  const two = Buffer.concat([a, encodeFrame({ n: 2 })]);
  const got = [...two].flatMap((b) => r.push(Uint8Array.of(b)));
  assert.equal(got.map((f) => (f.kind === 'message' ? JSON.parse(f.body.toString()) : f)), [{ cmd: 'list' }, { n: 2 }]);
  const big = Buffer.alloc(4);
  big.writeUInt32LE(5_000_000);
  const r2 = new FrameReader();
  assert.equal(r2.push(big), [{ kind: 'oversized', length: 5_000_000 }]);
  assert.equal(r2.push(Buffer.alloc(4_999_999)), []);
  assert.is(r2.pending, 1);
  const f = r2.push(Buffer.concat([Buffer.alloc(1), a]));
  assert.is(f.length, 1);
  assert.is(r2.pending, 0);
  assert.throws(() => encodeFrame({ s: 'x'.repeat(1024 * 1024) }), /1 MiB/);
});

test('requests: what the extensions send, typed; bad ones rejected with the fail shapes', () => {
  assert.equal(parseRequest(enc({ cmd: 'list', mode: 'init', site: 'a.b' })), { cmd: 'list', mode: 'init', site: 'a.b' });
  assert.equal(parseRequest(enc({ cmd: 'change', mode: 'insert', site: 's', name: 'n' })), { cmd: 'change', name: 'n', mode: 'insert', site: 's' });
  const c = parseRequest(enc({ cmd: 'create', mode: 'insert', site: 's', name: 'n', rules: 'uls', size: '12' })) as Request & { cmd: 'create' };
  assert.equal(c.rule, { classes: 'ul', symbols: SYMBOLS, size: 12 });
  const s = parseRequest(enc({ cmd: 'create', site: 's', name: 'n', rules: 's', size: 0 })) as Request & { cmd: 'create' };
  assert.equal(s.rule, { classes: '', symbols: SYMBOLS, size: 0 });
  for (const bad of [{ cmd: 'create', site: 's', name: 'n', rules: '', size: 1 }, { cmd: 'create', site: 's', name: 'n', rules: 'ux', size: 1 }, { cmd: 'create', site: 's', name: 'n', rules: 'u', size: -1 }, { cmd: 'create', site: 's', name: 'n', rules: 'u', size: 1.5 }, { cmd: 'login', site: 's' }, { cmd: 'login', name: 'n' }, { cmd: 'list', site: 's', mode: 3 }, { cmd: 'nope' }]) {
    const r = parseRequest(enc(bad));
    assert.ok(isRejected(r), JSON.stringify(bad));
    if (isRejected(r)) assert.equal(r.reply, { results: 'fail' });
  }
  const w = parseRequest(enc({ cmd: 'webauthn-create', id: 1, tabId: 2 }));
  assert.ok(isRejected(w) && JSON.stringify(w.reply) === '{"results":"fail","id":1,"tabId":2,"cmd":"webauthn-create"}');
});

test('assuan: percent-encoding out, decoding in, reply lines', () => {
  assert.is(percentEncode('a%b\nc\rd'), 'a%25b%0Ac%0Dd');
  assert.is(percentDecode(Buffer.from('100%25 %41%0a%zz%4')).toString('latin1'), '100% A\n%zz%4');
  assert.equal(parseLine(Buffer.from('OK Pleased to meet you')), { kind: 'OK' });
  assert.equal(parseLine(Buffer.from('ERR 83886179 Operation cancelled')).kind, 'ERR');
  assert.equal(parseLine(Buffer.from('S PIN_REPEATED')).kind, 'skip');
  assert.equal(parseLine(Buffer.from('OKAY')).kind, 'other');
  const d = parseLine(Buffer.from('D p%25w'));
  assert.ok(d.kind === 'D' && d.data.toString() === 'p%w');
  assert.equal(pinCommands({ title: 't', description: 'a\nb', prompt: 'p' }), ['SETTITLE t', 'SETDESC a%0Ab', 'SETPROMPT p', 'GETPIN']);
  assert.equal(confirmCommands({ title: 't', description: 'd', ok: 'use this', cancel: 'try another' }).slice(2), ['SETOK use this', 'SETCANCEL try another', 'CONFIRM']);
});

/** Records every question; answers from a queue. */
function fakes(answers: Array<string | null | boolean>, rwdKeys = false) {
  const asked: string[] = [];
  const calls: string[] = [];
  const next = () => {
    if (!answers.length) throw new Error('no answer left');
    return answers.shift()!;
  };
  const deps: HostDeps = {
    rwdKeys,
    pinentry: {
      getPin: async (t) => {
        asked.push(`GETPIN ${t.prompt}: ${t.description}`);
        const a = next();
        return typeof a === 'string' ? Buffer.from(a) : null;
      },
      confirm: async (t) => {
        asked.push(`CONFIRM ${t.ok}/${t.cancel}: ${t.description}`);
        return next() === true;
      },
    },
    strength: async (p) => `strength of ${Buffer.from(p).toString()}`,
    qrSvg: async () => '<svg/>',
    flows: {
      get: async (p, u, h) => (calls.push(`get ${p} ${u} ${h}`), 'PW'),
      create: async (p, u, h, s) => (calls.push(`create ${p} ${u} ${h} ${JSON.stringify(s)}`), 'NEW'),
      currentRule: async (p, u, h) => (calls.push(`currentRule ${p} ${u} ${h}`), { classes: 'd', symbols: '', size: 6 }),
      change: async (o, n, u, h, s) => (calls.push(`change ${o} ${n} ${u} ${h} ${JSON.stringify(s)}`), 'CHG'),
      commit: async (p, u, h) => void calls.push(`commit [${p}] ${u} ${h}`),
      undo: async (p, u, h) => void calls.push(`undo [${p}] ${u} ${h}`),
      del: async (p, u, h) => void calls.push(`del [${p}] ${u} ${h}`),
      list: async (h) => (calls.push(`list ${h}`), []),
    },
  };
  return { deps, asked, calls, answers };
}

/** uvu has no async throws: the rejection's message must match. */
async function rejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  let err: unknown = null;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Error && re.test(err.message), `expected a rejection matching ${re}, got ${String(err)}`);
}

const req = (o: object): Request => parseRequest(enc(o)) as Request;

test('dispatch: a change without rules keeps the record\'s rule; rwd_keys off asks only the new password', async () => {
  const f = fakes(['m2', 'm2', true]);
  const r = await dispatch(req({ cmd: 'change', mode: 'insert', site: 's', name: 'n' }), f.deps);
  assert.equal(r, { results: { password: 'CHG', name: 'n', site: 's', cmd: 'change', mode: 'insert' } });
  assert.equal(f.calls, ['currentRule m2 n s', 'change m2 m2 n s {"classes":"d","symbols":"","size":6}']);
  assert.equal(f.asked.map((a) => a.split(':')[0]), ['GETPIN master password', 'GETPIN REPEAT master password', 'CONFIRM use this/try another']);
  assert.match(f.asked[2]!, /strength of m2/);
});

test('dispatch: rwd_keys on asks the current password for change, commit, undo, delete', async () => {
  const f = fakes(['old', 'new', 'new', true, 'cur', 'cur', 'cur'], true);
  await dispatch(req({ cmd: 'change', site: 's', name: 'n', rules: 'u', size: 3 }), f.deps);
  for (const cmd of ['commit', 'undo', 'delete']) assert.equal((await dispatch(req({ cmd, site: 's', name: 'n' }), f.deps)).results, { result: true, name: 'n', site: 's', cmd });
  assert.equal(f.calls, ['change old new n s {"classes":"u","symbols":"","size":3}', 'commit [cur] n s', 'undo [cur] n s', 'del [cur] n s']);
  assert.match(f.asked[0]!, /CURRENT/);
  const g = fakes([]);
  for (const cmd of ['commit', 'undo', 'delete']) await dispatch(req({ cmd, site: 's', name: 'n' }), g.deps);
  assert.equal(g.asked, [], 'rwd_keys off: no question');
});

test('askNew: "try another" asks again, a mismatch or a cancel fails, rounds are bounded', async () => {
  const f = fakes(['weak', 'weak', false, 'strong', 'strong', true]);
  assert.is((await askNew(f.deps, 'd')).toString(), 'strong');
  await rejects(() => askNew(fakes(['a', 'b']).deps, 'd'), /differ/);
  await rejects(() => askNew(fakes(['a', null]).deps, 'd'), /cancelled/);
  const loop = fakes(Array.from({ length: MAX_ROUNDS }, () => ['x', 'x', false]).flat());
  await rejects(() => askNew(loop.deps, 'd'), /no master password accepted/);
  assert.equal(loop.answers, []);
});

test.run();
