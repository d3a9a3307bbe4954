// pinentry-sphinx with the real tools: a real gpg-agent (Debian's gnupg) in
// a temporary GNUPGHOME whose pinentry-program is the BUILT pinentry-sphinx,
// a real oracle, the user's config found the normal way (HOME), and the
// scripted real pinentry behind it ([pinentry] pinentry) playing the human.
// gpg-agent caches nothing (ttl 0), so every operation asks again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv } from './helpers/cli.js';
import { startOracle, type RunningOracle } from './helpers/oracle-process.js';
import { scriptedPinentry, userHome, type ScriptedPinentry, type UserHome } from './helpers/websphinx.js';
import { ptyPinentry } from './helpers/x11-pinentry.js';
import { requireTools, run, start, type RunResult } from './helpers/x11-env.js';

const PINENTRY_SPHINX = resolve(dirname(fileURLToPath(import.meta.url)), '../pinentry-sphinx/main.js');
const MASTER = 'correct horse % battery\tstaple';
const SITE = 'gpg-agent';

let oracle: RunningOracle | null = null;
let user: UserHome;
let pin: ScriptedPinentry;
let gnupghome = '';
let scratch = '';
let env: NodeJS.ProcessEnv;
/** the key made without passphrase: primary (signs) and encryption subkey */
let signGrip = '';
let encGrip = '';
/** its authentication subkey, offered to SSH clients through sshcontrol */
let authGrip = '';
let fpr = '';
/** a second key with its own passphrase, no SPHINX record */
let ownGrip = '';
let ownFpr = '';
const OWN_PASS = 'its own passphrase';

const gpg = (args: string[], input?: string): Promise<RunResult> => run('gpg', ['--batch', ...args], { env, input: input ?? '', timeoutMs: 90_000 });
const protect = (grip: string): Promise<RunResult> => run(PINENTRY_SPHINX, ['protect', grip], { env, timeoutMs: 90_000 });

/** keygrips of a key in `gpg --with-colons --with-keygrip -K` order (primary, subkeys), and its fingerprint */
async function keyOf(uid: string): Promise<{ grips: string[]; fpr: string }> {
  const r = await gpg(['--with-colons', '--with-keygrip', '-K', uid]);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.toString().split('\n');
  return { grips: lines.filter((l) => l.startsWith('grp:')).map((l) => l.split(':')[9]!), fpr: lines.find((l) => l.startsWith('fpr:'))!.split(':')[9]! };
}

