// contrib/ end to end: the real `sphinx` client of this build against a real
// oracle, under Xvfb, with a real pinentry (pinentry-tty on a pty), real
// dmenu, xinput, xdotool and oathtool. What a window receives is compared with
// what `sphinx get` returns for the same record.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  clickWhenListening,
  cmdline,
  contribDir,
  descendants,
  dmenuPick,
  finish,
  processesHolding,
  requireTools,
  run,
  sphinxBin,
  start,
  tempDir,
  waitFor,
  type Bg,
  type Receiver,
  type XServer,
  startReceiver,
  startXvfb,
} from './helpers/x11-env.js';
import { ptyPinentry, type PtyPinentry } from './helpers/x11-pinentry.js';
import { rejectedPassword } from './helpers/cli.js';
import { startOracle } from './helpers/oracle-process.js';

const script = (name: string): string => join(contribDir(), name);
const dir = tempDir('contrib-e2e');
const home = join(dir, 'home');
const MASTER = `correct horse "battery" 'staple' $(id) %41 \\`;
const pwned = join(dir, 'PWNED');
const HOSTILE_USER = `$(touch ${pwned}) \`touch ${pwned}\`;touch ${pwned} "'" --config=${pwned} -h`;
const HOSTILE_HOST = `--help | touch ${pwned} & %s \\ * -x`;
// A TOTP secret: 32 base32 characters (160 bits), a u+d target password.
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const OTP_SECRET = [...randomBytes(32)].map((b) => B32[b % 32]).join('');

type Oracle = Awaited<ReturnType<typeof startOracle>>;
let oracle: Oracle;
let x: XServer;
let rx: Receiver;
let env: NodeJS.ProcessEnv;
let sphinx: string;

/** Runs the real client directly (not through contrib/): the reference answer. */
async function sphinxCmd(args: string[], input?: string): Promise<{ code: number | null; out: string; err: string }> {
  const r = await run(sphinx, args, { env, cwd: home, ...(input !== undefined ? { input } : {}), timeoutMs: 60_000 });
  return { code: r.code, out: r.stdout.toString('utf8'), err: r.stderr };
}

async function expectedPassword(user: string, host: string): Promise<string> {
  const r = await sphinxCmd(['get', '--', user, host], MASTER);
  assert.is(r.code, 0, `sphinx get ${user} ${host}: ${r.err}`);
  assert.ok(r.out.endsWith('\n'));
  const pw = r.out.slice(0, -1);
  assert.ok(pw.length > 0 && !pw.includes('\n'));
  return pw;
}

const pinDirs: string[] = [];
function withPinentry(password: string | null): { pin: PtyPinentry; env: NodeJS.ProcessEnv } {
  const d = tempDir('contrib-pin');
  pinDirs.push(d);
  const pin = ptyPinentry(d, password);
  return { pin, env: { ...env, PINENTRY: pin.path } };
}

function launch(name: string, args: string[], e: NodeJS.ProcessEnv): Bg {
  return start(script(name), args, { env: e, cwd: home });
}

// uvu swallows an exception thrown by a before hook (the run then only
// counts fewer passes): keep it and fail every test with it instead.
let setupError: unknown;
function ready(): void {
  if (setupError) throw setupError;
}

test.before(async () => {
  try {
    requireTools('Xvfb', 'xdotool', 'xinput', 'xterm', 'dmenu', 'oathtool', 'pinentry-tty', 'python3', 'mkfifo', 'awk');
    // Every test asks the oracle for the same few records within a minute or
    // two; with the default rl_threshold = 1 the puzzles would get harder at
    // every other request. Rate limiting is the oracle's tests' business.
    oracle = await startOracle({ server: { rl_threshold: 1000 } });
    x = await startXvfb();
    rx = await startReceiver(x, dir);
    const bin = sphinxBin(dir);
    sphinx = bin.sphinx;
    mkdirSync(home, { recursive: true, mode: 0o700 });
    writeFileSync(
      join(home, '.sphinxrc'),
      `[client]\naddress = 127.0.0.1\nport = ${oracle.port}\ndatadir = ${join(home, 'sphinx-data')}\nssl_cert = ${oracle.certPath}\n`,
    );
    env = { ...x.env, HOME: home, PATH: `${bin.bin}:${process.env['PATH'] ?? ''}`, SPHINX: sphinx };
    delete env['PINENTRY'];
    let r = await sphinxCmd(['init']);
    assert.is(r.code, 0, `sphinx init: ${r.err}`);
    for (const [user, host] of [
      ['alice', 'example.com'],
      ['bob', 'example.com'],
      [HOSTILE_USER, HOSTILE_HOST],
    ] as const) {
      r = await sphinxCmd(['create', '--', user, host], MASTER);
      assert.is(r.code, 0, `sphinx create ${user} ${host}: ${r.err}`);
    }
    r = await sphinxCmd(['create', '--target', OTP_SECRET, '--', 'otp://alice', 'example.com'], MASTER);
    assert.is(r.code, 0, `sphinx create otp://alice: ${r.err}`);
    r = await sphinxCmd(['get', '--raw', '--', 'otp://alice', 'example.com'], MASTER);
    assert.is(r.out, OTP_SECRET + '\n', 'the TOTP secret comes back as stored (get --raw)');
  } catch (e) {
    setupError = e;
  }
});

