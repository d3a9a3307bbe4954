// Converters end to end (issue 15 §1): the real oracle (TLS on 127.0.0.1)
// and the real `sphinx` CLI as child processes; the printed codes and keys
// are checked with the real tools (test/helpers/key-tools.ts: oathtool,
// ssh-keygen, age/age-keygen, minisign).
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TOTP_STEP } from '../client/converters.js';
import { clientHome, runSphinx, type CliResult, type ClientHome } from './helpers/cli.js';
import { checkAge, checkMinisign, checkSsh, oathtoolCode } from './helpers/key-tools.js';
import { startOracle, type RunningOracle } from './helpers/oracle-process.js';

const MASTER = 'correct horse battery staple';
const WRONG = 'correct horse battery stapler';
const SITE = 'example.com';
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const SECRET2 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

let oracle: RunningOracle;
let A: ClientHome;

const out = (r: CliResult, what: string): string => {
  assert.is(r.code, 0, `${what}: exit ${r.code}, stderr: ${r.stderr}`);
  assert.ok(r.stdout.endsWith('\n'), `${what}: newline at the end`);
  return r.stdout.slice(0, -1);
};
function fails(r: CliResult, code: number, re: RegExp, what: string): void {
  assert.is(r.code, code, `${what}: exit ${r.code}, stderr: ${r.stderr}`);
  assert.is(r.stdout, '', `${what}: nothing on stdout`);
  assert.match(r.stderr, re, what);
  assert.not.match(r.stderr, /\n\s+at /, `${what}: no stack trace`);
}
/**
 * A wrong master password: exit 2 (bad check digit), except for the 1 in 32
 * the 5-bit check digit lets through (README, Rules), which must then not
 * give the right answer (an otp:// record: a "secret" that is not base32, exit 1, or another code).
 */
function wrongMaster(r: CliResult, right: string, what: string): void {
  if (r.code === 2) return fails(r, 2, /check digit|master password/i, what);
  if (r.code === 1) return fails(r, 1, /does not hold a TOTP secret/, what);
  assert.is(r.code, 0, `${what}: exit ${r.code}, stderr: ${r.stderr}`);
  assert.is.not(r.stdout, right + '\n', `${what}: the right answer from a wrong master password`);
}
const get = (h: ClientHome, user: string, ...extra: string[]) => h.run(['get', ...extra, '--', user, SITE], { stdin: MASTER });

/** Runs `f`, which prints a TOTP code, and checks it against oathtool at the 30 s step it ran in (either, across a step boundary). */
async function sameAsOathtool(secret: string, f: () => Promise<string>): Promise<void> {
  const t0 = Date.now() / 1000;
  const code = await f();
  const t1 = Date.now() / 1000;
  const want = new Set([await oathtoolCode(secret, t0), await oathtoolCode(secret, t1)]);
  if (Math.floor(t0 / TOTP_STEP) === Math.floor(t1 / TOTP_STEP)) assert.is(want.size, 1);
  assert.ok(want.has(code), `code ${code}, oathtool: ${[...want].join(' or ')}`);
}

test.before(async () => {
  oracle = await startOracle({ server: { rl_threshold: 1000000 } });
  A = clientHome({ port: oracle.port, ssl_cert: oracle.certPath });
  assert.is((await A.run(['init'])).code, 0);
});

test.after(async () => {
  await oracle?.stop();
});

test('otp://: create with --target prints the code; get prints the code oathtool gives; get --raw the secret', async () => {
  await sameAsOathtool(SECRET, async () => out(await A.run(['create', '--target', SECRET, 'otp://alice', SITE], { stdin: MASTER }), 'create'));
  await sameAsOathtool(SECRET, async () => out(await get(A, 'otp://alice'), 'get'));
  assert.is(out(await get(A, 'otp://alice', '--raw'), 'get --raw'), SECRET);
  assert.match(out(await A.run(['list', SITE]), 'list'), /^otp:\/\/alice$/m, 'the user name is the whole string');
});

