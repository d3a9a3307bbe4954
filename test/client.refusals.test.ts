// Input the client must refuse (issue 13): exit 1 (130 for Ctrl-C), one line
// on stderr, nothing on stdout, and nothing sent: the refused commands point
// at a plain TCP listener of this test that counts connections, or at the
// real oracle whose datadir must stay byte for byte as it was. Terminal
// input runs on a real pseudo-terminal (test/helpers/pty.ts).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLIENT_BIN, cleanEnv, clientHome, rejectedPassword, type CliResult, type ClientHome } from './helpers/cli.js';
import { startOracle, type RunningOracle } from './helpers/oracle-process.js';
import { runOnPty, type PtyStep } from './helpers/pty.js';

const MASTER = 'correct horse battery staple';
const SITE = 'example.com';

let oracle: RunningOracle;
let A: ClientHome; // at the real oracle
let N: ClientHome; // at the counting listener: any connection is a failure
let listener: Server;
let connections = 0;

/** Every file under dir with a hash of its content. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(`${relative(dir, p)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
    }
  };
  walk(dir);
  return out.sort();
}

function refused(r: { code: number | null; stdout: string; stderr?: string; terminal?: string }, code: number, re: RegExp, what: string): void {
  const err = r.stderr ?? r.terminal ?? '';
  assert.is(r.code, code, `${what}: exit ${r.code}; ${err}`);
  assert.is(r.stdout, '', `${what}: nothing on stdout`);
  assert.match(err, re, what);
  assert.not.match(err, /\n\s+at /, `${what}: no stack trace`);
  if (r.stderr !== undefined) assert.is(r.stderr.trimEnd().split('\n').length, 1, `${what}: one line: ${r.stderr}`);
}

async function noConnection(run: () => Promise<CliResult>, code: number, re: RegExp, what: string): Promise<void> {
  const before = connections;
  refused(await run(), code, re, what);
  assert.is(connections, before, `${what}: nothing sent (no connection)`);
}

const pty = (h: ClientHome, args: string[], steps: PtyStep[]) =>
  runOnPty([CLIENT_BIN, '--config', h.config, ...args], steps, { cwd: h.home, env: cleanEnv({ HOME: h.home }) });

test.before(async () => {
  oracle = await startOracle({ server: { rl_threshold: 1000000 } });
  A = clientHome({ port: oracle.port, ssl_cert: oracle.certPath });
  listener = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const port = (listener.address() as { port: number }).port;
  N = clientHome({ port, ssl_cert: oracle.certPath });
  for (const h of [A, N]) assert.is((await h.run(['init'])).code, 0, 'init');
});

test.after(async () => {
  await oracle?.stop();
  listener?.close();
});

test('an empty master password on create and change (empty stdin): exit 1, nothing sent', async () => {
  await noConnection(() => N.run(['create', 'alice', SITE], { stdin: '' }), 1, /^error: the master password is empty/, 'create, empty stdin');
  await noConnection(() => N.run(['create', 'alice', SITE], { stdin: '\n' }), 1, /master password is empty/, 'create, an empty line');
  await noConnection(() => N.run(['change', 'alice', SITE], { stdin: '' }), 1, /current master password is empty/, 'change, empty stdin');
});

test('an empty user name: exit 1 before contacting anyone', async () => {
  for (const args of [
    ['create', '', SITE],
    ['get', '', SITE],
    ['change', '', SITE],
    ['delete', '', SITE],
  ]) {
    await noConnection(() => N.run(args, { stdin: MASTER }), 1, /^error: the user name is empty/, args.join(' '));
  }
});

test('a size beyond what the classes can give: exit 1 with the maximum, nothing sent; the maximum itself works', async () => {
  await noConnection(() => N.run(['create', 'alice', SITE, '--size', '100'], { stdin: MASTER }), 1, /size of 100 .*at most 39\b/, 'default classes (95 characters)');
  await noConnection(() => N.run(['create', 'alice', SITE, 'ulsd', '40'], { stdin: MASTER }), 1, /at most 39\b/, 'positional ulsd 40');
  await noConnection(() => N.run(['create', 'alice', SITE, 'd', '--size', '79'], { stdin: MASTER }), 1, /classes d .*at most 78\b/, 'digits');
  await noConnection(() => N.run(['change', 'alice', SITE, 'l', '60'], { stdin: MASTER }), 1, /classes l .*at most 55\b/, 'change, lower case');
  // at the limit: a full-length password, no constant padding needed
  const r = await A.run(['create', 'maxlen', SITE, 'd', '78'], { stdin: MASTER });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^[0-9]{78}\n$/);
});

test('change with a mistyped current master password (validate_password on): exit 2, nothing stored', async () => {
  const made = await A.run(['create', 'bob', SITE], { stdin: MASTER });
  assert.is(made.code, 0, made.stderr);
  // a mistyped password the check digit rejects (31 in 32 are; the masterkey is new on every run)
  const typo = await rejectedPassword((pw) => A.run(['get', 'bob', SITE], { stdin: pw }), `${MASTER}x`);
  assert.ok(typo, 'one of 8 mistyped passwords is rejected by the check digit');
  const before = snapshot(oracle.datadir).filter((l) => !/\/difficulty /.test(l));
  const r = await A.run(['change', 'bob', SITE], { stdin: `${typo}\nnew master\n` });
  refused(r, 2, /bad check digit/, 'change with a wrong current password');
  assert.equal(snapshot(oracle.datadir).filter((l) => !/\/difficulty /.test(l)), before, 'the datadir is as it was (rate-limit state aside)');
  const commit = await A.run(['commit', 'bob', SITE]);
  assert.is(commit.code, 1);
  assert.match(commit.stderr, /no pending change/);
  const get = await A.run(['get', 'bob', SITE], { stdin: MASTER });
  assert.is(get.stdout, made.stdout, 'the password is unchanged');
  // the right current password still changes it
  const ok = await A.run(['change', 'bob', SITE], { stdin: `${MASTER}\n\n` });
  assert.is(ok.code, 0, ok.stderr);
  assert.is.not(ok.stdout, made.stdout);
});

test('terminal: create asks twice; a mismatch is refused, nothing sent; a match creates', async () => {
  const before = connections;
  const r = await pty(N, ['create', 'carol', SITE], [
    { expect: 'master password: ', send: `${MASTER}\r` },
    { expect: 'again: ', send: `${MASTER}!\r` },
  ]);
  refused(r, 1, /the two passwords typed differ/, 'mismatch');
  assert.not.ok(r.terminal.includes(MASTER), 'no echo');
  assert.is(connections, before, 'nothing sent');
  const ok = await pty(A, ['create', 'carol', SITE], [
    { expect: 'master password: ', send: `${MASTER}\r` },
    { expect: 'again: ', send: `${MASTER}\r` },
  ]);
  assert.is(ok.code, 0, ok.terminal);
  const get = await A.run(['get', 'carol', SITE], { stdin: MASTER });
  assert.is(get.stdout, ok.stdout, 'created with the password typed');
});

test('terminal: Ctrl-D at the prompt is an empty password (exit 1); change asks for the new one twice', async () => {
  const before = connections;
  refused(await pty(N, ['create', 'dave', SITE], [{ expect: 'master password: ', send: '\x04' }]), 1, /master password is empty/, 'Ctrl-D');
  const ch = await pty(N, ['change', 'dave', SITE], [
    { expect: 'current master password: ', send: `${MASTER}\r` },
    { expect: 'new master password (empty: keep the current one): ', send: 'one\r' },
    { expect: 'again: ', send: 'two\r' },
  ]);
  refused(ch, 1, /differ/, 'change, new password mismatch');
  assert.is(connections, before, 'nothing sent');
});

test('Ctrl-C exits 130: at a prompt (raw terminal) and as SIGINT while waiting', async () => {
  refused(await pty(N, ['create', 'erin', SITE], [{ expect: 'master password: ', send: 'abc\x03' }]), 130, /interrupted/, 'Ctrl-C at the prompt');
  // SIGINT (Ctrl-C from a shell) while waiting for an oracle that accepted the connection and says nothing
  const held: Socket[] = [];
  const silent = createServer((c) => {
    held.push(c);
    onSilent?.();
  });
  let onSilent: (() => void) | null = null;
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const S = clientHome({ port: (silent.address() as { port: number }).port, datadir: N.datadir, ssl_cert: oracle.certPath });
  const connected = new Promise<void>((r) => (onSilent = r));
  const p = spawn(CLIENT_BIN, ['--config', S.config, 'create', 'erin', SITE], { env: cleanEnv({ HOME: S.home }), stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  p.stdin.end(MASTER);
  await connected;
  p.kill('SIGINT');
  const [code, signal] = await new Promise<[number | null, string | null]>((r) => p.on('close', (c, s) => r([c, s])));
  for (const c of held) c.destroy();
  silent.close();
  assert.is(code, 130, `exit ${code} signal ${signal}: ${err}`);
  assert.is(out, '');
  assert.match(err, /interrupted/);
});

test.run();
