// client/fastcrypto.ts on a COLD process, as `sphinx get` runs it: each run is
// a fresh node process that loads the module (not timed), then times, once
// each and in this order, the OPRF blinding (client/get.ts fastChallenge:
// blake2b-512 → fromHash → randomScalar → scalarmult) and the unblinding
// (fastUnblind: isValidPoint(beta) → invertScalar(r) → scalarmult(1/r, beta)
// → blake2b). As in `sphinx get`, the record id (two keyed BLAKE2b calls,
// client/get.ts fastRecordId) runs first: it is timed on its own, and it is
// what compiles the shared BLAKE2b compression before the blinding hashes.
// The parent computes r, beta and the expected N with libsodium,
// and the child checks its N against it (a wrong answer fails the bench).
// Median of BENCH_RUNS (default 15) processes, run one after the other.
//
//   node .build/<dir>/bench/fastcrypto.js            (or via bench/run.ts: fastcrypto)
//   FASTCRYPTO_MODULE=/abs/path/fastcrypto.js ...    to time another build of the module
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 15);
const SELF = fileURLToPath(import.meta.url);

type FC = typeof import('../client/fastcrypto.js');

const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

/** The child: one cold blinding, then one unblinding; prints the two times (ms) as JSON. */
async function child(arg: string): Promise<void> {
  const { pwd, r, beta, N, mode } = JSON.parse(arg) as Record<string, string>;
  const fc = (await import(process.env['FASTCRYPTO_MODULE'] ? pathToFileURL(process.env['FASTCRYPTO_MODULE']).href : '../client/fastcrypto.js')) as FC;
  const p = fromHex(pwd!);
  const rb = fromHex(r!);
  const bb = fromHex(beta!);
  const blind = (): void => {
    const h0 = fc.blake2b(p, null, 64);
    const H0 = fc.fromHash(h0);
    const rr = fc.randomScalar();
    const alpha = fc.scalarmult(rr, H0);
    if (!alpha) throw new Error('identity');
  };
  const unblind = (): Uint8Array => {
    if (!fc.isValidPoint(bb)) throw new Error('beta invalid');
    const rinv = fc.invertScalar(rb)!;
    const n = fc.scalarmult(rinv, bb)!;
    const msg = new Uint8Array(p.length + 32);
    msg.set(p);
    msg.set(n, p.length);
    fc.blake2b(msg, null, 32);
    return n;
  };
  const recordId = (): void => {
    const salt = fc.blake2b(new TextEncoder().encode('sphinx host salt'), p.subarray(0, 16), 32);
    fc.blake2b(new TextEncoder().encode('alice|bench.example'), salt, 32);
  };
  let tb = NaN;
  let tr = NaN;
  let tu: number;
  let n: Uint8Array;
  if (mode === 'unblind-only') {
    recordId(); // BLAKE2b warm as in sphinx get; the ristretto255 code cold
    const t0 = performance.now();
    n = unblind();
    tu = performance.now() - t0;
  } else {
    const tr0 = performance.now();
    recordId();
    const t0 = performance.now();
    tr = t0 - tr0;
    blind();
    const t1 = performance.now();
    n = unblind();
    const t2 = performance.now();
    tb = t1 - t0;
    tu = t2 - t1;
  }
  if (toHex(n) !== N) throw new Error(`unblinding gave ${toHex(n)}, expected ${N}`);
  process.stdout.write(JSON.stringify({ recordId: tr, blind: tb, unblind: tu }));
}

function runChild(arg: string): Promise<{ recordId: number; blind: number; unblind: number }> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [SELF, '--child', arg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.on('error', rej);
    p.on('close', (code) => (code === 0 ? res(JSON.parse(out)) : rej(new Error(`child exited ${code}: ${err}`))));
  });
}

export async function main(): Promise<void> {
  const { sodium } = await import('../shared/sodium.js');
  const pwd = new TextEncoder().encode('bench master password');
  const H0 = sodium.crypto_core_ristretto255_from_hash(sodium.crypto_generichash(64, pwd, null));
  const r = sodium.crypto_core_ristretto255_scalar_random();
  const k = sodium.randombytes_buf(32);
  const alpha = sodium.crypto_scalarmult_ristretto255(r, H0);
  const beta = sodium.crypto_scalarmult_ristretto255(k, alpha);
  const N = sodium.crypto_scalarmult_ristretto255(k, H0);
  const base = { pwd: toHex(pwd), r: toHex(r), beta: toHex(beta), N: toHex(N) };

  const both: Array<{ recordId: number; blind: number; unblind: number }> = [];
  const alone: number[] = [];
  for (let i = 0; i < RUNS; i++) both.push(await runChild(JSON.stringify({ ...base, mode: 'both' })));
  for (let i = 0; i < RUNS; i++) alone.push((await runChild(JSON.stringify({ ...base, mode: 'unblind-only' }))).unblind);
  const fmt = (xs: number[]): string => `${median(xs).toFixed(2)} | ${Math.min(...xs).toFixed(2)} | ${Math.max(...xs).toFixed(2)}`;
  console.log(`client/fastcrypto.ts, cold: one call per fresh node process (module load not timed), ${RUNS} processes each\n`);
  console.log('| operation (first call in the process) | median ms | min | max |\n|---|---|---|---|');
  console.log(`| record id before it (2 keyed blake2b; compiles the compression function) | ${fmt(both.map((x) => x.recordId))} |`);
  console.log(`| OPRF blinding: blake2b-512, fromHash, randomScalar, scalarmult | ${fmt(both.map((x) => x.blind))} |`);
  console.log(`| OPRF unblinding after it: isValidPoint, invertScalar, scalarmult, blake2b | ${fmt(both.map((x) => x.unblind))} |`);
  console.log(`| OPRF unblinding with no blinding before it (the record id only) | ${fmt(alone)} |`);
  console.log(`\nblinding, each process (ms): ${both.map((x) => x.blind.toFixed(1)).join(' ')}`);
  console.log(`unblinding after it (ms): ${both.map((x) => x.unblind.toFixed(1)).join(' ')}`);
}

if (process.argv[2] === '--child') await child(process.argv[3]!);
else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
