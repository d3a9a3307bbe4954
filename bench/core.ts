// OPRF timings: challenge, respond (the oracle's work per GET), finish
// (unblind + argon2id), and argon2id alone against libsodium's crypto_pwhash.
import { pathToFileURL } from 'node:url';
import { ARGON2 } from '../shared/constants.js';
import { challenge, finish, stretch } from '../client/crypto.js';
import { respond, sodium } from '../oracle/crypto.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timeIt(runs: number, f: () => unknown | Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f();
    out.push(performance.now() - t);
  }
  return out;
}

export async function main(): Promise<void> {
  const pwd = new TextEncoder().encode('correct horse battery staple');
  const k = sodium.randombytes_buf(32);
  const id = sodium.randombytes_buf(32);
  const { r, alpha } = challenge(pwd);
  const beta = respond(alpha, k);
  await finish(pwd, r, alpha, beta, id); // warm-up: loads argon2

  const rows: Array<[string, number[]]> = [];
  rows.push(['challenge (client)', await timeIt(200, () => challenge(pwd))]);
  rows.push(['respond (oracle, per GET)', await timeIt(200, () => respond(alpha, k))]);
  rows.push(['finish (unblind + argon2id)', await timeIt(10, () => finish(pwd, r, alpha, beta, id))]);
  const rwd0 = sodium.randombytes_buf(32);
  rows.push(['argon2id, native argon2 package', await timeIt(10, () => stretch(rwd0, id))]);
  rows.push([
    'argon2id, libsodium crypto_pwhash (wasm)',
    await timeIt(5, () =>
      sodium.crypto_pwhash(32, rwd0, id.subarray(0, ARGON2.saltLength), sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE, sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE, sodium.crypto_pwhash_ALG_ARGON2ID13),
    ),
  ]);
  console.log('| operation | runs | median ms | min ms |');
  console.log('|---|---|---|---|');
  for (const [name, xs] of rows) console.log(`| ${name} | ${xs.length} | ${median(xs).toFixed(3)} | ${Math.min(...xs).toFixed(3)} |`);
  console.log('\nNative reference: argon2id (libsodium INTERACTIVE) ≈ 151 ms on this machine kind.');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
