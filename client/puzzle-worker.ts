// The puzzle worker thread: loads the solver at once, warms it up on a small
// throwaway puzzle (compiling the WebAssembly kernel and JIT-compiling the
// solver off the critical path, while the main thread connects), then solves
// what the main thread sends ({ id, n, k, seed } → { id, solution } or { id, error }).
import { randomBytes } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

/** The warm-up puzzle: small enough to be done before the first challenge arrives. */
export const WARMUP_N = 40;

const equihash = import('../shared/equihash.js');
const warm = equihash.then((e) => e.solve(WARMUP_N, 4, randomBytes(32))).catch(() => undefined);

parentPort!.on('message', async (m: { id: number; n: number; k: number; seed: Uint8Array }) => {
  try {
    const { solve } = await equihash;
    await warm;
    const solution = await solve(m.n, m.k, m.seed);
    parentPort!.postMessage({ id: m.id, solution });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
});
