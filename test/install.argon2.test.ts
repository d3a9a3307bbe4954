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
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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

test.run();
