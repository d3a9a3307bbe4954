// The websphinx host as a browser runs it: the BUILT host process, framed
// JSON on its stdin/stdout exactly as the extensions send it (websphinx.md
// §2), a real oracle, a scripted Assuan pinentry (and pinentry-tty on a pty),
// and every password compared with what `sphinx get` prints.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qrPayload } from '../client/qr.js';
import { SYMBOLS } from '../shared/constants.js';
import { have, svgToPng, zbarDecode } from './client.support.js';
import { startOracle, type RunningOracle } from './helpers/oracle-process.js';
import { frame, scriptedPinentry, startHost, unframe, userHome, type Host, type ScriptedPinentry, type UserHome } from './helpers/websphinx.js';
import { ptyPinentry } from './helpers/x11-pinentry.js';
import { descendants } from './helpers/x11-env.js';

const MASTER = 'correct horse %41 100% "battery"';
const MASTER2 = 'a n3w m4ster p%ssword, longer';
const SITE = 'example.org';
const USER = 'alice@example.org';
const FAIL = { results: 'fail' };

let oracle: RunningOracle;
let user: UserHome;
let pin: ScriptedPinentry;
let host: Host;
let ready: Promise<void> | null = null;
const secrets: string[] = [MASTER, MASTER2];

function setup(): Promise<void> {
  ready ??= (async () => {
    oracle = await startOracle();
    pin = scriptedPinentry(mkdtempSync(join(tmpdir(), 'websphinx-pin-')));
    // "False" is false (pwdsphinx's host read it as a true string): commit/undo/delete below ask nothing
    user = await userHome(oracle, { rwd_keys: 'False' }, { pinentry: pin.path, log: '~/websphinx.log' });
    host = startHost(user.home);
  })();
  return ready;
}

/** create's dialogs: the password, REPEAT, then the strength confirmation. */
const newPassword = (m: string, ok = true) => [{ pin: m }, { pin: m }, { confirm: ok }] as const;

test('list with no users answers [] (not "no users found")', async () => {
  await setup();
  const r = await host.request({ cmd: 'list', mode: 'init', site: SITE });
  assert.equal(r, { results: { names: [], cmd: 'list', mode: 'init', site: SITE } });
});

test('create asks twice, shows the strength, asks again on "try another"; the password is sphinx get\'s', async () => {
  await setup();
  pin.clearLog();
  pin.answer(...newPassword(MASTER, false), ...newPassword(MASTER, true));
  const r = await host.request({ cmd: 'create', mode: 'insert', site: SITE, name: USER, rules: 'uld', size: '14' });
  assert.equal(pin.left(), []);
  assert.equal(Object.keys(r.results).sort(), ['cmd', 'mode', 'name', 'password', 'site']);
  assert.equal({ ...r.results, password: undefined }, { password: undefined, name: USER, site: SITE, cmd: 'create', mode: 'insert' });
  const pw = r.results.password as string;
  secrets.push(pw);
  assert.match(pw, /^[A-Za-z0-9]{14}$/);
  assert.is(await user.expected(MASTER, USER, SITE), pw);
  const log = pin.log();
  assert.not.match(log, /UNEXPECTED|UNKNOWN/);
  assert.is(log.split('\nGETPIN').length - 1, 4, 'two rounds of two questions');
  assert.is(log.split('\nCONFIRM').length - 1, 2);
  assert.match(log, /SETPROMPT REPEAT master password/);
  assert.match(log, /SETOK use this\nSETCANCEL try another\nCONFIRM/);
  assert.match(log, /SETDESC your .* master password can be recovered online in/);
  assert.match(log, /START \["-g"\]/);
});

test('the host runs with the huge-pages tunable (argon2 speed, as dist/bin/sphinx), re-launched once', async () => {
  await setup();
  const kids = descendants(host.proc.pid!);
  assert.is(kids.length, 1, `one child: ${kids}`);
  const env = readFileSync(`/proc/${kids[0]}/environ`, 'latin1').split('\0');
  assert.ok(env.includes('GLIBC_TUNABLES=glibc.malloc.hugetlb=1'), env.filter((e) => e.startsWith('GLIBC')).join());
});

test('list shows the new user', async () => {
  await setup();
  const r = await host.request({ cmd: 'list', mode: 'init', site: SITE });
  assert.equal(r.results.names, [USER]);
});

