// End to end: the real oracle (child process, TLS on 127.0.0.1, its
// self-signed dev certificate pinned with ssl_cert) and the real `sphinx`
// CLI as child processes with a temp HOME, cwd and --config file. Every
// command and its failure paths (issue 4, Tests).
import { randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import selfsigned from 'selfsigned';
import { DIGITS, LOWER, SYMBOLS, UPPER } from '../shared/constants.js';
import { alphabet, maxTargetLength } from '../shared/password.js';
import { halfBlocksToModules, have, svgToPng, writePgm, zbarDecode } from './client.support.js';
import { clientHome, runSphinx, type CliResult, type ClientHome } from './helpers/cli.js';
import { startOracle, type RunningOracle } from './helpers/oracle-process.js';

const MASTER = 'correct horse battery staple';
const WRONG = 'correct horse battery stapler';
const SITE = 'example.com';

let oracle: RunningOracle;
let A: ClientHome; // defaults: rwd_keys false, validate_password true

/** The oracle's last log lines, for failure messages. */
const oracleTail = (): string => oracle.stderr().split('\n').slice(-8).join('\n');
const ok = (r: CliResult, what: string): string => {
  assert.is(r.code, 0, `${what}: exit ${r.code}, stderr: ${r.stderr}\noracle: ${oracleTail()}`);
  return r.stdout;
};
/** Exit 0 and exactly `out` on stdout. */
const okOut = (r: CliResult, out: string, what: string): void => {
  assert.is(ok(r, what), out, `${what}: stdout ${JSON.stringify(r.stdout)}, stderr: ${r.stderr}\noracle: ${oracleTail()}`);
};
/** The one password line on stdout. */
const pw = (r: CliResult, what: string): string => {
  const out = ok(r, what);
  assert.ok(out.endsWith('\n'), `${what}: newline after the password`);
  const p = out.slice(0, -1);
  assert.not.ok(p.includes('\n'), `${what}: one line on stdout`);
  return p;
};
/** A failure: the exit code, one line on stderr matching `re`, nothing on stdout, no stack trace. */
function fails(r: CliResult, code: number, re: RegExp, what: string): void {
  assert.is(r.code, code, `${what}: exit ${r.code}, stderr: ${r.stderr}`);
  assert.is(r.stdout, '', `${what}: nothing on stdout`);
  assert.match(r.stderr, re, what);
  assert.not.match(r.stderr, /\n\s+at /, `${what}: no stack trace`);
}
const noSecrets = (r: CliResult, ...secrets: string[]): void => {
  for (const s of secrets) assert.not.ok(r.stderr.includes(s), 'a secret on stderr');
};
const onlyFrom = (p: string, chars: string): boolean => [...p].every((c) => chars.includes(c));

test.before(async () => {
  oracle = await startOracle({ server: { rl_threshold: 1000000, verbose: true } });
  A = clientHome({ port: oracle.port, ssl_cert: oracle.certPath });
  ok(await A.run(['init']), 'init');
});

test.after(async () => {
  await oracle?.stop();
});

test('init: masterkey 0600 in a 0700 dir; a second init refuses and leaves it alone', async () => {
  const st = statSync(join(A.datadir, 'masterkey'));
  assert.is(st.mode & 0o777, 0o600);
  assert.is(st.size, 32);
  assert.is(statSync(A.datadir).mode & 0o777, 0o700);
  const before = readFileSync(join(A.datadir, 'masterkey'));
  const r = await A.run(['init']);
  fails(r, 1, /already initialized.*refusing to overwrite/, 'second init');
  assert.equal(readFileSync(join(A.datadir, 'masterkey')), before);
});

test('create then get; wrong master password → exit 2; unknown record → exit 1', async () => {
  const c = await A.run(['create', 'alice', SITE], { stdin: MASTER });
  const p = pw(c, 'create');
  // default rule: uld + all symbols, as long as 256 bits give
  assert.ok(p.length >= 38 && onlyFrom(p, UPPER + LOWER + DIGITS + SYMBOLS), p);
  assert.match(c.stderr, /master password/, 'strength estimate on stderr');
  noSecrets(c, MASTER, p);
  const [g, bad, none, again] = await Promise.all([
    A.run(['get', 'alice', SITE], { stdin: MASTER + '\n' }), // the trailing newline is not part of it
    A.run(['get', 'alice', SITE], { stdin: WRONG }),
    A.run(['get', 'nobody', SITE], { stdin: MASTER }),
    A.run(['create', 'alice', SITE], { stdin: MASTER }),
  ]);
  assert.is(pw(g, 'get'), p);
  assert.is(g.stderr, '', 'get prints nothing else');
  // The 5-bit check digit lets 1 wrong password in 32 through (README, Rules; the masterkey is new
  // on every run): then the answer must at least not be the password, and another wrong one is tried.
  let wrong = bad;
  for (let i = 1; wrong.code !== 2 && i < 8; i++) {
    assert.is(wrong.code, 0, `a wrong master password: exit ${wrong.code}, stderr: ${wrong.stderr}`);
    assert.is.not(wrong.stdout, p + '\n', 'a wrong master password gave the password');
    wrong = await A.run(['get', 'alice', SITE], { stdin: `${WRONG}-${i}` });
  }
  fails(wrong, 2, /check digit.*mistyped/, 'wrong master password');
  fails(none, 1, /no record for user "nobody"/, 'unknown record');
  fails(again, 1, /exists already/, 'create of an existing record');
});

test('a user left in the list without its record (crash between the two writes): list, get and delete agree, create repairs', async () => {
  const host = 'crash.example';
  const before = new Set(readdirSync(oracle.datadir));
  pw(await A.run(['create', 'ghost', host], { stdin: MASTER }), 'create');
  const recordDir = readdirSync(oracle.datadir).find((d) => !before.has(d) && existsSync(join(oracle.datadir, d, 'key')))!;
  assert.ok(recordDir, 'the record directory');
  rmSync(join(oracle.datadir, recordDir), { recursive: true }); // what a crash after the list write leaves
  okOut(await A.run(['list', host]), 'ghost\n', 'list still names the user (the list is all the oracle has)');
  fails(await A.run(['get', 'ghost', host], { stdin: MASTER }), 1, /no record for user "ghost".*sphinx list/, 'get');
  fails(await A.run(['delete', 'ghost', host], { stdin: MASTER }), 1, /no record for user "ghost".*interrupted create or delete.*create it again, then delete it/, 'delete explains');
  pw(await A.run(['create', 'ghost', host], { stdin: MASTER }), 'create again');
  ok(await A.run(['delete', 'ghost', host], { stdin: MASTER }), 'then delete');
  okOut(await A.run(['list', host]), '', 'the list is clean');
});

/**
 * Runs sphinx with hooks that log every module it loads: the CommonJS loader
 * (require, as the bundle loads its externals) and the ES module resolver
 * (dynamic import()).
 */
async function loadedModules(args: string[], stdin: string): Promise<{ r: CliResult; urls: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'sphinx-modlog-'));
  const log = join(dir, 'modules.log');
  const esmHook = join(dir, 'esm-hook.mjs');
  const preload = join(dir, 'preload.cjs');
  writeFileSync(
    esmHook,
    `import { appendFileSync } from 'node:fs';\n` +
      `export async function resolve(spec, ctx, next) { const r = await next(spec, ctx); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }\n`,
  );
  writeFileSync(
    preload,
    `const M = require('node:module');\nconst { appendFileSync } = require('node:fs');\n` +
      `const resolve = M._resolveFilename;\n` +
      `M._resolveFilename = function (...a) { const f = resolve.apply(this, a); appendFileSync(${JSON.stringify(log)}, f + '\\n'); return f; };\n` +
      `M.register(${JSON.stringify(pathToFileURL(esmHook).href)});\n`,
  );
  writeFileSync(log, '');
  const r = await A.run(args, { stdin, env: { NODE_OPTIONS: `--require ${preload}` } });
  return { r, urls: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

/** The built-in modules a sphinx run loaded (process.moduleLoadList at exit; no loader hooks, which load modules of their own). */
async function loadedBuiltins(args: string[], stdin: string): Promise<{ r: CliResult; builtins: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'sphinx-builtins-'));
  const log = join(dir, 'builtins.log');
  const preload = join(dir, 'preload.cjs');
  writeFileSync(
    preload,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(log)}, process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)).join('\\n')));\n`,
  );
  const r = await A.run(args, { stdin, env: { NODE_OPTIONS: `--require ${preload}` } });
  return { r, builtins: readFileSync(log, 'utf8').split('\n') };
}

test('sphinx get (puzzles solved inline) loads neither worker_threads nor perf_hooks: ~1.5 ms each on every get (BENCHMARKS.md)', async () => {
  const g = await loadedBuiltins(['get', 'alice', SITE], MASTER);
  ok(g.r, 'get');
  assert.ok(g.builtins.includes('tls'), `the exit hook listed the built-in modules: ${g.builtins.join(' ')}`);
  assert.equal(g.builtins.filter((m) => /^(worker_threads|perf_hooks)$/.test(m)), []);
});

test('sphinx get loads only what it uses (not yargs, the QR encoder or zxcvbn), and no command loads libsodium', async () => {
  const lazy = /libsodium|yargs|qrcode|zxcvbn/;
  const g = await loadedModules(['get', 'alice', SITE], MASTER);
  ok(g.r, 'get');
  assert.ok(g.urls.some((u) => u.includes('/bin/sphinx.js')), `the hook saw the client start: ${g.urls.join(' ')}`);
  assert.ok(g.urls.some((u) => /\/argon2\//.test(u)), 'the hook saw argon2 load');
  assert.equal(g.urls.filter((u) => lazy.test(u)), [], 'get loaded a module it does not use');
  // the hook does see a lazy module where a command needs it; libsodium is the oracle's, never the client's
  const c = await loadedModules(['create', 'bob', SITE], MASTER);
  ok(c.r, 'create');
  assert.ok(c.urls.some((u) => /zxcvbn/.test(u)), `create loads zxcvbn: ${c.urls.join(' ')}`);
  assert.equal(c.urls.filter((u) => /libsodium/.test(u)), [], 'the client loaded libsodium');
});

test('usage errors exit 100 with the usage text; help exits 0', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['get', 'alice'], /get takes exactly <user> <site>/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['create', 'alice'], /create needs <user> <site>/],
    [['create', 'a', SITE, 'ulsd', '12', 'Target1x'], /target password/],
    [['qr', 'png'], /qr takes only/],
    [['list'], /list takes exactly <site>/],
    [['get', 'a', 'b', '--bogus'], /unknown option --bogus/],
  ];
  const rs = await Promise.all(cases.map(([args]) => A.run(args, { stdin: MASTER })));
  rs.forEach((r, i) => {
    const [args, re] = cases[i]!;
    assert.is(r.code, 100, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.match(r.stderr, /sphinx/, 'usage text follows');
    assert.is(r.stdout, '');
  });
});

test('--help on each command and help: exit 0, usage on stdout', async () => {
  const cmds = ['init', 'create', 'get', 'change', 'commit', 'undo', 'delete', 'list', 'qr'];
  const runs = [...cmds.map((c) => [c, '--help']), ['help'], ['--help'], ['help', 'get']];
  for (let i = 0; i < runs.length; i += 4) {
    const rs = await Promise.all(runs.slice(i, i + 4).map((a) => runSphinx(a)));
    rs.forEach((r, j) => {
      const args = runs[i + j]!;
      assert.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /sphinx/);
      const cmd = args[0] === 'help' ? args[1] : args[0]!.startsWith('-') ? undefined : args[0];
      if (cmd) assert.match(r.stdout, new RegExp(`sphinx ${cmd}`), `help of ${cmd}`);
      else for (const c of cmds) assert.match(r.stdout, new RegExp(`sphinx ${c}`), `general help lists ${c}`);
    });
  }
});

test('rules: each class alone, symbols alone and subsets, sizes 1 up to each alphabet\'s maximum', async () => {
  const cases: Array<{ args: string[]; chars: string; size?: number; need?: string[] }> = [
    { args: ['u', '20'], chars: UPPER, size: 20 },
    { args: ['l', '20'], chars: LOWER, size: 20 },
    { args: ['d', '20'], chars: DIGITS, size: 20 },
    { args: ['--classes', 's', '--size', '20'], chars: SYMBOLS, size: 20 },
    { args: ['ld', '-_'], chars: LOWER + DIGITS + '-_' },
    { args: ['d', '30', '#@'], chars: DIGITS + '#@', size: 30 },
    { args: ['ulsd', '1'], chars: UPPER + LOWER + DIGITS + SYMBOLS, size: 1 },
    { args: ['ul', '2'], chars: UPPER + LOWER, size: 2 },
    { args: ['--size', '13', '--symbols', '!'], chars: UPPER + LOWER + DIGITS + '!', size: 13 },
    { args: ['uld', '43'], chars: UPPER + LOWER + DIGITS, size: 43 },
    { args: ['d', '78'], chars: DIGITS, size: 78 },
    { args: ['ulsd', '39'], chars: UPPER + LOWER + DIGITS + SYMBOLS, size: 39 },
  ];
  // one site each: concurrent creates on one site race on its user list (the oracle refuses the loser)
  const users = cases.map((_, i) => `rule${i}`);
  const site = (i: number): string => `rules${i}.example`;
  const made: string[] = [];
  for (let i = 0; i < cases.length; i += 3) {
    const rs = await Promise.all(cases.slice(i, i + 3).map((c, j) => A.run(['create', users[i + j]!, site(i + j), ...c.args], { stdin: MASTER })));
    rs.forEach((r, j) => made.push(pw(r, `create ${cases[i + j]!.args.join(' ')}`)));
  }
  cases.forEach((c, i) => {
    const p = made[i]!;
    assert.ok(onlyFrom(p, c.chars), `${c.args.join(' ')}: ${JSON.stringify(p)} only from its alphabet`);
    if (c.size) assert.is(p.length, c.size, `${c.args.join(' ')}: length`);
    else assert.ok(p.length >= 20, `${c.args.join(' ')}: size 0 gives the whole entropy`);
  });
  // the long ones really use their whole alphabet
  assert.ok(/[0-9]/.test(made[9]!) && /[a-z]/.test(made[9]!) && /[A-Z]/.test(made[9]!));
  // stored, not just printed: get gives the same (two samples)
  const gets = await Promise.all([0, 11].map((i) => A.run(['get', users[i]!, site(i)], { stdin: MASTER })));
  assert.is(pw(gets[0]!, 'get u 20'), made[0]);
  assert.is(pw(gets[1]!, 'get ulsd 39'), made[11]);
});

/** A random target of `len` characters from `chars`, starting with `first` (so it is not read as classes/size/symbols). */
function target(first: string, chars: string, len: number): string {
  let s = first;
  while (s.length < len) s += chars[randomInt(chars.length)];
  return s;
}

test('target passwords at each alphabet length limit are stored exactly; one more character is a clear error', async () => {
  const alphabets: Array<{ classes: string; symbols: string; first: string }> = [
    { classes: 'd', symbols: '', first: '9' },
    { classes: 'l', symbols: '', first: 'x' },
    { classes: 'u', symbols: '', first: 'X' },
    { classes: 'uld', symbols: '', first: 'Q' },
    { classes: 'uld', symbols: SYMBOLS, first: 'Q' },
  ];
  const targets = alphabets.map((a) => {
    const chars = alphabet(a.classes, a.symbols);
    const max = maxTargetLength(a.classes, a.symbols);
    // make sure every class (and a symbol) occurs, so encode picks this alphabet
    let t = target(a.first, chars, max);
    if (a.classes === 'uld') t = 'Qa1' + (a.symbols ? '~' : '') + t.slice(a.symbols ? 4 : 3);
    return { ...a, max, t, over: t + a.first };
  });
  for (const t of targets) assert.is(t.t.length, t.max);
  const site = (i: number): string => `target${i}.example`;
  const rs = await Promise.all(targets.map((t, i) => A.run(['create', `target${i}`, site(i), ...(t.symbols ? ['--target', t.t] : [t.t])], { stdin: MASTER })));
  rs.forEach((r, i) => assert.is(pw(r, `target ${targets[i]!.classes}${targets[i]!.symbols ? '+symbols' : ''}`), targets[i]!.t));
  const overs = await Promise.all(targets.map((t, i) => A.run(['create', `over${i}`, site(i), '--target', t.over], { stdin: MASTER })));
  overs.forEach((r, i) => fails(r, 1, new RegExp(`too long: ${targets[i]!.max + 1} characters, at most ${targets[i]!.max}`), `one over ${i}`));
  const g = await A.run(['get', 'target4', site(4)], { stdin: MASTER });
  assert.is(pw(g, 'get target'), targets[4]!.t);
  // the over-long ones were refused before anything was stored
  fails(await A.run(['get', 'over0', site(0)], { stdin: MASTER }), 1, /no record/, 'nothing stored');
  assert.is(ok(await A.run(['list', site(0)]), 'list'), 'target0\n');
});

test('change → get old → commit → new → second commit fails → undo → old', async () => {
  const user = 'changer';
  const old = pw(await A.run(['create', user, SITE, 'uld', '24'], { stdin: MASTER }), 'create');
  const ch = await A.run(['change', user, SITE, 'ld', '30'], { stdin: `${MASTER}\n` }); // empty new = same master password
  const neu = pw(ch, 'change');
  assert.is(neu.length, 30);
  assert.ok(onlyFrom(neu, LOWER + DIGITS));
  assert.match(ch.stderr, /master password/, 'strength estimate');
  assert.is(pw(await A.run(['get', user, SITE], { stdin: MASTER }), 'get before commit'), old);
  assert.is(ok(await A.run(['commit', user, SITE]), 'commit'), ''); // rwd_keys false: no password needed
  assert.is(pw(await A.run(['get', user, SITE], { stdin: MASTER }), 'get after commit'), neu);
  fails(await A.run(['commit', user, SITE]), 1, /no pending change/, 'second commit');
  assert.is(ok(await A.run(['undo', user, SITE]), 'undo'), '');
  assert.is(pw(await A.run(['get', user, SITE], { stdin: MASTER }), 'get after undo'), old);
  fails(await A.run(['undo', user, SITE]), 1, /cannot undo/, 'second undo');
});

test('change to a new master password and a target', async () => {
  const user = 'mover';
  pw(await A.run(['create', user, SITE], { stdin: MASTER }), 'create');
  const t = 'Mover-2024!';
  const NEW = 'a completely different master password';
  assert.is(pw(await A.run(['change', user, SITE, t], { stdin: `${MASTER}\n${NEW}` }), 'change'), t);
  ok(await A.run(['commit', user, SITE]), 'commit');
  const [g, gOld] = await Promise.all([A.run(['get', user, SITE], { stdin: NEW }), A.run(['get', user, SITE], { stdin: MASTER })]);
  assert.is(pw(g, 'get with the new master password'), t);
  // the old master password is now wrong: exit 2, except the 1 in 32 the 5-bit check digit lets through,
  // which must still not give the password
  if (gOld.code === 0) assert.is.not(gOld.stdout, t + '\n', 'the old master password gave the new password');
  else fails(gOld, 2, /check digit/, 'the old master password is now wrong');
});

test('list after create and delete; delete of an unknown record fails', async () => {
  const site = 'list.example';
  for (const u of ['bob', 'carol']) pw(await A.run(['create', u, site, 'd', '6'], { stdin: MASTER }), `create ${u}`);
  okOut(await A.run(['list', site]), 'bob\ncarol\n', 'list');
  okOut(await A.run(['delete', 'bob', site]), '', 'delete');
  okOut(await A.run(['list', site]), 'carol\n', 'list after delete');
  // two lists at once get the same challenge (READ has no random part): both still answer
  const both = await Promise.all([A.run(['list', site]), A.run(['list', site])]);
  both.forEach((r, i) => okOut(r, 'carol\n', `simultaneous list ${i}`));
  fails(await A.run(['get', 'bob', site], { stdin: MASTER }), 1, /no record/, 'get deleted');
  fails(await A.run(['delete', 'bob', site]), 1, /no record/, 'delete again');
  const empty = await A.run(['list', 'nothing.example']);
  assert.is(empty.code, 0);
  assert.is(empty.stdout, '');
  assert.match(empty.stderr, /no users/);
});

test('rwd_keys true: commit/undo/delete need the master password', async () => {
  const B = clientHome({ port: oracle.port, ssl_cert: oracle.certPath, rwd_keys: true });
  ok(await B.run(['init']), 'init');
  const site = 'rwd.example';
  const p = pw(await B.run(['create', 'dave', site], { stdin: MASTER }), 'create');
  assert.is(pw(await B.run(['get', 'dave', site], { stdin: MASTER }), 'get'), p);
  const n = pw(await B.run(['change', 'dave', site, 'u', '10'], { stdin: `${MASTER}\n` }), 'change');
  fails(await B.run(['commit', 'dave', site], { stdin: WRONG }), 1, /cannot commit/, 'commit with a wrong master password');
  ok(await B.run(['commit', 'dave', site], { stdin: MASTER }), 'commit');
  assert.is(pw(await B.run(['get', 'dave', site], { stdin: MASTER }), 'get new'), n);
  ok(await B.run(['undo', 'dave', site], { stdin: MASTER }), 'undo');
  assert.is(pw(await B.run(['get', 'dave', site], { stdin: MASTER }), 'get old'), p);
  assert.is(ok(await B.run(['list', site]), 'list'), 'dave\n');
  fails(await B.run(['delete', 'dave', site], { stdin: WRONG }), 1, /cannot delete/, 'delete with a wrong master password');
  ok(await B.run(['delete', 'dave', site], { stdin: MASTER }), 'delete');
  fails(await B.run(['get', 'dave', site], { stdin: MASTER }), 1, /no record/, 'deleted');
  // the same record name under rwd_keys false is another client (other masterkey): no interference
  fails(await A.run(['get', 'dave', site], { stdin: MASTER }), 1, /no record/, 'other masterkey');
});

test('validate_password false: a wrong master password gives another password, exit 0', async () => {
  const C = clientHome({ port: oracle.port, ssl_cert: oracle.certPath, validate_password: false });
  ok(await C.run(['init']), 'init');
  const p = pw(await C.run(['create', 'erin', SITE, 'ul', '16'], { stdin: MASTER }), 'create');
  const [g, w] = await Promise.all([C.run(['get', 'erin', SITE], { stdin: MASTER }), C.run(['get', 'erin', SITE], { stdin: WRONG })]);
  assert.is(pw(g, 'get'), p);
  const other = pw(w, 'get with a wrong master password');
  assert.is.not(other, p);
  assert.is(other.length, 16);
});

test('certificates: a pinned certificate that is not the oracle’s is refused; no ssl_cert = system CAs, refused too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sphinx-e2e-cert-'));
  const other = await selfsigned.generate([{ name: 'commonName', value: 'not-the-oracle' }], { keyType: 'ec', algorithm: 'sha256' });
  const otherPath = join(dir, 'other.pem');
  writeFileSync(otherPath, other.cert);
  const D = clientHome({ port: oracle.port, ssl_cert: otherPath });
  ok(await D.run(['init']), 'init');
  fails(await D.run(['get', 'alice', SITE], { stdin: MASTER }), 1, /certificate mismatch/, 'pin mismatch');
  const E = clientHome({ port: oracle.port });
  ok(await E.run(['init']), 'init');
  fails(await E.run(['get', 'alice', SITE], { stdin: MASTER }), 1, /not trusted.*ssl_cert/, 'self-signed without a pin');
  // and nothing answers: a clear error
  const F = clientHome({ port: 1, ssl_cert: oracle.certPath });
  ok(await F.run(['init']), 'init');
  fails(await F.run(['get', 'alice', SITE], { stdin: MASTER }), 1, /cannot reach the oracle.*refused/, 'unreachable');
  const G = clientHome({ port: oracle.port, ssl_cert: oracle.certPath });
  fails(await G.run(['get', 'alice', SITE], { stdin: MASTER }), 1, /no masterkey.*sphinx init/, 'no masterkey');
});

test('fd 3: "<n> <k>" before solving, the solve seconds after (UI wrappers)', async () => {
  const r = await A.run(['get', 'alice', SITE], { stdin: MASTER, fd3: true });
  ok(r, 'get');
  const m = /^(\d+) (\d+)\n(\d+(?:\.\d+)?(?:e-?\d+)?)$/.exec(r.fd3);
  assert.ok(m, `fd 3 got ${JSON.stringify(r.fd3)}`);
  assert.is(m![1], '60');
  assert.is(m![2], '4');
  assert.ok(Number(m![3]) >= 0 && Number(m![3]) < 30);
});

test('verbose: the settings, two connections of which the second resumed the TLS session; never a secret', async () => {
  const V = clientHome({ port: oracle.port, ssl_cert: oracle.certPath, verbose: true, datadir: A.datadir });
  const r = await V.run(['get', 'alice', SITE], { stdin: MASTER });
  const p = pw(r, 'verbose get');
  assert.match(r.stderr, /ssl_cert: /);
  assert.match(r.stderr, /connections: 2, TLS sessions resumed: 1/);
  noSecrets(r, MASTER, p, readFileSync(join(A.datadir, 'masterkey')).toString('hex'));
});

test('rising difficulty: levels 0-2 (solved inline) and 3 (in the worker thread) all pass the oracle', async () => {
  const hard = await startOracle({ server: { rl_threshold: 0 } }); // every request raises the level
  try {
    const H = clientHome({ port: hard.port, ssl_cert: hard.certPath, datadir: A.datadir });
    const p = pw(await H.run(['create', 'zed', SITE, 'l', '12'], { stdin: MASTER }), 'create');
    const ns: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await H.run(['get', 'zed', SITE], { stdin: MASTER, fd3: true });
      assert.is(pw(r, `get ${i}`), p);
      ns.push(r.fd3.split('\n')[0]!);
    }
    assert.equal(ns, ['60 4', '65 4', '70 4', '75 4']);
  } finally {
    await hard.stop();
  }
});

const canDecode = have('zbarimg') && have('rsvg-convert');

test('qr: the text and SVG outputs decode (zbarimg) to the payload; "key" adds the masterkey and warns', async () => {
  assert.ok(canDecode, 'QR decoders not installed (apt-get install zbar-tools librsvg2-bin)');
  const port = oracle.port;
  const expected = (mk: Buffer | null, flags: number): string =>
    Buffer.concat([Buffer.of(flags), mk ?? Buffer.alloc(0), Buffer.of(port >> 8, port & 0xff), Buffer.from('127.0.0.1')]).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'sphinx-e2e-qr-'));
  const [text, svgKey, textKey, colour] = await Promise.all([
    A.run(['qr']),
    A.run(['qr', 'svg', 'key']),
    A.run(['qr', 'key']),
    A.run(['qr'], { env: { FORCE_COLOR: '1' } }),
  ]);
  ok(text, 'qr');
  assert.not.match(text.stdout, /\x1b/, 'no colour codes when stdout is not a terminal');
  writePgm(join(dir, 'text.pgm'), halfBlocksToModules(text.stdout), 6, 0);
  assert.is(zbarDecode(join(dir, 'text.pgm')).toString('hex'), expected(null, 4)); // validate_password
  // painted black on white for dark terminals: the same modules
  assert.match(ok(colour, 'qr (colour)'), /\x1b\[/);
  assert.equal(halfBlocksToModules(colour.stdout), halfBlocksToModules(text.stdout));
  ok(svgKey, 'qr svg key');
  assert.match(svgKey.stdout, /^<svg|<\?xml/);
  assert.match(svgKey.stderr, /masterkey/, 'warning');
  writeFileSync(join(dir, 'k.svg'), svgKey.stdout);
  svgToPng(join(dir, 'k.svg'), join(dir, 'k.png'));
  const mk = readFileSync(join(A.datadir, 'masterkey'));
  assert.is(zbarDecode(join(dir, 'k.png')).toString('hex'), expected(mk, 1 + 4));
  ok(textKey, 'qr key');
  writePgm(join(dir, 'key.pgm'), halfBlocksToModules(textKey.stdout), 6, 0);
  assert.is(zbarDecode(join(dir, 'key.pgm')).toString('hex'), expected(mk, 1 + 4));
  // rwd_keys and validate_password show in the flags
  const H = clientHome({ port: 4242, address: 'oracle.example', rwd_keys: true, validate_password: false });
  const h = await H.run(['qr', 'svg']);
  writeFileSync(join(dir, 'h.svg'), ok(h, 'qr svg'));
  svgToPng(join(dir, 'h.svg'), join(dir, 'h.png'));
  assert.is(zbarDecode(join(dir, 'h.png')).toString('hex'), '02' + '1092' + Buffer.from('oracle.example').toString('hex'));
});

test('the oracle is still healthy (no crash from any of the above)', () => {
  assert.is(oracle.proc.exitCode, null);
});

test.run();
