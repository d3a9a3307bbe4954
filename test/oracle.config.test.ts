// The oracle's configuration and startup: typed [server] config (pure), and
// the built `oracle` as a child process: every startup error is one line on
// stderr and exit code 1 before listening; --help; development mode.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { generate } from 'selfsigned';
import { UsageError } from '../shared/errors.js';
import { parseIni } from '../shared/config.js';
import { SERVER_DEFAULTS, parseArgs, serverConfig } from '../oracle/config.js';
import { runOracle, serverConfigText, startOracle } from './helpers/oracle-process.js';

let dir = '';
let certA = { cert: '', key: '' };
let certB = { cert: '', key: '' };

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oracle-config-'));
  for (const [name, target] of [['a', (certA = { cert: '', key: '' })], ['b', (certB = { cert: '', key: '' })]] as const) {
    const p = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', algorithm: 'sha256' });
    target.cert = join(dir, `${name}-cert.pem`);
    target.key = join(dir, `${name}-key.pem`);
    writeFileSync(target.cert, p.cert);
    writeFileSync(target.key, p.private, { mode: 0o600 });
  }
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

// ------------------------------------------------------------------ pure config

test('serverConfig: protocol defaults with a certificate; development defaults without', () => {
  const prod = serverConfig(parseIni(`[server]\nssl_cert = "/c.pem"\nssl_key = k.pem\n`), '/cwd', '/home/u');
  assert.is(prod.address, '127.0.0.1');
  assert.is(prod.port, 2355);
  assert.is(prod.datadir, '/var/lib/sphinx');
  assert.is(prod.sslCert, '/c.pem', 'quotes stripped');
  assert.is(prod.sslKey, '/cwd/k.pem', 'relative to the working directory');
  assert.is(prod.devCert, false);
  assert.is(prod.verbose, false);
  assert.is(prod.timeout, 3);
  assert.is(prod.maxKids, 5);
  assert.is(prod.rl_decay, 1800);
  assert.is(prod.rl_threshold, 1);
  assert.is(prod.rl_gracetime, 10);
  const dev = serverConfig({}, '/cwd');
  assert.is(dev.devCert, true);
  assert.is(dev.datadir, '/cwd/data');
  assert.is(dev.sslCert, null);
  const home = serverConfig(parseIni('[server]\ndatadir = ~/sphinx\nverbose = yes\nport = 0\n'), '/cwd', '/home/u');
  assert.is(home.datadir, '/home/u/sphinx');
  assert.is(home.verbose, true);
  assert.is(home.port, 0);
  assert.is(serverConfig(parseIni('[server]\ntimeout = 2.5\n'), '/').timeout, 2.5, 'fractional timeout');
  assert.is(SERVER_DEFAULTS.devDatadir, './data');
});

test('serverConfig: bad values are UsageErrors', () => {
  for (const text of [
    '[server]\nport = 65536',
    '[server]\nport = abc',
    '[server]\nport = -1',
    '[server]\ntimeout = 0',
    '[server]\ntimeout = soon',
    '[server]\nmax_kids = 0',
    '[server]\nverbose = maybe',
    '[server]\nssl_cert = /c.pem',
    '[server]\nssl_key = /k.pem',
    '[server]\nrl_decay = 0',
  ]) {
    assert.throws(() => serverConfig(parseIni(text), '/'), (e: unknown) => e instanceof UsageError, text);
  }
});

test('parseArgs: --config FILE, --config=FILE, --help; anything else is a UsageError', () => {
  assert.equal(parseArgs([]), { help: false });
  assert.equal(parseArgs(['--config', 'x.cfg']), { help: false, config: 'x.cfg' });
  assert.equal(parseArgs(['--config=y.cfg']), { help: false, config: 'y.cfg' });
  assert.equal(parseArgs(['--help']), { help: true });
  for (const a of [['--config'], ['--bogus'], ['serve'], ['--config=']]) assert.throws(() => parseArgs(a), (e: unknown) => e instanceof UsageError, a.join(' '));
});

// ------------------------------------------------------------------ startup errors (child process)

function cfgFile(keys: Record<string, string | number>): string {
  const p = join(mkdtempSync(join(dir, 'cfg-')), 'sphinx.cfg');
  writeFileSync(p, serverConfigText({ address: '127.0.0.1', port: 0, datadir: join(dir, 'data-' + Math.random().toString(36).slice(2)), ...keys }));
  return p;
}

