// Checks that an argon2 module loads and computes SPHINX's Argon2id exactly as
// libsodium's crypto_pwhash does (OPSLIMIT/MEMLIMIT_INTERACTIVE, argon2id13).
//
//   node build/argon2-check.mjs [MODULE]     MODULE: a path or package name (default: argon2)
//
// Exit 0 and one line "argon2: ok ..." when it matches; exit 1 with a reason
// when it does not. A native module that crashes on load (argon2 0.45.1's
// prebuilt binary segfaults on Node 20 here) kills the process with a signal:
// callers run this file as a child process and treat any non-zero status as
// "not usable". Used by .ci/run (on the module `npm ci --ignore-scripts`
// installs) and by build/argon2-avx2.mjs (before and after swapping a build in).
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const require = createRequire(import.meta.url);
const target = process.argv[2] ?? 'argon2';
const spec = target.startsWith('.') || target.startsWith('/') ? resolve(target) : target;

// The same parameters as shared/constants.ts ARGON2 (this file runs before the TypeScript build).
const PARAMS = { timeCost: 2, memoryCost: 65536, parallelism: 1, hashLength: 32, version: 0x13 };

try {
  const argon2 = require(spec);
  const sodium = require('libsodium-wrappers-sumo');
  await sodium.ready;
  const pw = Buffer.from('argon2-check: a fixed test input of 32 by', 'utf8').subarray(0, 32);
  const salt = Buffer.from('0123456789abcdef', 'utf8');
  const ours = await argon2.hash(pw, { raw: true, type: argon2.argon2id, salt, ...PARAMS });
  const ref = sodium.crypto_pwhash(32, pw, salt, sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE,
    sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE, sodium.crypto_pwhash_ALG_ARGON2ID13);
  if (Buffer.compare(Buffer.from(ours), Buffer.from(ref)) !== 0) {
    console.error(`argon2: ${target} computes a different Argon2id than libsodium's crypto_pwhash`);
    process.exit(1);
  }
  console.log(`argon2: ok (${target} loads and equals libsodium crypto_pwhash)`);
} catch (e) {
  console.error(`argon2: ${target} is not usable: ${String(e?.message ?? e).split('\n')[0]}`);
  process.exit(1);
}
