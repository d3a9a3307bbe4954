// Cross-check against the native reference on fresh random seeds: Debian's
// libequihash0 1.0.6 through python3-pyequihash (module `equihash`, driven by
// /usr/bin/python3 -- not the `python3` on PATH, which may be another
// interpreter without it). Our solutions must pass the native verifier, the
// native solver's must pass ours (and be among the solutions we find at that
// nonce, in the same order), and corrupted ones must fail ours.
//
// The native library is REQUIRED: without it every test here fails with the
// Debian packages to install (CI installs them).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { decode, encode, solsize, solve, solutionsForNonce, verify } from '../shared/equihash.js';
import { toHex, hex } from './helpers/vectors.js';

const PYTHON = '/usr/bin/python3';
const INSTALL = 'the native Equihash reference is missing: install the Debian packages `python3-pyequihash` and `libequihash0` (apt-get install python3-pyequihash libequihash0)';
const K = 4;
// Seeds per level; fewer at the slow levels (the native solver needs ~0.2-0.7 s at n=80 here).
const PLAN: Array<[number, number]> = [[60, 3], [65, 2], [70, 2], [75, 1], [80, 1]];
const SEED_LENS = [107, 75, 64, 33, 1];

// Reads [{n,k,seed,ours}] (hex) on stdin; writes [{native, nativeOk, oursOk, size}].
const DRIVER = `
import sys, json
try:
    import equihash
except Exception as e:
    print("IMPORT-FAILED: %s: %s" % (type(e).__name__, e), file=sys.stderr)
    sys.exit(3)
out = []
for j in json.load(sys.stdin):
    seed = bytes.fromhex(j["seed"])
    sol = equihash.solve(j["n"], j["k"], seed)
    out.append({
        "size": equihash.solsize(j["n"], j["k"]),
        "native": sol.hex(),
        "nativeOk": equihash.verify(j["n"], j["k"], seed, sol),
        "oursOk": equihash.verify(j["n"], j["k"], seed, bytes.fromhex(j["ours"])),
    })
json.dump(out, sys.stdout)
`;

interface Job { n: number; k: number; seed: string; ours: string }
interface Res { size: number; native: string; nativeOk: boolean; oursOk: boolean }

function runNative(jobs: Job[]): Res[] {
  const r = spawnSync(PYTHON, ['-I', '-c', DRIVER], {
    input: JSON.stringify(jobs),
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
    timeout: 120_000,
    maxBuffer: 16 << 20,
  });
  if (r.error) throw new Error(`${INSTALL} (${PYTHON}: ${r.error.message})`);
  if (r.status === 3) throw new Error(`${INSTALL} (${r.stderr.trim()})`);
  if (r.status !== 0) throw new Error(`native driver failed (status ${r.status}, signal ${r.signal}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as Res[];
}

const jobs: Job[] = [];
let results: Res[] = [];
let setupError: Error | null = null;

// uvu hides errors thrown in before hooks, so remember it and fail each test with it.
test.before(async () => {
  try {
    let s = 0;
    for (const [n, count] of PLAN) {
      for (let i = 0; i < count; i++) {
        const seed = new Uint8Array(randomBytes(SEED_LENS[s++ % SEED_LENS.length]!));
        jobs.push({ n, k: K, seed: toHex(seed), ours: toHex(await solve(n, K, seed)) });
      }
    }
    results = runNative(jobs);
    if (results.length !== jobs.length) throw new Error(`native driver returned ${results.length} results for ${jobs.length} jobs`);
  } catch (e) {
    setupError = e instanceof Error ? e : new Error(String(e));
  }
});

const ready = (): void => {
  if (setupError) assert.unreachable(setupError.message);
};

test('native reference is installed and agrees on solsize', () => {
  ready();
  for (let i = 0; i < jobs.length; i++) assert.is(results[i]!.size, solsize(jobs[i]!.n, K), `n=${jobs[i]!.n}`);
});

test('our solutions pass the native verifier', () => {
  ready();
  for (let i = 0; i < jobs.length; i++) assert.ok(results[i]!.oursOk, `n=${jobs[i]!.n} seed ${jobs[i]!.seed.length / 2}B`);
});

test('native solutions pass our strict verifier, and we find them too (same order)', () => {
  ready();
  for (let i = 0; i < jobs.length; i++) {
    const { n, seed: sh } = jobs[i]!;
    const seed = hex(sh), sol = hex(results[i]!.native);
    const what = `n=${n} seed ${seed.length}B`;
    assert.ok(results[i]!.nativeOk, `${what}: native accepts its own`);
    assert.ok(verify(n, K, seed, sol), `${what}: we accept the native solution`);
    const { nonce, indices } = decode(n, K, sol);
    const ours = solutionsForNonce(n, K, seed, nonce).map((s) => s.join());
    assert.ok(ours.includes(indices.join()), `${what}: native solution among ours at nonce ${nonce}`);
  }
});

test('corrupted native solutions fail our verifier', () => {
  ready();
  for (let i = 0; i < jobs.length; i++) {
    const { n, seed: sh } = jobs[i]!;
    const seed = hex(sh), sol = hex(results[i]!.native);
    const { nonce, indices } = decode(n, K, sol);
    for (const bit of [0, 31, 32, 33, 8 * sol.length - 1, 8 * (sol.length >> 1)]) {
      const bad = sol.slice();
      bad[bit >> 3]! ^= 0x80 >> (bit & 7);
      assert.not.ok(verify(n, K, seed, bad), `n=${n}: bit ${bit} flipped`);
    }
    // Halves of the whole tree swapped: the same proof in another order, valid.
    assert.ok(verify(n, K, seed, encode(n, K, nonce, [...indices.slice(8), ...indices.slice(0, 8)])), `n=${n}: halves swapped`);
    assert.not.ok(verify(n, K, seed, encode(n, K, nonce, indices.map(() => indices[0]!))), `n=${n}: equal indices`);
    assert.not.ok(verify(n, K, seed, sol.subarray(0, sol.length - 1)), `n=${n}: short`);
    const other = seed.slice();
    other[0]! ^= 1;
    // A seed shorter than 4 bytes is wholly overwritten by the nonce word (the
    // hash-input quirk), so changing it changes nothing, natively or here.
    assert.is(verify(n, K, other, sol), seed.length < 4, `n=${n}: seed byte 0 changed (seed ${seed.length}B)`);
  }
});

test.run();