async function expectStartupError(args: string[], pattern: RegExp, what: string): Promise<void> {
  const r = await runOracle(args);
  assert.is(r.code, 1, `${what}: exit code 1 (stderr: ${r.stderr})`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.is(lines.length, 1, `${what}: exactly one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, pattern, what);
  assert.not.match(r.stderr, /listening/, `${what}: never listened`);
}

test('missing or unreadable certificate or key: one line, exit 1', async () => {
  await expectStartupError(['--config', cfgFile({ ssl_cert: join(dir, 'nope.pem'), ssl_key: certA.key })], /ssl_cert .*nope\.pem.*ENOENT/, 'missing cert');
  await expectStartupError(['--config', cfgFile({ ssl_cert: certA.cert, ssl_key: join(dir, 'nope-key.pem') })], /ssl_key .*nope-key\.pem/, 'missing key');
  await expectStartupError(['--config', cfgFile({ ssl_cert: certA.cert })], /ssl_key/, 'cert without key');
  const garbage = join(dir, 'garbage.pem');
  writeFileSync(garbage, 'not a certificate\n');
  await expectStartupError(['--config', cfgFile({ ssl_cert: garbage, ssl_key: certA.key })], /unusable ssl_cert/, 'garbage cert');
  await expectStartupError(['--config', cfgFile({ ssl_cert: certA.cert, ssl_key: certB.key })], /unusable ssl_cert/, 'key of another certificate');
});

test('bad port values and a port in use: one line, exit 1', async () => {
  await expectStartupError(['--config', cfgFile({ port: 70000 })], /port/, 'port 70000');
  await expectStartupError(['--config', cfgFile({ port: 'http' })], /port/, 'port "http"');
  const blocker: Server = createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  const port = (blocker.address() as { port: number }).port;
  try {
    await expectStartupError(['--config', cfgFile({ port })], /cannot listen .*EADDRINUSE/, 'port in use');
  } finally {
    blocker.close();
  }
});

test('unusable datadir: one line, exit 1', async () => {
  const f = join(dir, 'a-file');
  writeFileSync(f, 'x');
  await expectStartupError(['--config', cfgFile({ datadir: join(f, 'data') })], /datadir/, 'datadir below a regular file');
  await expectStartupError(['--config', cfgFile({ datadir: f })], /datadir/, 'datadir is a regular file');
  const d = mkdtempSync(join(dir, 'badkey-'));
  writeFileSync(join(d, 'key'), 'short');
  await expectStartupError(['--config', cfgFile({ datadir: d })], /MAC key/, 'damaged MAC key file');
});

test('command line: --help prints the usage (exit 0); unknown arguments and an unreadable --config: one line, exit 1', async () => {
  const h = await runOracle(['--help']);
  assert.is(h.code, 0);
  assert.match(h.stdout, /usage: oracle/);
  assert.match(h.stdout, /rl_gracetime/);
  await expectStartupError(['--frobnicate'], /unknown argument/, 'unknown argument');
  await expectStartupError(['--config', join(dir, 'missing.cfg')], /cannot read config file/, 'missing --config file');
});

// ------------------------------------------------------------------ development mode

test('development mode: ./data (0700) with a generated self-signed certificate, a loud warning, port 0 reported; reused on restart', async () => {
  const cwd = mkdtempSync(join(dir, 'dev-'));
  writeFileSync(join(cwd, 'sphinx.cfg'), '[server]\nport = 0\n'); // only the port: everything else defaults
  const first = await startOracleIn(cwd);
  try {
    assert.is(statSync(join(cwd, 'data')).mode & 0o777, 0o700);
    const pem = readFileSync(join(cwd, 'data', 'dev-cert.pem'), 'latin1');
    assert.is(statSync(join(cwd, 'data', 'dev-key.pem')).mode & 0o777, 0o600);
    const x = new X509Certificate(pem);
    assert.match(x.subjectAltName ?? '', /DNS:localhost/);
    assert.match(x.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.match(first.stderr, /DEVELOPMENT MODE.*generated now/);
    assert.ok(first.port > 0 && first.port !== 2355);
    // a client that pins the certificate and checks the name connects
    const sock = tlsConnect({ host: '127.0.0.1', port: first.port, ca: pem, servername: 'localhost' });
    await once(sock, 'secureConnect');
    sock.destroy();
    first.proc.kill('SIGTERM');
    const [code] = await once(first.proc, 'exit');
    assert.is(code, 0, 'SIGTERM exits 0');
    const second = await startOracleIn(cwd);
    assert.is(readFileSync(join(cwd, 'data', 'dev-cert.pem'), 'latin1'), pem, 'certificate reused');
    assert.match(second.stderr, /DEVELOPMENT MODE/);
    assert.not.match(second.stderr, /generated now/);
    second.proc.kill('SIGTERM');
    await once(second.proc, 'exit');
  } finally {
    first.proc.kill('SIGKILL');
  }
});

/** Start the oracle with no --config in `cwd` (HOME = cwd, so only ./sphinx.cfg and /etc/sphinx/config apply). */
async function startOracleIn(cwd: string): Promise<{ port: number; stderr: string; proc: import('node:child_process').ChildProcess }> {
  const { spawn } = await import('node:child_process');
  const { ORACLE_MAIN, awaitStartupLine } = await import('./helpers/oracle-process.js');
  const proc = spawn(process.execPath, [ORACLE_MAIN], { cwd, env: { ...process.env, HOME: cwd }, stdio: ['ignore', 'ignore', 'pipe'] });
  const { port, stderr } = await awaitStartupLine(proc, 20000);
  return { port, stderr: stderr(), proc };
}

test('startOracle helper: configured certificate, extra [server] keys, stop() exits 0', async () => {
  const o = await startOracle({ server: { ssl_cert: certA.cert, ssl_key: certA.key, verbose: true, timeout: 5 } });
  try {
    assert.is(o.certPath, certA.cert);
    assert.match(o.stderr(), /verbose on/);
    assert.match(o.stderr(), /timeout 5 s/);
    assert.not.match(o.stderr(), /DEVELOPMENT/);
    assert.ok(existsSync(join(o.datadir, 'key')), 'MAC key made on first start');
    assert.not.ok(existsSync(join(o.datadir, 'dev-cert.pem')));
  } finally {
    assert.is(await o.stop(), 0);
  }
});

test.run();
