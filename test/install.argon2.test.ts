// The argon2 module as installed: it loads and equals libsodium's
// crypto_pwhash, and so does the portable prebuilt binary alone (what a
// machine without a C compiler gets), while build/argon2-check.mjs, the
// guard of the optional AVX2 build, refuses a module that does not load.
// Each check runs in a child process: a native module that crashes on load
// (argon2 0.45.1's prebuilt did, with SIGSEGV) must fail the check, not the
// test runner.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ARGON2 } from '../shared/constants.js';
import { projectRoot } from './helpers/vectors.js';

const root = projectRoot();
const check = join(root, 'build', 'argon2-check.mjs');
const pkg = dirname(createRequire(join(root, 'package.json')).resolve('argon2'));

function runCheck(mod: string): { status: number | null; signal: NodeJS.Signals | null; out: string } {
  const r = spawnSync(process.execPath, [check, mod], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, signal: r.signal, out: `${r.stdout}${r.stderr}` };
}

/** A copy of the argon2 package beside it in node_modules (so its dependencies resolve), removed afterwards. */
function withCopy(tag: string, prepare: (dir: string) => void, body: (dir: string) => void): void {
  const dir = join(dirname(pkg), `.argon2-test-${tag}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  try {
    cpSync(pkg, dir, { recursive: true });
    prepare(dir);
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the installed argon2 module loads and equals libsodium crypto_pwhash', () => {
  const r = runCheck('argon2');
  assert.is(r.status, 0, r.out);
  assert.match(r.out, /argon2: ok/);
});

test('the pinned version is one whose prebuilt binary loads on this Node (0.45.1 segfaults)', () => {
  const version = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version as string;
  const wanted = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).dependencies.argon2 as string;
  assert.is(version, wanted, 'package.json pins an exact argon2 version and the install has it');
});

test('without any build of its own (no C compiler), the prebuilt binary loads and hashes right', () => {
  withCopy('prebuilt', (dir) => rmSync(join(dir, 'build'), { recursive: true, force: true }), (dir) => {
    const r = runCheck(dir);
    assert.is(r.status, 0, r.out);
  });
});

test('the check refuses a module whose binary does not load (what guards the optional AVX2 build)', () => {
  withCopy(
    'broken',
    (dir) => {
      mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
      writeFileSync(join(dir, 'build', 'Release', 'argon2.node'), 'not a shared object');
    },
    (dir) => {
      const r = runCheck(dir);
      assert.is.not(r.status, 0, 'a broken module must fail the check');
      assert.match(r.out, /not usable/);
    },
  );
});

test('argon2-check.mjs uses the parameters of shared/constants.ts', () => {
  const src = readFileSync(check, 'utf8');
  const m = /const PARAMS = (\{[^}]*\})/.exec(src);
  assert.ok(m, 'PARAMS found');
  const params = Function(`return ${m![1]}`)() as Record<string, number>;
  assert.equal(params, { timeCost: ARGON2.timeCost, memoryCost: ARGON2.memoryCost, parallelism: ARGON2.parallelism, hashLength: ARGON2.hashLength, version: ARGON2.version });
});

/**
 * The install script in a scratch project: build/ copied, node_modules/ made
 * of links to ours except a real copy of argon2 that the script may change.
 * No npm_config_node_gyp: nothing is compiled, only the repair paths run.
 */
function scratchInstall(prepare: (argon2: string) => void, env: NodeJS.ProcessEnv = {}): { status: number | null; out: string; argon2: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sphinx-install-'));
  cpSync(join(root, 'build'), join(dir, 'build'), { recursive: true });
  const nm = join(dir, 'node_modules');
  mkdirSync(nm);
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name !== 'argon2' && !name.startsWith('.')) symlinkSync(join(root, 'node_modules', name), join(nm, name));
  }
  const argon2 = join(nm, 'argon2');
  cpSync(pkg, argon2, { recursive: true });
  rmSync(join(argon2, 'build'), { recursive: true, force: true });
  prepare(argon2);
  const clean = { ...process.env };
  delete clean['npm_config_node_gyp'];
  const r = spawnSync(process.execPath, [join(dir, 'build', 'argon2-avx2.mjs')], { env: { ...clean, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}`, argon2, dir };
}

function brokenBuild(argon2: string): void {
  mkdirSync(join(argon2, 'build', 'Release'), { recursive: true });
  writeFileSync(join(argon2, 'build', 'Release', 'argon2.node'), 'not a shared object');
}

test('install script: a build that does not load is removed and the prebuilt binary used', () => {
  const r = scratchInstall(brokenBuild);
  try {
    assert.is(r.status, 0, r.out);
    assert.match(r.out, /removed a build that does not work here/);
    assert.not.ok(existsSync(join(r.argon2, 'build')));
    assert.is(runCheck(r.argon2).status, 0);
  } finally {
    rmSync(r.dir, { recursive: true, force: true });
  }
});

test('install script: SPHINX_ARGON2_PORTABLE removes an own build', () => {
  const ownBuild = (a: string): void => {
    mkdirSync(join(a, 'build', 'Release'), { recursive: true });
    cpSync(join(a, 'prebuilds', 'linux-x64', 'argon2.glibc.node'), join(a, 'build', 'Release', 'argon2.node'));
  };
  const r = scratchInstall(ownBuild, { SPHINX_ARGON2_PORTABLE: '1' });
  try {
    assert.is(r.status, 0, r.out);
    assert.match(r.out, /SPHINX_ARGON2_PORTABLE/);
    assert.not.ok(existsSync(join(r.argon2, 'build')));
  } finally {
    rmSync(r.dir, { recursive: true, force: true });
  }
});

test('install script: when nothing works it fails the install and leaves the build it found', () => {
  const r = scratchInstall((a) => {
    brokenBuild(a);
    for (const f of readdirSync(join(a, 'prebuilds', 'linux-x64'))) writeFileSync(join(a, 'prebuilds', 'linux-x64', f), 'not a shared object either');
  });
  try {
    assert.is(r.status, 1, r.out);
    assert.match(r.out, /not even its prebuilt binary/);
    assert.ok(existsSync(join(r.argon2, 'build', 'Release', 'argon2.node')), 'the build it found is put back');
  } finally {
    rmSync(r.dir, { recursive: true, force: true });
  }
});

test.run();
