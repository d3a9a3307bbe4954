// contrib/ under a real X server (Xvfb): exec-on-click waits for a real
// (synthetic, xdotool) left click seen through xinput; sphinx-x11 types its
// verbs into a window exactly, hostile user/host strings included, and checks
// the whole script before typing anything.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  clickWhenListening,
  contribDir,
  descendants,
  finish,
  requireTools,
  sleep,
  start,
  tempDir,
  waitFor,
  type Receiver,
  type XServer,
  startReceiver,
  startXvfb,
  alive,
} from './helpers/x11-env.js';

const dir = tempDir('contrib-x11');
const script = (name: string): string => join(contribDir(), name);
let x: XServer;
let rx: Receiver;

// uvu swallows an exception thrown by a before hook (the run then only
// counts fewer passes): keep it and fail every test with it instead.
let setupError: unknown;
function ready(): void {
  if (setupError) throw setupError;
}

test.before(async () => {
  try {
    requireTools('Xvfb', 'xdotool', 'xinput', 'xterm', 'mkfifo', 'awk');
    x = await startXvfb();
    rx = await startReceiver(x, dir);
  } catch (e) {
    setupError = e;
  }
});

test.after(async () => {
  await rx?.stop();
  await x?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('exec-on-click runs its command only after a left click, stdin passed on', async () => {
  ready();
  const out = join(dir, 'eoc.out');
  const bg = start(script('exec-on-click'), ['sh', '-c', 'cat >"$1"; exit 7', 'cmd', out], { env: x.env, input: 'stdin data' });
  const xinput = await waitFor('xinput', 10_000, () => descendants(bg.pid, 'xinput')[0]);
  await sleep(300);
  // A right click is not a left click (no middle click: xterm would paste).
  await x.xdotool(['click', '3']);
  await sleep(700);
  assert.ok(alive(xinput), 'still waiting after a right click');
  assert.not.ok(existsSync(out), 'the command has not run before the click');
  // xinput has been listening for a second now: ONE left click must do
  // (a reader that buffers its input would need several).
  await x.xdotool(['click', '1']);
  const r = await finish(bg, 10_000, 'exec-on-click after one click');
  assert.is(r.code, 7, 'the exit status is the command\'s');
  assert.is(readFileSync(out, 'utf8'), 'stdin data');
  assert.equal(descendants(bg.pid), [], 'no xinput left behind');
  assert.is(JSON.stringify(await rx.sync()), '""', 'nothing typed');
});

test('exec-on-click gives up after EXEC_ON_CLICK_TIMEOUT seconds without a click', async () => {
  ready();
  const out = join(dir, 'eoc-timeout.out');
  const bg = start(script('exec-on-click'), ['touch', out], { env: { ...x.env, EXEC_ON_CLICK_TIMEOUT: '1' } });
  const r = await finish(bg, 15_000, 'exec-on-click');
  assert.is(r.code, 1);
  assert.match(r.stderr, /no click within 1 seconds/);
  assert.not.ok(existsSync(out));
  const bad = await finish(start(script('exec-on-click'), ['touch', out], { env: { ...x.env, EXEC_ON_CLICK_TIMEOUT: '1m' } }), 5000);
  assert.is(bad.code, 100);
  assert.not.ok(existsSync(out));
});

test('exec-on-click without a usable display fails and runs nothing', async () => {
  ready();
  const out = join(dir, 'eoc-nodisplay.out');
  for (const display of ['', ':987']) {
    const bg = start(script('exec-on-click'), ['touch', out], { env: { ...process.env, DISPLAY: display } });
    const r = await finish(bg, 10_000, 'exec-on-click');
    assert.is(r.code, 1, `DISPLAY=${display}`);
    assert.match(r.stderr, /exec-on-click: /);
    assert.not.ok(existsSync(out));
  }
});

// Strings that would run commands, inject options or break quoting anywhere
// they reached a shell or an argument vector unquoted.
const pwned = join(dir, 'PWNED');
const HOSTILE_USER = `$(touch ${pwned}) \`touch ${pwned}\` ; touch ${pwned} "'" --clearmodifiers -`;
const HOSTILE_HOST = `-h --file /etc/passwd | touch ${pwned} & %s \\ *`;

test('sphinx-x11 types text, user, host, Tab and Return exactly (hostile strings too)', async () => {
  ready();
  const s = join(dir, 'plain.script');
  writeFileSync(s, '# a comment\n\n  type hello  world \nuser\ntab\nhost\nenter\ntype -- --window 1 $HOME\n');
  const bg = start(script('sphinx-x11'), [s, HOSTILE_USER, HOSTILE_HOST], { env: { ...x.env, SPHINX: '/nonexistent/sphinx' } });
  await rx.point();
  const r = await finish(bg, 30_000, 'sphinx-x11');
  assert.is(r.code, 0, r.stderr);
  assert.is(await rx.sync(), `hello  world ${HOSTILE_USER}\t${HOSTILE_HOST}\r-- --window 1 $HOME`);
  assert.not.ok(existsSync(pwned), 'no command was injected');
});

test('sphinx-x11 wait-for-click: nothing after it is typed before the click', async () => {
  ready();
  const s = join(dir, 'click.script');
  writeFileSync(s, 'type before\nwait-for-click\ntype after\n');
  const bg = start(script('sphinx-x11'), [s, 'u', 'h'], { env: x.env });
  await waitFor('xinput', 10_000, () => descendants(bg.pid, 'xinput')[0]);
  assert.is(await rx.sync(), 'before');
  await clickWhenListening(x, bg);
  const r = await finish(bg, 10_000, 'sphinx-x11');
  assert.is(r.code, 0, r.stderr);
  assert.is(await rx.sync(), 'after');
});

test('sphinx-x11 checks the whole script first: a bad line types nothing', async () => {
  ready();
  const bad: Array<[string, RegExp]> = [
    ['type ok\nuser\nfrobnicate\n', /unknown command: frobnicate/],
    ['user\ntab extra\n', /tab takes no argument/],
    ['user\ntype\n', /type needs a text/],
    // pwd needs the sphinx client: missing, so nothing is typed either
    ['user\ntab\npwd\n', /command not found/],
  ];
  for (const [body, msg] of bad) {
    const s = join(dir, 'bad.script');
    writeFileSync(s, body);
    const bg = start(script('sphinx-x11'), [s, 'u', 'h'], { env: { ...x.env, SPHINX: '/nonexistent/sphinx' } });
    const r = await finish(bg, 10_000, 'sphinx-x11');
    assert.is(r.code, 1, body);
    assert.match(r.stderr, msg);
    assert.is(await rx.sync(), '', `nothing typed for ${JSON.stringify(body)}`);
  }
  const r = await finish(start(script('sphinx-x11'), [join(dir, 'no-such-script'), 'u', 'h'], { env: x.env }), 10_000);
  assert.is(r.code, 1);
  assert.match(r.stderr, /cannot read script/);
});

test.run();