test('login: the password equals sphinx get\'s, name/site/mode echoed', async () => {
  await setup();
  pin.answer({ pin: MASTER });
  const r = await host.request({ cmd: 'login', mode: 'insert', site: SITE, name: USER });
  assert.equal(r, { results: { password: await user.expected(MASTER, USER, SITE), name: USER, site: SITE, cmd: 'login', mode: 'insert' } });
});

test('automatic change: login, then the reply minus password sent back as change; keeps the rules; commit and undo', async () => {
  await setup();
  const old = await user.expected(MASTER, USER, SITE);
  pin.answer({ pin: MASTER });
  const login = await host.request({ cmd: 'login', mode: 'insert', site: SITE, name: USER });
  assert.is(login.results.password, old);
  // what the extensions do (websphinx.md §2)
  const req = login.results;
  req.cmd = 'change';
  delete req.password;
  pin.answer(...newPassword(MASTER2));
  const ch = await host.request(req);
  assert.equal(pin.left(), []);
  assert.equal({ ...ch.results, password: undefined }, { password: undefined, name: USER, site: SITE, cmd: 'change', mode: 'insert' });
  const fresh = ch.results.password as string;
  secrets.push(fresh);
  assert.is.not(fresh, old);
  assert.match(fresh, /^[A-Za-z0-9]{14}$/, 'the record\'s rules: 14 characters of u, l, d');
  assert.is(await user.expected(MASTER, USER, SITE), old, 'not current before commit');
  const c = await host.request({ cmd: 'commit', mode: 'insert', site: SITE, name: USER });
  assert.equal(c, { results: { result: true, name: USER, site: SITE, cmd: 'commit', mode: 'insert' } });
  assert.is(await user.expected(MASTER2, USER, SITE), fresh);
  pin.answer({ pin: MASTER2 });
  const l2 = await host.request({ cmd: 'login', mode: 'insert', site: SITE, name: USER });
  assert.is(l2.results.password, fresh);
  const u = await host.request({ cmd: 'undo', mode: '', site: SITE, name: USER });
  assert.equal(u, { results: { result: true, name: USER, site: SITE, cmd: 'undo', mode: '' } });
  assert.is(await user.expected(MASTER, USER, SITE), old);
});

test('a change request with rules and size uses them', async () => {
  await setup();
  pin.answer(...newPassword(MASTER));
  const ch = await host.request({ cmd: 'change', mode: 'manual', site: SITE, name: USER, rules: 'ds', size: 20 });
  const pw = ch.results.password as string;
  secrets.push(pw);
  assert.is(pw.length, 20);
  assert.ok([...pw].every((c) => /[0-9]/.test(c) || SYMBOLS.includes(c)), pw.length + ' digits and symbols');
  await host.request({ cmd: 'commit', mode: 'manual', site: SITE, name: USER });
  assert.is(await user.expected(MASTER, USER, SITE), pw);
});