test('otp://: a record made the 1.0.x way (secret as a positional target password) gives the right code', async () => {
  out(await A.run(['create', '--', 'otp://bob', SITE, SECRET2], { stdin: MASTER }), 'create (1.0.x)');
  assert.is(out(await get(A, 'otp://bob', '--raw'), 'get --raw'), SECRET2);
  await sameAsOathtool(SECRET2, async () => out(await get(A, 'otp://bob'), 'get'));
});

test('sphinx totp: the code of the secret on stdin, no oracle, no config; a bad secret or an argument is a one-line error', async () => {
  // a HOME whose config is broken (every other command refuses it) and which has no masterkey: totp reads neither
  const home = mkdtempSync(join(tmpdir(), 'sphinx-totp-'));
  writeFileSync(join(home, '.sphinxrc'), '[client]\nport = not-a-port\n');
  assert.is((await runSphinx(['list', SITE], { home, stdin: '' })).code, 1, 'the broken config is refused by list');
  const totp = (stdin: string, ...args: string[]) => runSphinx(['totp', ...args], { home, stdin });
  await sameAsOathtool(SECRET, async () => out(await totp(SECRET + '\n'), 'totp'));
  await sameAsOathtool(SECRET2, async () => out(await totp(SECRET2.toLowerCase()), 'totp, lower case, no newline'));
  fails(await totp('not base32!'), 1, /^error: the TOTP secret is not base32[^\n]*\n$/, 'totp of a non-base32 secret');
  fails(await totp(''), 1, /^error: the TOTP secret is not base32/, 'totp of an empty stdin');
  fails(await totp(SECRET, 'extra'), 100, /totp takes no arguments/, 'totp with an argument');
  rmSync(home, { recursive: true, force: true });
});

test('otp://: refusals (no secret, not base32, --raw elsewhere) send nothing; a wrong master password is exit 2', async () => {
  fails(await A.run(['create', 'otp://carol', SITE], { stdin: MASTER }), 1, /--target SECRET/, 'no target');
  fails(await A.run(['create', '--target', 'hunter2!', 'otp://carol', SITE], { stdin: MASTER }), 1, /not base32/, 'not base32');
  assert.not.match((await A.run(['list', SITE])).stdout, /carol/, 'nothing stored');
  fails(await A.run(['get', '--raw', 'alice', SITE], { stdin: MASTER }), 1, /--raw only applies to otp/, '--raw on a plain record');
  fails(await A.run(['delete', '--raw', 'otp://alice', SITE]), 100, /--raw only applies/, '--raw on delete');
  wrongMaster(await A.run(['get', '--raw', 'otp://alice', SITE], { stdin: WRONG }), SECRET, 'wrong master, --raw');
  wrongMaster(await A.run(['get', 'otp://alice', SITE], { stdin: WRONG }), '', 'wrong master');
});

test('otp://: change moves the secret, commit keeps it, undo restores the old one', async () => {
  await sameAsOathtool(SECRET2, async () => out(await A.run(['change', '--target', SECRET2, 'otp://alice', SITE], { stdin: `${MASTER}\n` }), 'change'));
  assert.is(out(await get(A, 'otp://alice', '--raw'), 'before commit'), SECRET);
  assert.is((await A.run(['commit', 'otp://alice', SITE])).code, 0);
  assert.is(out(await get(A, 'otp://alice', '--raw'), 'after commit'), SECRET2);
  assert.is((await A.run(['undo', 'otp://alice', SITE])).code, 0);
  assert.is(out(await get(A, 'otp://alice', '--raw'), 'after undo'), SECRET);
});

