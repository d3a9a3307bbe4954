// postinstall: an optional AVX2 build of the argon2 module, installed only
// once it is proven to work.
//
// The argon2 package ships a portable (SSE2) prebuilt binary, which is what a
// plain `npm ci` (or `npm ci --ignore-scripts`) gives and what runs on any
// x86-64. On a CPU with AVX2, Argon2id (the floor of every `sphinx get`) is
// ~30 % faster when compiled with -mavx2 (BENCHMARKS.md). This script tries
// that build and keeps it only when it loads and equals libsodium's
// crypto_pwhash (build/argon2-check.mjs):
//   1. the package is copied to node_modules/.argon2-avx2/ and compiled there
//      (npm's own node-gyp; needs a C compiler and Node's headers);
//   2. the copy is checked in a child process (a crash cannot hurt us);
//   3. its binary is copied into argon2/build/Release/ (node-gyp-build then
//      prefers it to the prebuilt one) and the installed module is checked
//      again; if that fails, the build directory is removed, which brings the
//      prebuilt binary back.
// Every failure leaves the working prebuilt module in place and prints one
// line; the install never fails because of this script.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const check = join(here, 'argon2-check.mjs');
const say = (line) => console.log(`argon2: ${line}`);
const works = (mod) => spawnSync(process.execPath, [check, mod], { stdio: 'ignore', timeout: 60_000 }).status === 0;

function main() {
  if (process.env.SPHINX_ARGON2_PORTABLE) return say('SPHINX_ARGON2_PORTABLE is set: keeping the portable prebuilt binary');
  if (process.platform !== 'linux' || process.arch !== 'x64') return;
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return;
  }
  if (!/^flags\s*:.*\bavx2\b/m.test(cpuinfo)) return say('this CPU has no AVX2: keeping the portable prebuilt binary');

  let pkg;
  try {
    pkg = dirname(createRequire(import.meta.url).resolve('argon2'));
  } catch {
    return say('the argon2 package is not installed: nothing to speed up');
  }
  const installed = join(pkg, 'build');
  if (!works(pkg)) {
    // A previous AVX2 build that no longer runs (node_modules copied from
    // another machine?): remove it and see whether the prebuilt one works.
    rmSync(installed, { recursive: true, force: true });
    if (!works(pkg)) return say('the installed module does not work, not even the prebuilt binary: see README, Install');
  }
  const gyp = process.env.npm_config_node_gyp;
  if (!gyp || !existsSync(gyp)) return say('npm\'s node-gyp not found (run this through npm): keeping the prebuilt binary');

  const work = join(dirname(pkg), '.argon2-avx2'); // inside node_modules: the copy resolves node-addon-api from there
  rmSync(work, { recursive: true, force: true });
  try {
    cpSync(pkg, work, { recursive: true });
    rmSync(join(work, 'build'), { recursive: true, force: true });
    const built = spawnSync(process.execPath, [gyp, 'rebuild'], {
      cwd: work,
      env: { ...process.env, CFLAGS: `${process.env.CFLAGS ?? ''} -mavx2`.trim() },
      stdio: 'ignore',
      timeout: 300_000,
    });
    const binary = join(work, 'build', 'Release', 'argon2.node');
    if (built.status !== 0 || !existsSync(binary)) return say('no AVX2 build (no C compiler or Node headers?): keeping the prebuilt binary');
    if (!works(work)) return say('the AVX2 build does not compute the right Argon2id: keeping the prebuilt binary');
    rmSync(installed, { recursive: true, force: true });
    mkdirSync(join(installed, 'Release'), { recursive: true });
    cpSync(binary, join(installed, 'Release', 'argon2.node'));
    if (!works(pkg)) {
      rmSync(installed, { recursive: true, force: true });
      return say('the installed AVX2 build failed its check: removed, keeping the prebuilt binary');
    }
    say('AVX2 build checked against libsodium and installed');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  main();
} catch (e) {
  say(`optional AVX2 build skipped (${String(e?.message ?? e).split('\n')[0]})`);
}
