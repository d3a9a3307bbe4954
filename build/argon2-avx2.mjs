// postinstall: an optional AVX2 build of the argon2 module, installed only
// once it is proven to work.
//
// The argon2 package ships a portable (SSE2) prebuilt binary, which is what a
// plain `npm ci` (or `npm ci --ignore-scripts`) gives and what runs on any
// x86-64. On a CPU with AVX2, Argon2id (the floor of every `sphinx get`) is
// ~30 % faster when compiled with -mavx2 (BENCHMARKS.md). This script tries
// that build and keeps it only when it loads and equals libsodium's
// crypto_pwhash (build/argon2-check.mjs, run in a child process: a crash
// cannot hurt us):
//   1. the package is copied to node_modules/.argon2-avx2/ and compiled there
//      (npm's own node-gyp; needs a C compiler and Node's headers);
//   2. the copy is checked;
//   3. its binary is copied next to the installed module's build directory
//      and renamed into place (node-gyp-build prefers build/Release to the
//      prebuilt binary), and the installed module is checked again; on any
//      failure the build directory is removed, which brings the prebuilt
//      binary back.
// Only this project's node_modules/argon2 is ever touched. Any failure of the
// speed-up leaves a working module and prints one line. The install fails
// (exit 1) only when no argon2 works at all, not even the prebuilt binary.
// SPHINX_ARGON2_PORTABLE=1 removes an AVX2 build and keeps the prebuilt one
// (e.g. before copying node_modules to a CPU without AVX2).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, '..', 'node_modules');
const pkg = join(modules, 'argon2');
const installed = join(pkg, 'build');
const check = join(here, 'argon2-check.mjs');
const say = (line) => console.log(`argon2: ${line}`);
const works = (mod) => spawnSync(process.execPath, [check, mod], { stdio: 'ignore', timeout: 120_000 }).status === 0;

/** Makes sure the installed module works, falling back to the prebuilt binary; false when nothing works. */
function ensureWorking() {
  if (works(pkg)) return true;
  if (!existsSync(installed)) return false;
  // A build that does not run here (node_modules copied from an AVX2 machine?):
  // set it aside, try the prebuilt binary, and put it back if that fails too.
  const aside = `${installed}.unusable`;
  rmSync(aside, { recursive: true, force: true });
  renameSync(installed, aside);
  if (works(pkg)) {
    rmSync(aside, { recursive: true, force: true });
    say('removed a build that does not work here; using the prebuilt binary');
    return true;
  }
  renameSync(aside, installed);
  return false;
}

function speedUp() {
  if (process.env.SPHINX_ARGON2_PORTABLE) {
    rmSync(installed, { recursive: true, force: true });
    return say('SPHINX_ARGON2_PORTABLE is set: using the portable prebuilt binary');
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') return;
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return;
  }
  if (!/^flags\s*:.*\bavx2\b/m.test(cpuinfo)) return say('this CPU has no AVX2: keeping the portable prebuilt binary');
  const gyp = process.env.npm_config_node_gyp;
  if (!gyp || !existsSync(gyp)) return say("npm's node-gyp not found (run this through npm): keeping the prebuilt binary");

  const work = join(modules, '.argon2-avx2');
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
    try {
      rmSync(installed, { recursive: true, force: true });
      mkdirSync(join(installed, 'Release'), { recursive: true });
      const target = join(installed, 'Release', 'argon2.node');
      cpSync(binary, `${target}.tmp`);
      renameSync(`${target}.tmp`, target); // never a half-copied binary where node-gyp-build looks
      if (!works(pkg)) throw new Error('the installed AVX2 build failed its check');
    } catch (e) {
      rmSync(installed, { recursive: true, force: true });
      return say(`${String(e?.message ?? e).split('\n')[0]}: removed, keeping the prebuilt binary`);
    }
    say('AVX2 build checked against libsodium and installed');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (!existsSync(join(pkg, 'package.json'))) {
  say(`${pkg} is missing: run npm ci`);
  process.exit(1);
}
try {
  if (!ensureWorking()) {
    say('the argon2 module does not load or does not equal libsodium crypto_pwhash, not even its prebuilt binary: see README, Install');
    process.exit(1);
  }
  speedUp();
} catch (e) {
  say(`optional AVX2 build skipped (${String(e?.message ?? e).split('\n')[0]})`);
}
if (!works(pkg)) {
  say('the argon2 module does not work after the install script: see README, Install');
  process.exit(1);
}
