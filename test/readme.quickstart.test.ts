// The README's quick start, run as a new user would paste it: the client
// block runs verbatim in bash (-e: any failing line fails the test) with a
// fresh temp HOME and no sphinx on the PATH; the oracle is what
// `npm run oracle` runs after its build (node dist/oracle/main.js, no config:
// development mode on 127.0.0.1:2355, ./data), started by this test in the
// background in the directory the client block runs in (the clone's dist/ is
// linked there). Needs port 2355 free.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanEnv } from './helpers/cli.js';
import { ORACLE_MAIN } from './helpers/oracle-process.js';

const ROOT = join(dirname(ORACLE_MAIN), '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The ```sh block right after the <!-- quick-start: NAME --> marker. */
function block(name: string): string {
  const m = new RegExp(`<!-- quick-start: ${name} -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(README);
  assert.ok(m, `README has a quick-start ${name} block`);
  return m[1]!;
}

let oracle: ChildProcess | null = null;

test.after(() => {
  oracle?.kill('SIGTERM');
});

test('README quick start: the oracle block is `npm run oracle`, which runs the built oracle', () => {
  assert.is(block('oracle').trim(), 'npm ci && npm run oracle');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.is(pkg.scripts['oracle'], 'npm run build && node dist/oracle/main.js', 'what this test starts is what npm run oracle starts');
});

test('README quick start: the client block, pasted into a fresh bash, creates and gets a password', async () => {
  const clone = mkdtempSync(join(tmpdir(), 'sphinx-quickstart-'));
  symlinkSync(join(ROOT, 'dist'), join(clone, 'dist'));
  const home = join(clone, 'home');
  mkdirSync(home);
  // the first terminal: node dist/oracle/main.js in the clone, no config file
  oracle = spawn(process.execPath, [join(clone, 'dist/oracle/main.js')], { cwd: clone, env: { ...process.env, HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise<void>((res, rej) => {
    oracle!.stderr!.setEncoding('utf8').on('data', (d: string) => {
      log += d;
      if (log.includes('oracle listening on 127.0.0.1 port 2355')) res();
    });
    oracle!.on('close', () => rej(new Error(`the oracle exited (port 2355 in use?): ${log}`)));
  });
  // the second terminal: a fresh shell in the clone; on its PATH only node (the one running
  // this test) and the system's tools: no sphinx, even where npm link was run
  const bin = join(clone, 'node-only');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  const env = cleanEnv({ HOME: home, PATH: `${bin}:/usr/bin:/bin` });
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((res, rej) => {
    const p = spawn('bash', ['--norc', '--noprofile', '-e', '-c', block('client')], { cwd: clone, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', rej);
    p.on('close', (code) => res({ code, stdout, stderr }));
  });
  assert.is(r.code, 0, `the quick start failed:\n${r.stderr}\noracle:\n${log}`);
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.is(lines.length, 2, `create and get each print the password: ${r.stdout}`);
  assert.is(lines[0], lines[1], 'get gives the password create made');
  assert.ok(lines[0]!.length >= 20);
  assert.match(readFileSync(join(home, '.config/sphinx/config'), 'utf8'), new RegExp(`ssl_cert = ${clone}/data/dev-cert.pem`));
});

test.run();
