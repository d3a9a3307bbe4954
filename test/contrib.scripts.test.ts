// contrib/: the scripts are POSIX sh and shellcheck-clean; getpwd talks
// Assuan to a REAL pinentry (pinentry-tty on a pty) and returns exactly the
// password, percent-decoded, without a newline.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { contribDir, requireTools, run, tempDir } from './helpers/x11-env.js';
import { ptyPinentry } from './helpers/x11-pinentry.js';

const SCRIPTS = ['getpwd', 'exec-on-click', 'type-pwd', 'dmenu-sphinx', 'sphinx-x11'];
const dir = tempDir('contrib-scripts');
const script = (name: string): string => join(contribDir(), name);

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('every script is executable POSIX sh and shellcheck-clean', async () => {
  requireTools('shellcheck');
  for (const name of SCRIPTS) {
    const p = script(name);
    assert.ok(statSync(p).mode & 0o111, `${name} is executable`);
    assert.is(readFileSync(p, 'utf8').split('\n')[0], '#!/bin/sh', `${name} starts with #!/bin/sh`);
  }
  const r = await run('shellcheck', ['--shell=sh', '--severity=style', ...SCRIPTS.map(script)]);
  assert.is(r.stdout.toString() + r.stderr, '', 'shellcheck has nothing to say');
  assert.is(r.code, 0);
});

test('usage errors exit 100 and name the usage; --help exits 0', async () => {
  const cases: Array<[string, string[]]> = [
    ['exec-on-click', []],
    ['type-pwd', ['only-user']],
    ['type-pwd', ['a', 'b', 'c']],
    ['sphinx-x11', ['script', 'user']],
    ['getpwd', ['a', 'b', 'c']],
  ];
  for (const [name, args] of cases) {
    const r = await run(script(name), args, { env: { ...process.env, DISPLAY: '' } });
    assert.is(r.code, 100, `${name} ${args.join(' ')}`);
    assert.match(r.stderr, /usage:/);
    assert.is(r.stdout.length, 0);
  }
  for (const name of ['type-pwd', 'sphinx-x11', 'getpwd', 'dmenu-sphinx']) {
    const r = await run(script(name), ['--help']);
    assert.is(r.code, 0, name);
    assert.match(r.stdout.toString(), /usage:/);
  }
});

test('getpwd: a real pinentry-tty returns exactly the password (percent-decoded, no newline)', async () => {
  // %, backslash, quotes, spaces, a shell expansion and UTF-8: all must come back as typed.
  const pw = `p%25w "x" 'y' \\ $(id) 100% ü`;
  const pin = ptyPinentry(dir, pw, 'Master of foo:');
  const r = await run(script('getpwd'), ['Master of foo:', 'Password of "u" at h'], { env: { ...process.env, PINENTRY: pin.path } });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.toString('utf8'), pw);
  assert.is(pin.runs(), 1);
  assert.match(pin.transcript(), 'Password of "u" at h');
  assert.match(pin.transcript(), 'Master of foo:');
});

test('getpwd: prompt and description cannot inject Assuan commands', async () => {
  // Unescaped, the newline would start a new command: SETPROMPT changes the
  // prompt (the driver would never answer), and GETPIN/BYE would end early.
  const desc = 'line one\nSETPROMPT evil:\nBYE\n%0AGETPIN';
  const pin = ptyPinentry(dir, 'secret', 'honest prompt:');
  const r = await run(script('getpwd'), ['honest prompt:', desc], { env: { ...process.env, PINENTRY: pin.path } });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.toString(), 'secret');
  const shown = pin.transcript().replace(/\r/g, '');
  assert.match(shown, 'line one\nSETPROMPT evil:\nBYE\n%0AGETPIN', 'the description is shown as text, %0A literally');
  assert.match(shown, 'honest prompt:');
});

test('getpwd: cancel, empty password, missing or non-pinentry program: exit 1, nothing on stdout', async () => {
  const cancel = ptyPinentry(dir, null);
  let r = await run(script('getpwd'), [], { env: { ...process.env, PINENTRY: cancel.path } });
  assert.is(r.code, 1);
  assert.is(r.stdout.length, 0);
  assert.match(r.stderr, /cancel/i);
  assert.is(cancel.runs(), 1, 'pinentry was really asked');

  const empty = ptyPinentry(dir, '');
  r = await run(script('getpwd'), [], { env: { ...process.env, PINENTRY: empty.path } });
  assert.is(r.code, 1);
  assert.is(r.stdout.length, 0);
  assert.match(r.stderr, /empty password/);

  r = await run(script('getpwd'), [], { env: { ...process.env, PINENTRY: join(dir, 'no-such-pinentry') } });
  assert.is(r.code, 1);
  assert.is(r.stdout.length, 0);
  assert.match(r.stderr, /not found/);

  // A program that is not a pinentry: cat echoes the commands back.
  r = await run(script('getpwd'), [], { env: { ...process.env, PINENTRY: 'cat' } });
  assert.is(r.code, 1);
  assert.is(r.stdout.length, 0);

  // A pinentry that fakes a D line but then fails GETPIN: no partial password.
  const liar = join(dir, 'liar-pinentry');
  writeFileSync(liar, '#!/bin/sh\nprintf "OK hi\\nOK\\nOK\\nD partial\\nERR 1 broken\\n"\ncat >/dev/null\n', { mode: 0o755 });
  r = await run(script('getpwd'), [], { env: { ...process.env, PINENTRY: liar } });
  assert.is(r.code, 1);
  assert.is(r.stdout.length, 0);
  assert.match(r.stderr, /broken/);
});

test.run();
