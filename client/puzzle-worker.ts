// The puzzle worker thread: loads the solver at once, warms it up on a small
// throwaway puzzle (compiling the WebAssembly kernel and JIT-compiling the
// solver off the critical path, while the main thread connects), then solves
// what the main thread sends ({ id, n, k, seed } → { id, solution } or { id, error }).
import { randomBytes, randomInt } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

/** The warm-up puzzle: small enough to be done before the first challenge arrives. */
export const WARMUP_N = 40;

const equihash = import('../shared/equihash.js');
const warm = equihash.then((e) => e.solve(WARMUP_N, 4, randomBytes(32))).catch(() => undefined);

parentPort!.on('message', async (m: { id: number; n: number; k: number; seed: Uint8Array }) => {
  try {
    const { solve } = await equihash;
    await warm;
    // A random first nonce: two requests that get the same challenge (READ has
    // no random alpha, and the challenge's clock is in seconds) then send
    // different solutions, which an oracle keying its replay cache on the
    // solution tells apart from a replay. Any nonce is as good for the oracle.
    const solution = await solve(m.n, m.k, m.seed, { nonce: randomInt(0, 2 ** 31) });
    parentPort!.postMessage({ id: m.id, solution });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
});
