// The puzzle worker thread (for puzzles above INLINE_MAX_N, see puzzle.ts):
// loads the solver at once, then solves what the main thread sends
// ({ id, n, k, seed } → { id, solution } or { id, error }).
import { parentPort } from 'node:worker_threads';
import { startNonce } from './nonce.js';

const equihash = import('../shared/equihash.js');
equihash.catch(() => undefined); // reported per request

parentPort!.on('message', async (m: { id: number; n: number; k: number; seed: Uint8Array }) => {
  try {
    const { solve } = await equihash;
    const solution = await solve(m.n, m.k, m.seed, { nonce: startNonce() });
    parentPort!.postMessage({ id: m.id, solution });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
});