test.after(async () => {
  await rx?.stop();
  await x?.stop();
  await oracle?.stop();
  rmSync(dir, { recursive: true, force: true });
  for (const d of pinDirs) rmSync(d, { recursive: true, force: true });
});

test('type-pwd: the window receives exactly what sphinx get returns; no secret in any argv or environment', async () => {
  ready();
  const want = await expectedPassword('alice', 'example.com');
  const { pin, env: e } = withPinentry(MASTER);
  const bg = launch('type-pwd', ['alice', 'example.com'], e);
  // While it waits for the click, the password sits in a pipe: nowhere else.
  await waitFor('exec-on-click to listen', 60_000, () => {
    if (bg.exited()) throw new Error('type-pwd ended early');
    return descendants(bg.pid, 'xinput')[0];
  });
  assert.equal(processesHolding(want), [], 'no argv/environ holds the password');
  assert.equal(processesHolding(MASTER), [], 'no argv/environ holds the master password');
  assert.is(await rx.sync(), '', 'nothing typed before the click');
  await clickWhenListening(x, bg);
  const r = await finish(bg, 30_000, 'type-pwd');
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.length, 0);
  assert.is(await rx.sync(), want);
  assert.is(pin.runs(), 1);
  assert.match(pin.transcript(), 'Password of alice at example.com');
});

test('type-pwd: a wrong master password types nothing and never waits for a click', async () => {
  ready();
  // A wrong password whose check digit differs (31 in 32 do), found with the client itself.
  const wrong = await rejectedPassword((pw) => sphinxCmd(['get', 'alice', 'example.com'], pw), `${MASTER}-wrong-`);
  assert.ok(wrong, 'found a master password that sphinx rejects with exit 2');
  const { pin, env: e } = withPinentry(wrong);
  const bg = launch('type-pwd', ['alice', 'example.com'], e);
  let sawXinput = false;
  const watch = setInterval(() => (sawXinput ||= descendants(bg.pid, 'xinput').length > 0), 20);
  const r = await finish(bg, 60_000, 'type-pwd').finally(() => clearInterval(watch));
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /wrong master password/);
  assert.not.ok(sawXinput, 'never waited for a click');
  assert.is(pin.runs(), 1);
  assert.is(await rx.sync(), '', 'nothing typed');

  // Cancelling pinentry: nothing typed, and sphinx is not even asked.
  const cancel = withPinentry(null);
  const c = await finish(launch('type-pwd', ['alice', 'example.com'], cancel.env), 60_000, 'type-pwd');
  assert.is(c.code, 1);
  assert.match(c.stderr, /no master password/);
  assert.is(await rx.sync(), '');

  // An unknown record: sphinx fails, nothing typed.
  const unknown = withPinentry(MASTER);
  const u = await finish(launch('type-pwd', ['nobody', 'example.com'], unknown.env), 60_000, 'type-pwd');
  assert.is(u.code, 1, u.stderr);
  assert.match(u.stderr, /sphinx get failed/);
  assert.is(await rx.sync(), '');
});