test('ssh-ed25519://: create prints the public key (comment NAME@SITE); get the private key; ssh-keygen -y and -Y sign/verify agree', async () => {
  const pub = out(await A.run(['create', 'ssh-ed25519://deploy', SITE], { stdin: MASTER }), 'create');
  assert.match(pub, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} deploy@example\.com$/);
  const priv = out(await get(A, 'ssh-ed25519://deploy'), 'get');
  assert.match(priv, /^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----$/);
  await checkSsh(pub, priv);
  assert.is(out(await get(A, 'ssh-ed25519://deploy'), 'get again'), priv, 'the same key every time');
  wrongMaster(await A.run(['get', 'ssh-ed25519://deploy', SITE], { stdin: WRONG }), priv, 'wrong master');
  fails(await A.run(['create', '--target', 'x', 'ssh-ed25519://other', SITE], { stdin: MASTER }), 1, /no target password/, 'target');
});

test('age://: create prints the recipient; get the identity; age-keygen -y, age -r and age -d -i agree', async () => {
  const recipient = out(await A.run(['create', 'age://backup', SITE], { stdin: MASTER }), 'create');
  assert.match(recipient, /^age1[02-9ac-hj-np-z]{58}$/);
  const identity = out(await get(A, 'age://backup'), 'get');
  assert.match(identity, /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/);
  await checkAge(recipient, identity);
});

test('minisig://: create prints the public key; get the secret key; minisign -S / -V round trip', async () => {
  const pk = out(await A.run(['create', 'minisig://release', SITE], { stdin: MASTER }), 'create');
  assert.match(pk, /^untrusted comment: minisign public key [0-9A-F]{16}\nRW[QRST][A-Za-z0-9+/]{53}$/);
  const sk = out(await get(A, 'minisig://release'), 'get');
  assert.match(sk, /^untrusted comment: minisign secret key [0-9A-F]{16} release@example\.com\n/);
  await checkMinisign(pk, sk);
});

test('keys follow the record: change prints a new key, get gives the old one until commit, undo brings the old one back', async () => {
  const user = 'ssh-ed25519://rotate';
  const pub1 = out(await A.run(['create', user, SITE], { stdin: MASTER }), 'create');
  const pub2 = out(await A.run(['change', user, SITE], { stdin: `${MASTER}\n` }), 'change');
  assert.is.not(pub2, pub1, 'change gives a new key');
  await checkSsh(pub1, out(await get(A, user), 'get before commit'));
  assert.is((await A.run(['commit', user, SITE])).code, 0);
  const priv2 = out(await get(A, user), 'get after commit');
  await checkSsh(pub2, priv2);
  assert.is((await A.run(['undo', user, SITE])).code, 0);
  await checkSsh(pub1, out(await get(A, user), 'get after undo'));
  // age too: a new recipient on change, the old identity back after undo
  const r1 = out(await A.run(['create', 'age://rotate', SITE], { stdin: MASTER }), 'create age');
  const r2 = out(await A.run(['change', 'age://rotate', SITE], { stdin: `${MASTER}\n` }), 'change age');
  assert.is.not(r2, r1);
  assert.is((await A.run(['commit', 'age://rotate', SITE])).code, 0);
  await checkAge(r2, out(await get(A, 'age://rotate'), 'get age after commit'));
  assert.is((await A.run(['undo', 'age://rotate', SITE])).code, 0);
  await checkAge(r1, out(await get(A, 'age://rotate'), 'get age after undo'));
});

test('the same master password, masterkey and oracle give the same key on another machine; another masterkey cannot', async () => {
  const B = clientHome({ port: oracle.port, ssl_cert: oracle.certPath });
  mkdirSync(B.datadir, { recursive: true, mode: 0o700 });
  copyFileSync(join(A.datadir, 'masterkey'), join(B.datadir, 'masterkey'));
  assert.is(out(await get(B, 'minisig://release'), 'get on B'), out(await get(A, 'minisig://release'), 'get on A'));
  const C = clientHome({ port: oracle.port, ssl_cert: oracle.certPath });
  assert.is((await C.run(['init'])).code, 0);
  fails(await get(C, 'minisig://release'), 1, /no record/, 'another masterkey');
});

test.run();