test('a wrong master password fails, and the host stays up', async () => {
  await setup();
  pin.answer({ pin: await user.rejected(USER, SITE) });
  assert.equal(await host.request({ cmd: 'login', mode: 'insert', site: SITE, name: USER }), FAIL);
  assert.match(host.stderr(), /login: fail \(bad check digit/);
  pin.answer({ pin: MASTER });
  const r = await host.request({ cmd: 'login', mode: 'insert', site: SITE, name: USER });
  assert.is(r.results.password, await user.expected(MASTER, USER, SITE));
});

test('cancel fails (login, create, and the confirmation of create), the host stays up, nothing is created', async () => {
  await setup();
  pin.answer({ cancel: true });
  assert.equal(await host.request({ cmd: 'login', mode: 'insert', site: SITE, name: USER }), FAIL);
  pin.answer({ pin: MASTER }, { cancel: true });
  assert.equal(await host.request({ cmd: 'create', mode: 'insert', site: SITE, name: 'bob', rules: 'ulsd', size: 0 }), FAIL);
  pin.answer({ pin: MASTER }, { pin: MASTER + 'x' });
  assert.equal(await host.request({ cmd: 'create', mode: 'insert', site: SITE, name: 'bob', rules: 'ulsd', size: 0 }), FAIL, 'the two passwords differ');
  assert.equal(pin.left(), []);
  assert.equal((await host.request({ cmd: 'list', mode: 'init', site: SITE })).results.names, [USER]);
});

test('malformed frames and JSON answer fail and do not stop the host', async () => {
  await setup();
  host.write(frame('{"cmd": "list", '));
  assert.equal(await host.next(), FAIL);
  host.write(frame(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
  assert.equal(await host.next(), FAIL, 'invalid UTF-8');
  for (const body of ['[]', '"list"', '{}', '{"cmd": 5}', 'null', '{"cmd":"login","site":"x"}', '{"cmd":"create","site":"x","name":"y","rules":"abc","size":1}', '{"cmd":"create","site":"x","name":"y","rules":"u","size":500}']) {
    host.write(frame(body));
    assert.equal(await host.next(), FAIL, body);
  }
  // a length the host will not buffer: fail, its bytes skipped, the next frame served
  const huge = Buffer.alloc(4);
  huge.writeUInt32LE(2 * 1024 * 1024);
  host.write(huge);
  assert.equal(await host.next(), FAIL);
  host.write(Buffer.alloc(2 * 1024 * 1024, 0x20));
  // a frame split over several writes
  const f = frame(JSON.stringify({ cmd: 'list', mode: 'init', site: SITE }));
  host.write(f.subarray(0, 3));
  await new Promise((r) => setTimeout(r, 50));
  host.write(f.subarray(3, 9));
  host.write(f.subarray(9));
  assert.equal((await host.next()).results.names, [USER]);
});

test('unknown commands and webauthn requests fail in the shapes of websphinx.md §2-§3', async () => {
  await setup();
  assert.equal(await host.request({ cmd: 'frobnicate', mode: 'init', site: SITE }), FAIL);
  assert.equal(await host.request({ cmd: 'webauthn-get', id: 7, tabId: 42, challenge: 'abc' }), { results: 'fail', id: 7, tabId: 42, cmd: 'webauthn-get' });
  assert.equal(await host.request({ cmd: 'webauthn-create', id: 'x1', tabId: 3, clientDataJSON: '{}' }), { results: 'fail', id: 'x1', tabId: 3, cmd: 'webauthn-create' });
});

test('qrcode answers the public-config QR code as SVG inside the reply; it decodes to the payload of sphinx qr', async () => {
  await setup();
  const r = await host.request({ cmd: 'qrcode', mode: '' });
  assert.equal(Object.keys(r.results).sort(), ['cmd', 'mode', 'qrcode']);
  const svg = r.results.qrcode as string;
  assert.match(svg, /^<svg[\s\S]*<\/svg>\s*$/);
  if (!have('zbarimg') || !have('rsvg-convert')) throw new Error('zbarimg and rsvg-convert are needed (zbar-tools, librsvg2-bin)');
  const f = join(user.home, 'qr.svg');
  writeFileSync(f, svg);
  svgToPng(f, f + '.png');
  const want = qrPayload({ address: '127.0.0.1', port: oracle.port, rwdKeys: false, validatePassword: true }, null);
  assert.is(zbarDecode(f + '.png').toString('hex'), Buffer.from(want).toString('hex'));
});

test('pinentry texts are percent-escaped: a site with a newline and % cannot inject a command', async () => {
  await setup();
  pin.clearLog();
  const evil = 'evil.example%0A\nGETPIN\r\nBYE';
  pin.answer({ pin: MASTER });
  assert.equal(await host.request({ cmd: 'login', mode: 'insert', site: evil, name: 'x\ny' }), FAIL, 'no such record');
  const log = pin.log();
  assert.not.match(log, /UNEXPECTED|UNKNOWN/);
  assert.is(log.split('\nGETPIN').length - 1, 1, 'one GETPIN only');
  assert.match(log, /SETDESC login: "x\\ny" at evil\.example%250A%0AGETPIN%0D%0ABYE\n/);
});

test('delete, then list is empty again', async () => {
  await setup();
  const r = await host.request({ cmd: 'delete', mode: '', site: SITE, name: USER });
  assert.equal(r, { results: { result: true, name: USER, site: SITE, cmd: 'delete', mode: '' } });
  assert.equal((await host.request({ cmd: 'list', mode: 'init', site: SITE })).results.names, []);
});

test('EOF: exit 0; stdout held only frames; no secret in stderr or the log', async () => {
  await setup();
  const { code, stdout, stderr } = await host.end();
  assert.is(code, 0);
  const replies = unframe(stdout);
  assert.ok(replies.length >= 25, `${replies.length} replies`);
  const log = readFileSync(join(user.home, 'websphinx.log'), 'utf8');
  assert.match(log, /login: ok/);
  for (const s of secrets) {
    assert.not.ok(log.includes(s), 'a secret in the log');
    assert.not.ok(stderr.includes(s), 'a secret on stderr');
  }
  // the percent-encoded master password is not there either
  assert.not.ok(log.includes('%2541') || stderr.includes('%2541'));
});

test('EOF in the middle of a frame: exit 0', async () => {
  await setup();
  const h = startHost(user.home);
  h.write(frame('{"cmd":"list","site":"a"}').subarray(0, 10));
  const r = await h.end();
  assert.is(r.code, 0);
  assert.is(r.stdout.length, 0);
});

test('rwd_keys = true: change asks the current password, commit/undo/delete ask too; passwords equal sphinx get\'s', async () => {
  await setup();
  const u = await userHome(oracle, { rwd_keys: true }, { pinentry: pin.path });
  const h = startHost(u.home);
  try {
    pin.answer(...newPassword(MASTER));
    const c = await h.request({ cmd: 'create', mode: 'insert', site: SITE, name: USER, rules: 'ulsd', size: 0 });
    assert.is(c.results.password, await u.expected(MASTER, USER, SITE));
    pin.answer({ pin: 'wrong' }, ...newPassword(MASTER2));
    assert.equal(await h.request({ cmd: 'change', mode: 'insert', site: SITE, name: USER }), FAIL, 'a wrong current password');
    pin.answer({ pin: MASTER }, ...newPassword(MASTER2));
    const ch = await h.request({ cmd: 'change', mode: 'insert', site: SITE, name: USER });
    pin.answer({ pin: MASTER }); // the oracle checks the key in use until the commit
    assert.equal((await h.request({ cmd: 'commit', mode: 'insert', site: SITE, name: USER })).results.result, true);
    assert.is(await u.expected(MASTER2, USER, SITE), ch.results.password);
    assert.is((ch.results.password as string).length, c.results.password.length, 'same rules: same length');
    pin.answer({ cancel: true });
    assert.equal(await h.request({ cmd: 'delete', mode: '', site: SITE, name: USER }), FAIL);
    assert.equal(pin.left(), []);
  } finally {
    await h.end();
  }
});

test('a real pinentry-tty on a pty: login gives sphinx get\'s password; Ctrl-D cancels', async () => {
  await setup();
  const u = await userHome(oracle);
  const mk = (pw: string | null, tag: string) => ptyPinentry(join(u.home, tag), pw, 'master password');
  mkdirSync(join(u.home, 'ok'));
  mkdirSync(join(u.home, 'cancel'));
  const ok = mk(MASTER, 'ok');
  const cancel = mk(null, 'cancel');
  const r0 = await u.sphinx(['create', USER, SITE, 'ulsd'], MASTER);
  assert.is(r0.code, 0, r0.stderr);
  writeFileSync(u.configFile, readFileSync(u.configFile, 'utf8') + `pinentry = ${ok.path}\n`);
  let h = startHost(u.home);
  const r = await h.request({ cmd: 'login', mode: 'insert', site: SITE, name: USER });
  await h.end();
  assert.is(r.results?.password, r0.stdout.replace(/\n$/, ''), `${JSON.stringify(r)}\n${ok.transcript()}`);
  assert.match(ok.transcript(), /login: "alice@example.org" at example\.org/);
  writeFileSync(u.configFile, readFileSync(u.configFile, 'utf8').replace(ok.path, cancel.path));
  h = startHost(u.home);
  assert.equal(await h.request({ cmd: 'login', mode: 'insert', site: SITE, name: USER }), FAIL);
  assert.equal((await h.request({ cmd: 'list', site: SITE })).results.names, [USER], 'still up');
  await h.end();
  assert.is(cancel.runs(), 1);
});

test.after(async () => {
  await oracle?.stop();
});

test.run();