async function keyinfo(grip: string): Promise<string> {
  const r = await run('gpg-connect-agent', [`KEYINFO ${grip}`, '/bye'], { env });
  return r.stdout.toString();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** pids whose command line contains `needle` */
function pidsRunning(needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').includes(needle)) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/** Waits until the scripted pinentry shows the master-password question (its answer held). */
async function masterPasswordAsked(): Promise<void> {
  for (let i = 0; i < 600 && !/^SETPROMPT SPHINX master password:\nGETPIN$/m.test(pin.log()); i++) await sleep(100);
  assert.match(pin.log(), /^SETPROMPT SPHINX master password:\nGETPIN$/m, 'the master password was asked');
}

test.before(async () => {
  requireTools('gpg', 'gpg-agent', 'gpgconf', 'gpg-connect-agent');
  // Every unlock READs the [pinentry] host's user list and GETs a record: with the default rl_threshold = 1 the
  // puzzles would get harder with each of this file's many operations, and a slow machine would miss their windows.
  oracle = await startOracle({ server: { rl_threshold: 1000000 } });
  gnupghome = mkdtempSync('/tmp/pe-gpg-'); // short: gpg-agent's socket path must fit in 107 bytes
  scratch = mkdtempSync('/tmp/pe-pin-');
  pin = scriptedPinentry(scratch);
  user = await userHome(oracle, {}, {}, { pinentry: { pinentry: pin.path } });
  env = cleanEnv({ HOME: user.home, GNUPGHOME: gnupghome, GPG_TTY: undefined, DISPLAY: undefined, WAYLAND_DISPLAY: undefined, LC_ALL: 'C.UTF-8' });
  writeFileSync(join(gnupghome, 'gpg-agent.conf'), `pinentry-program ${PINENTRY_SPHINX}\ndefault-cache-ttl 0\nmax-cache-ttl 0\ndefault-cache-ttl-ssh 0\nmax-cache-ttl-ssh 0\nenable-ssh-support\n`);
  const g = await gpg(['--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'SPHINX test <sphinx@example.org>', 'future-default', 'default', 'never']);
  assert.is(g.code, 0, g.stderr);
  fpr = (await keyOf('sphinx@example.org')).fpr;
  const a = await gpg(['--pinentry-mode', 'loopback', '--passphrase', '', '--quick-add-key', fpr, 'ed25519', 'auth', 'never']);
  assert.is(a.code, 0, a.stderr);
  [signGrip, encGrip, authGrip] = (await keyOf('sphinx@example.org')).grips as [string, string, string];
  const o = await gpg(['--pinentry-mode', 'loopback', '--passphrase', OWN_PASS, '--quick-gen-key', 'Own passphrase <own@example.org>', 'future-default', 'default', 'never']);
  assert.is(o.code, 0, o.stderr);
  const ok = await keyOf('own@example.org');
  ownGrip = ok.grips[0]!;
  ownFpr = ok.fpr;
});

// a failed test may leave answers queued: they must not answer the next test's questions
test.before.each(() => pin?.clearQueue());

test.after(async () => {
  if (gnupghome) await run('gpgconf', ['--kill', 'gpg-agent'], { env }).catch(() => undefined);
  await oracle?.stop();
  for (const d of [gnupghome, scratch, user?.home]) if (d) rmSync(d, { recursive: true, force: true });
});

test('--help, --version, a bad keygrip (exit 100), protect without a keygrip', async () => {
  const h = await run(PINENTRY_SPHINX, ['--help'], { env });
  assert.is(h.code, 0);
  assert.match(h.stdout.toString(), /protect KEYGRIP/);
  const v = await run(PINENTRY_SPHINX, ['--version'], { env });
  assert.match(v.stdout.toString(), /^pinentry-sphinx \(sphinx-ts\) \d+\.\d+\.\d+\n$/);
  const bad = await protect('XYZ');
  assert.is(bad.code, 100);
  assert.match(bad.stderr, /is not a keygrip/);
  assert.not.match(bad.stderr, /\n\s+at /, 'no stack trace');
  const none = await run(PINENTRY_SPHINX, ['protect'], { env });
  assert.is(none.code, 100);
});

test('[pinentry] pinentry naming pinentry-sphinx itself: one clear line, exit 1, no endless chain of processes', async () => {
  const home = mkdtempSync('/tmp/pe-self-');
  try {
    writeFileSync(join(home, '.sphinxrc'), `[pinentry]\npinentry = ${PINENTRY_SPHINX}\n`);
    const r = await run(PINENTRY_SPHINX, [], { env: { ...env, HOME: home }, input: 'GETINFO pid\nBYE\n', timeoutMs: 30_000 });
    assert.is(r.code, 1);
    assert.match(r.stderr, /names pinentry-sphinx itself/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('protect: creates the record and sets the key passphrase to the derived password (loopback: wrong fails, derived works)', async () => {
  for (const grip of [signGrip, encGrip]) {
    assert.match(await keyinfo(grip), new RegExp(`KEYINFO ${grip} D - - - C `), 'no passphrase before');
    pin.answer({ pin: MASTER }, { pin: MASTER });
    const r = await protect(grip.toLowerCase()); // lower case is taken, the record uses gpg's upper case
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /is now protected by SPHINX/);
    assert.equal(pin.left(), []);
    assert.match(await keyinfo(grip), new RegExp(`KEYINFO ${grip} D - - - P `), 'protected after');
  }
  const list = await user.sphinx(['list', SITE]);
  assert.equal(list.stdout.trim().split('\n').sort(), [signGrip, encGrip].sort());
  const wrong = await gpg(['--pinentry-mode', 'loopback', '--passphrase', 'not it', '-s', '-u', fpr], 'x');
  assert.is.not(wrong.code, 0);
  assert.match(wrong.stderr, /Bad passphrase/);
  const derived = await user.expected(MASTER, signGrip, SITE);
  const right = await gpg(['--pinentry-mode', 'loopback', `--passphrase=${derived}`, '-s', '-u', fpr], 'x');
  assert.is(right.code, 0, right.stderr);
  assert.not.ok(pin.log().includes(derived), 'the derived password never reaches the real pinentry');
});

test('protect refuses a key that has a record already, and a key gpg-agent does not hold, asking nothing', async () => {
  pin.clearLog();
  const again = await protect(signGrip);
  assert.is(again.code, 1);
  assert.match(again.stderr, /exists already.*nothing was changed/);
  const missing = await protect('0123456789ABCDEF0123456789ABCDEF01234567');
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /no such secret key/, missing.stderr);
  assert.not.match(pin.log(), /GETPIN/);
});

test('gpg --sign and --decrypt unlock through pinentry-sphinx with the master password; gpg-agent\'s prompt is quoted, the master password is asked on the real pinentry', async () => {
  pin.clearLog();
  pin.answer({ pin: MASTER });
  const s = await gpg(['-u', fpr, '--output', '-', '--sign'], 'signed through SPHINX\n');
  assert.is(s.code, 0, s.stderr);
  assert.equal(pin.left(), []);
  const v = await run('gpg', ['--batch', '--verify'], { env, input: s.stdout });
  assert.is(v.code, 0, v.stderr);
  const log = pin.log();
  assert.match(log, /^OPTION /m, 'gpg-agent\'s options reach the real pinentry');
  assert.match(log, /^GETINFO pid$/m);
  assert.match(log, new RegExp(`^SETKEYINFO n/${signGrip}$`, 'm'));
  assert.match(log, /^SETDESC Please enter the passphrase/m, 'gpg-agent\'s own description reaches the real pinentry');
  assert.match(log, /^SETKEYINFO --clear$/m, 'no keyinfo for the master password (no external cache keeps it)');
  assert.match(log, new RegExp(`^SETDESC Unlock the OpenPGP key ${signGrip} with SPHINX.*gpg-agent asks:%0APlease enter the passphrase`, 'm'));
  assert.match(log, /^SETPROMPT SPHINX master password:$/m);
  assert.not.match(log, /UNEXPECTED|UNKNOWN/);

  const enc = await gpg(['--trust-model', 'always', '-r', fpr, '--output', '-', '--encrypt'], 'a secret for the subkey\n');
  assert.is(enc.code, 0, enc.stderr);
  pin.clearLog();
  pin.answer({ pin: MASTER });
  const d = await run('gpg', ['--batch', '--decrypt'], { env, input: enc.stdout, timeoutMs: 90_000 });
  assert.is(d.code, 0, d.stderr);
  assert.is(d.stdout.toString(), 'a secret for the subkey\n');
  assert.match(pin.log(), new RegExp(`^SETKEYINFO n/${encGrip}$`, 'm'));
});

test('a wrong master password is asked again (SETERROR, 3 tries), then fails the operation with "Bad passphrase" and a message', async () => {
  // one the record's 5-bit check digit rejects (1 wrong password in 32 passes it; the masterkey is new on every run)
  const wrong = await user.rejected(signGrip, SITE);
  pin.clearLog();
  pin.answer(...Array.from({ length: 3 }, () => ({ pin: wrong })));
  const s = await gpg(['-u', fpr, '--output', '-', '--sign'], 'x');
  assert.is.not(s.code, 0);
  assert.match(s.stderr, /Bad passphrase/);
  const log = pin.log();
  assert.match(log, /^SETERROR Wrong SPHINX master password \(bad check digit\); try 2 of 3\nGETPIN$/m);
  assert.match(log, /^SETERROR Wrong SPHINX master password \(bad check digit\); try 3 of 3\nGETPIN$/m);
  assert.match(log, /^SETDESC pinentry-sphinx: wrong SPHINX master password \(bad check digit\), 3 times.*\nMESSAGE$/m);
  assert.equal(pin.left(), [], 'asked exactly 3 times');
});

test('a mistyped master password, then the right one: the operation succeeds', async () => {
  const mistyped = await user.rejected(signGrip, SITE);
  pin.clearLog();
  pin.answer({ pin: mistyped }, { pin: MASTER });
  const s = await gpg(['-u', fpr, '--output', '-', '--sign'], 'x');
  assert.is(s.code, 0, s.stderr);
  assert.equal(pin.left(), []);
  assert.match(pin.log(), /^SETERROR Wrong SPHINX master password \(bad check digit\); try 2 of 3\nGETPIN$/m, 'asked again by pinentry-sphinx');
});

test('another error of the real pinentry at the master password (a timeout) reaches gpg-agent as it is', async () => {
  pin.answer({ err: 'ERR 83886142 Timeout <Pinentry>' });
  const s = await gpg(['-u', fpr, '--output', '-', '--sign'], 'x');
  assert.is.not(s.code, 0);
  assert.match(s.stderr, /Timeout/);
  assert.not.match(s.stderr, /[Oo]peration cancelled/);
  assert.equal(pin.left(), []);
});

test('cancel at the master password fails with "Operation cancelled"', async () => {
  pin.answer({ cancel: true });
  const s = await gpg(['-u', fpr, '--output', '-', '--sign'], 'x');
  assert.is.not(s.code, 0);
  assert.match(s.stderr, /[Oo]peration cancelled/);
  assert.equal(pin.left(), []);
});

test('a key with no SPHINX record: gpg-agent\'s GETPIN goes to the real pinentry untouched', async () => {
  pin.clearLog();
  pin.answer({ pin: OWN_PASS });
  const s = await gpg(['-u', ownFpr, '--output', '-', '--sign'], 'x');
  assert.is(s.code, 0, s.stderr);
  const log = pin.log();
  assert.match(log, new RegExp(`^SETKEYINFO n/${ownGrip}$`, 'm'));
  assert.match(log, /^SETDESC Please enter the passphrase[^\n]*\nSETPROMPT Passphrase:\nGETPIN$/m);
  assert.not.match(log, /SPHINX master password/);
});

test('CONFIRM (gpg-agent GET_CONFIRMATION) reaches the real pinentry, its answer comes back', async () => {
  pin.clearLog();
  pin.answer({ confirm: true });
  const yes = await run('gpg-connect-agent', ['GET_CONFIRMATION Do%20it?', '/bye'], { env });
  assert.match(yes.stdout.toString(), /^OK/m);
  pin.answer({ confirm: false });
  const no = await run('gpg-connect-agent', ['GET_CONFIRMATION Do%20it?', '/bye'], { env });
  assert.match(no.stdout.toString(), /^ERR \d+ .*cancel/im);
  assert.match(pin.log(), /^SETDESC Do%20it\?\nCONFIRM$/m, 'relayed byte for byte');
});

test('protect a key that has a passphrase: a wrong current passphrase leaves everything as it was; the right one protects it', async () => {
  pin.answer({ pin: MASTER }, { pin: MASTER }, { pin: 'not the passphrase' });
  const bad = await protect(ownGrip);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /current passphrase.*record was deleted again/);
  assert.not.ok((await user.sphinx(['list', SITE])).stdout.includes(ownGrip), 'no record left');
  const still = await gpg(['--pinentry-mode', 'loopback', '--passphrase', OWN_PASS, '-s', '-u', ownFpr], 'x');
  assert.is(still.code, 0, 'the old passphrase still works');
  pin.answer({ pin: MASTER }, { pin: MASTER }, { pin: OWN_PASS });
  const good = await protect(ownGrip);
  assert.is(good.code, 0, good.stderr);
  const derived = await user.expected(MASTER, ownGrip, SITE);
  const now = await gpg(['--pinentry-mode', 'loopback', `--passphrase=${derived}`, '-s', '-u', ownFpr], 'x');
  assert.is(now.code, 0, now.stderr);
});

test('the REAL pinentry-tty behind it (on a pty, a python driver typing): gpg --sign asks the master password there and succeeds', async () => {
  const dir = mkdtempSync('/tmp/pe-tty-');
  const cfg = readFileSync(user.configFile, 'utf8');
  try {
    const tty = ptyPinentry(dir, MASTER);
    writeFileSync(user.configFile, cfg.replace(`pinentry = ${pin.path}`, `pinentry = ${tty.path}`));
    const s = await gpg(['-u', fpr, '--output', '-', '--sign'], 'typed on a terminal\n');
    assert.is(s.code, 0, s.stderr + tty.transcript());
    // the driver writes its transcript once pinentry-tty has exited, which gpg does not wait for
    for (let i = 0; i < 100 && tty.runs() === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.is(tty.runs(), 1);
    assert.match(tty.transcript(), new RegExp(`Unlock the OpenPGP key ${signGrip} with SPHINX`));
    assert.match(tty.transcript(), /answered=1/);
  } finally {
    writeFileSync(user.configFile, cfg);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an SSH key gpg-agent holds (sshcontrol, SETKEYINFO s/KEYGRIP): protected, then ssh-keygen -Y sign through the agent asks the master password', async () => {
  requireTools('ssh-add', 'ssh-keygen');
  writeFileSync(join(gnupghome, 'sshcontrol'), `${authGrip} 0\n`);
  const sock = (await run('gpgconf', ['--list-dirs', 'agent-ssh-socket'], { env })).stdout.toString().trim();
  const sshEnv = { ...env, SSH_AUTH_SOCK: sock };
  const l = await run('ssh-add', ['-L'], { env: sshEnv });
  assert.is(l.code, 0, l.stderr);
  const pub = l.stdout.toString().trim().split('\n')[0]!;
  assert.match(pub, /^ssh-ed25519 /);
  pin.answer({ pin: MASTER }, { pin: MASTER });
  const p = await protect(authGrip);
  assert.is(p.code, 0, p.stderr);
  const dir = mkdtempSync('/tmp/pe-ssh-');
  try {
    writeFileSync(join(dir, 'key.pub'), pub + '\n');
    writeFileSync(join(dir, 'msg'), 'signed by an SSH key unlocked with SPHINX\n');
    pin.clearLog();
    pin.answer({ pin: MASTER });
    const sig = await run('ssh-keygen', ['-Y', 'sign', '-f', join(dir, 'key.pub'), '-n', 'file', join(dir, 'msg')], { env: sshEnv, timeoutMs: 90_000 });
    assert.is(sig.code, 0, sig.stderr);
    assert.match(pin.log(), new RegExp(`^SETKEYINFO s/${authGrip}$`, 'm'));
    assert.match(pin.log(), new RegExp(`^SETDESC Unlock the SSH key ${authGrip} with SPHINX`, 'm'));
    writeFileSync(join(dir, 'allowed'), `me ${pub}\n`);
    const v = await run('ssh-keygen', ['-Y', 'verify', '-f', join(dir, 'allowed'), '-I', 'me', '-n', 'file', '-s', join(dir, 'msg.sig')], { env, input: readFileSync(join(dir, 'msg')) });
    assert.is(v.code, 0, v.stderr);
    rmSync(join(dir, 'msg.sig'));
    pin.answer({ cancel: true });
    const no = await run('ssh-keygen', ['-Y', 'sign', '-f', join(dir, 'key.pub'), '-n', 'file', join(dir, 'msg')], { env: sshEnv, timeoutMs: 90_000 });
    assert.is.not(no.code, 0, 'cancel: no signature');
    assert.equal(pin.left(), [], 'the cancel was asked for');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A key with its own passphrase made for the next two tests (none of the others touch it). */
const SPARE_PASS = 'the spare key passphrase';
let spare: { grip: string; fpr: string } | null = null;
async function spareKey(): Promise<{ grip: string; fpr: string }> {
  if (!spare) {
    const g = await gpg(['--pinentry-mode', 'loopback', `--passphrase=${SPARE_PASS}`, '--quick-gen-key', 'Spare <spare@example.org>', 'future-default', 'default', 'never']);
    assert.is(g.code, 0, g.stderr);
    const k = await keyOf('spare@example.org');
    spare = { grip: k.grips[0]!, fpr: k.fpr };
  }
  return spare;
}

test('a stale record (a key whose passphrase is not the SPHINX one): gpg-agent refuses the SPHINX password, then its own prompt comes with a note, and the real passphrase works', async () => {
  const { grip, fpr: spareFpr } = await spareKey();
  const c = await user.sphinx(['create', '--', grip, SITE], MASTER);
  assert.is(c.code, 0, c.stderr);
  try {
    pin.clearLog();
    pin.answer({ pin: MASTER }, { pin: SPARE_PASS });
    const s = await gpg(['-u', spareFpr, '--output', '-', '--sign'], 'x');
    assert.is(s.code, 0, s.stderr);
    assert.equal(pin.left(), []);
    const log = pin.log();
    assert.match(log, /SPHINX master password/, 'answered from SPHINX first');
    assert.match(log, /^SETERROR pinentry-sphinx: gpg-agent refused the SPHINX password of this key[^\n]*\nGETPIN$/m, 'then gpg-agent\'s prompt, with the note');
    assert.is(log.match(/SETPROMPT SPHINX master password:/g)?.length, 1, 'the master password was asked once');
  } finally {
    const d = await user.sphinx(['delete', '--', grip, SITE], MASTER);
    assert.is(d.code, 0, d.stderr);
  }
});

test('protect interrupted (SIGTERM while the master password is asked): exit 143, no record, the key as it was', async () => {
  const hold = join(scratch, 'hold-protect');
  pin.clearLog();
  const { grip, fpr: spareFpr } = await spareKey();
  pin.answer({ pin: MASTER, hold }, { pin: MASTER }, { pin: SPARE_PASS });
  const p = start(PINENTRY_SPHINX, ['protect', grip], { env });
  try {
    await masterPasswordAsked();
    process.kill(p.pid, 'SIGTERM');
  } finally {
    writeFileSync(hold, '');
  }
  const r = await p.done;
  assert.is(r.code, 143, r.stderr);
  assert.match(r.stderr, /interrupted \(SIGTERM\); nothing was changed/);
  const l = await user.sphinx(['list', SITE]);
  assert.not.match(l.stdout, new RegExp(grip), 'no record was created');
  const own = await gpg(['--pinentry-mode', 'loopback', `--passphrase=${SPARE_PASS}`, '-u', spareFpr, '--output', '-', '--sign'], 'x');
  assert.is(own.code, 0, `the key keeps its own passphrase: ${own.stderr}`);
});

test('pinentry-sphinx stopped (SIGTERM) while the master password is asked: the real pinentry\'s dialog ends too, gpg fails', async () => {
  const hold = join(scratch, 'hold-term');
  pin.clearLog();
  pin.answer({ pin: MASTER, hold });
  const signing = gpg(['-u', fpr, '--output', '-', '--sign'], 'x');
  try {
    await masterPasswordAsked();
    const proxies = pidsRunning(PINENTRY_SPHINX);
    assert.is(proxies.length, 1, `one pinentry-sphinx running: ${proxies.join(' ')}`);
    const real = pidsRunning(join(scratch, 'pinentry.cjs'));
    assert.ok(real.length >= 1, 'the real (scripted) pinentry is running');
    process.kill(proxies[0]!, 'SIGTERM');
    for (let i = 0; i < 100 && pidsRunning(join(scratch, 'pinentry.cjs')).length; i++) await sleep(50);
    assert.equal(pidsRunning(join(scratch, 'pinentry.cjs')), [], 'the real pinentry ended with it (no dialog left open)');
  } finally {
    writeFileSync(hold, '');
  }
  const s = await signing;
  assert.is.not(s.code, 0);
});

test('the oracle gone while the master password is asked: the user reads why, gpg says "Network error"', async () => {
  const hold = join(scratch, 'hold');
  pin.clearLog();
  pin.answer({ pin: MASTER, hold });
  const signing = gpg(['-u', fpr, '--output', '-', '--sign'], 'x');
  for (let i = 0; i < 600 && !/^SETPROMPT SPHINX master password:\nGETPIN$/m.test(pin.log()); i++) await new Promise((r) => setTimeout(r, 100));
  await oracle!.stop();
  writeFileSync(hold, '');
  const s = await signing;
  assert.is.not(s.code, 0);
  assert.match(s.stderr, /Network error/);
  assert.match(pin.log(), /^SETDESC pinentry-sphinx: cannot reach the SPHINX oracle: .*\nMESSAGE$/m);
});

test('an unreachable oracle: gpg-agent\'s own prompt with a note; cancel fails cleanly', async () => {
  pin.clearLog();
  pin.answer({ cancel: true });
  const s = await gpg(['-u', fpr, '--output', '-', '--sign'], 'x');
  assert.is.not(s.code, 0);
  assert.match(s.stderr, /[Oo]peration cancelled/);
  assert.match(pin.log(), /^SETERROR pinentry-sphinx: cannot ask the SPHINX oracle .*\nGETPIN$/m);
  const p = await protect(encGrip);
  assert.is(p.code, 1);
  assert.match(p.stderr, /cannot list the SPHINX records.*nothing was changed/);
});

test.run();