test('type-pwd: hostile user and host strings are just names', async () => {
  ready();
  const want = await expectedPassword(HOSTILE_USER, HOSTILE_HOST);
  const { env: e } = withPinentry(MASTER);
  const bg = launch('type-pwd', [HOSTILE_USER, HOSTILE_HOST], e);
  await clickWhenListening(x, bg, 60_000);
  const r = await finish(bg, 30_000, 'type-pwd');
  assert.is(r.code, 0, r.stderr);
  assert.is(await rx.sync(), want);
  assert.not.ok(existsSync(pwned), 'no command was injected');
});

test('sphinx-x11 user-pass-otp: user, Tab, password, Return, then a TOTP code oathtool accepts (computed by sphinx totp: no oathtool on its PATH)', async () => {
  ready();
  const want = await expectedPassword('alice', 'example.com');
  const { pin, env: e } = withPinentry(MASTER);
  // An "oathtool" first on sphinx-x11's PATH that would leave a mark: the script must not need one.
  const noOath = join(dir, 'no-oathtool');
  mkdirSync(noOath, { recursive: true });
  const oathMark = join(dir, 'oathtool-was-run');
  writeFileSync(join(noOath, 'oathtool'), `#!/bin/sh\ntouch '${oathMark}'\nexit 99\n`, { mode: 0o755 });
  const bg = launch('sphinx-x11', [script('sphinx-scripts/user-pass-otp'), 'alice', 'example.com'], { ...e, PATH: `${noOath}:${e['PATH'] ?? ''}` });
  await clickWhenListening(x, bg, 60_000);
  // the login page is "submitted"; now the second click, into the code field
  await clickWhenListening(x, bg, 30_000);
  const r = await finish(bg, 30_000, 'sphinx-x11');
  assert.is(r.code, 0, r.stderr);
  const typed = await rx.sync();
  const m = /^alice\t(.*)\r(\d{6})\r$/s.exec(typed);
  assert.ok(m, `typed ${JSON.stringify(typed)}`);
  assert.is(m![1], want);
  const check = await run('oathtool', ['--totp', '-b', '-w', '2', '-', m![2]!], { input: OTP_SECRET });
  assert.is(check.code, 0, `oathtool accepts ${m![2]}: ${check.stderr}`);
  const other = await run('oathtool', ['--totp', '-b', '-w', '2', '-', m![2]!], { input: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' });
  assert.is.not(other.code, 0, 'a code of another secret is rejected (the check can fail)');
  assert.is(pin.runs(), 1, 'the master password was asked once for pwd and otp');
  assert.not.ok(existsSync(oathMark), 'sphinx-x11 did not run oathtool');
});

test('type-pwd and the pwd line of sphinx-x11 refuse key records (private keys are never typed): nothing asked, nothing typed', async () => {
  ready();
  for (const user of ['age://alice', 'ssh-ed25519://alice', 'minisig://alice']) {
    const { pin, env: e } = withPinentry(MASTER);
    const t = await finish(launch('type-pwd', [user, 'example.com'], e), 30_000, 'type-pwd');
    assert.is(t.code, 1, t.stderr);
    assert.match(t.stderr, /is a key record/);
    const x11 = await finish(launch('sphinx-x11', [script('sphinx-scripts/user-pass'), user, 'example.com'], e), 30_000, 'sphinx-x11');
    assert.is(x11.code, 1, x11.stderr);
    assert.match(x11.stderr, /is a key record/);
    assert.is(pin.runs(), 0, 'no master password was asked');
    assert.is(await rx.sync(), '', 'nothing typed');
  }
});

test('sphinx-x11 user-pass with hostile user and host: typed exactly, nothing injected', async () => {
  ready();
  const want = await expectedPassword(HOSTILE_USER, HOSTILE_HOST);
  const { env: e } = withPinentry(MASTER);
  const bg = launch('sphinx-x11', [script('sphinx-scripts/user-pass'), HOSTILE_USER, HOSTILE_HOST], e);
  await clickWhenListening(x, bg, 60_000);
  const r = await finish(bg, 30_000, 'sphinx-x11');
  assert.is(r.code, 0, r.stderr);
  assert.is(await rx.sync(), `${HOSTILE_USER}\t${want}\r`);
  assert.not.ok(existsSync(pwned), 'no command was injected');
});

test('sphinx-x11: a wrong master password types nothing, not even the user name', async () => {
  ready();
  const wrong = await rejectedPassword((pw) => sphinxCmd(['get', 'alice', 'example.com'], pw), 'x11-wrong-');
  assert.ok(wrong);
  const s = join(dir, 'user-first.script');
  writeFileSync(s, 'user\ntab\npwd\n');
  const { env: e } = withPinentry(wrong);
  const r = await finish(launch('sphinx-x11', [s, 'alice', 'example.com'], e), 60_000, 'sphinx-x11');
  assert.is(r.code, 2, r.stderr);
  assert.is(await rx.sync(), '');
  // No TOTP secret stored for bob: the otp script stops before typing.
  const { env: e2 } = withPinentry(MASTER);
  const r2 = await finish(launch('sphinx-x11', [script('sphinx-scripts/otp'), 'bob', 'example.com'], e2), 60_000, 'sphinx-x11');
  assert.is(r2.code, 1, r2.stderr);
  assert.match(r2.stderr, /TOTP secret/);
  assert.is(await rx.sync(), '');
});

test('dmenu-sphinx: host from the history, user menu, typed password; history deduplicated', async () => {
  ready();
  const history = join(home, '.sphinx-hosts');
  writeFileSync(history, `other.org\nexample.com\n${HOSTILE_HOST}\nother.org\nexample.com\n`);
  const want = await expectedPassword('bob', 'example.com');
  const { env: e } = withPinentry(MASTER);
  const bg = launch('dmenu-sphinx', [], e);
  await dmenuPick(x, bg, 'host', 'example.com');
  await dmenuPick(x, bg, 'user', 'bob');
  await clickWhenListening(x, bg, 60_000);
  const r = await finish(bg, 30_000, 'dmenu-sphinx');
  assert.is(r.code, 0, r.stderr);
  assert.is(await rx.sync(), want);
  assert.is(readFileSync(history, 'utf8'), `example.com\nother.org\n${HOSTILE_HOST}\n`);
  assert.is(statSync(history).mode & 0o777, 0o600);
});

test('dmenu-sphinx: one user skips the user menu; hostile host; SPHINX_HOSTS= keeps no history', async () => {
  ready();
  const history = join(home, '.sphinx-hosts');
  const before = readFileSync(history, 'utf8');
  const want = await expectedPassword(HOSTILE_USER, HOSTILE_HOST);
  const { env: e } = withPinentry(MASTER);
  const bg = launch('dmenu-sphinx', [], { ...e, SPHINX_HOSTS: '' });
  let userMenu = false;
  const watch = setInterval(() => (userMenu ||= descendants(bg.pid, 'dmenu').some((p) => cmdline(p).includes('user'))), 20);
  // With no history nothing matches, so Return gives the typed text.
  await dmenuPick(x, bg, 'host', HOSTILE_HOST);
  await clickWhenListening(x, bg, 60_000);
  const r = await finish(bg, 30_000, 'dmenu-sphinx').finally(() => clearInterval(watch));
  assert.not.ok(userMenu, 'no user menu for a host with one user');
  assert.is(r.code, 0, r.stderr);
  assert.is(await rx.sync(), want);
  assert.is(readFileSync(history, 'utf8'), before, 'history untouched');
  assert.not.ok(existsSync(pwned), 'no command was injected');
});

test('dmenu-sphinx: key records are not offered (a password user next to an age:// record: no user menu)', async () => {
  ready();
  for (const user of ['carol', 'age://carol']) {
    const c = await sphinxCmd(['create', '--', user, 'keys.example'], MASTER);
    assert.is(c.code, 0, `create ${user}: ${c.err}`);
  }
  const want = await expectedPassword('carol', 'keys.example');
  const { env: e } = withPinentry(MASTER);
  const bg = launch('dmenu-sphinx', [], { ...e, SPHINX_HOSTS: '' });
  let userMenu = false;
  const watch = setInterval(() => (userMenu ||= descendants(bg.pid, 'dmenu').some((p) => cmdline(p).includes('user'))), 20);
  await dmenuPick(x, bg, 'host', 'keys.example');
  await clickWhenListening(x, bg, 60_000);
  const r = await finish(bg, 30_000, 'dmenu-sphinx').finally(() => clearInterval(watch));
  assert.is(r.code, 0, r.stderr);
  assert.not.ok(userMenu, 'age://carol was filtered out, so one user is left: no menu');
  assert.is(await rx.sync(), want);
});

test.run();
