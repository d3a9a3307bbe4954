// Argon2id as SPHINX v1 uses it (protocol.md §2): libsodium crypto_pwhash
// with OPSLIMIT/MEMLIMIT_INTERACTIVE, argon2id13, 32-byte output, computed by
// the native `argon2` package (byte-identical; test/core.oprf checks it against
// libsodium on the vectors). The client never loads libsodium. The binding
// is loaded on first use (or early, with preloadArgon2, while the network
// works).
import { createRequire } from 'node:module';
import { ARGON2 } from './constants.js';

/**
 * Argon2id allocates 64 MiB per password; with this glibc tunable in the
 * environment at process start, malloc asks for transparent huge pages and
 * Argon2id runs ~40 % faster (BENCHMARKS.md). The `sphinx` shell script
 * (build/bundle.ts) and the websphinx host (websphinx/main.ts) set it.
 */
export const HUGE_PAGES_TUNABLE = 'glibc.malloc.hugetlb=1';

let argon2Mod: Promise<typeof import('argon2')> | undefined;

/**
 * Starts loading the native argon2 binding (idempotent); a load failure
 * surfaces in argon2id(). The package is CommonJS: require() loads it
 * without starting Node's ES module loader, which the client's CommonJS
 * bundle otherwise never needs on the `get` path.
 */
export function preloadArgon2(): Promise<typeof import('argon2')> {
  argon2Mod ??= new Promise((res) => res(createRequire(import.meta.url)('argon2') as typeof import('argon2')));
  argon2Mod.catch(() => undefined);
  return argon2Mod;
}

/**
 * Argon2id(rwd0, salt = id[0..16]) with the INTERACTIVE parameters. The
 * caller checks the sizes. The binding gets copies we own and wipe afterwards.
 */
export async function argon2id(rwd0: Uint8Array, id: Uint8Array): Promise<Uint8Array> {
  const pw = Buffer.from(rwd0);
  const salt = Buffer.from(id.subarray(0, ARGON2.saltLength));
  let out: Buffer | undefined;
  try {
    const argon2 = await preloadArgon2();
    out = await argon2.hash(pw, {
      raw: true,
      type: argon2.argon2id,
      version: ARGON2.version,
      timeCost: ARGON2.timeCost,
      memoryCost: ARGON2.memoryCost,
      parallelism: ARGON2.parallelism,
      hashLength: ARGON2.hashLength,
      salt,
    });
    return Uint8Array.from(out);
  } finally {
    pw.fill(0);
    out?.fill(0);
  }
}
