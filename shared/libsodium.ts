// The one place libsodium is loaded. Its WebAssembly instantiates
// asynchronously: `sodium` is usable once `sodiumReady` has resolved.
// No top-level await here, so that the client's modules can be bundled as
// CommonJS (which starts ~15-20 ms faster than an ES module bundle and has no
// top-level await): the client awaits sodiumReady before a command that uses
// libsodium (client/main.ts). ES module code that wants a ready instance on
// import (the oracle, tests, benchmarks) imports shared/sodium.ts instead.
import _sodium from 'libsodium-wrappers-sumo';

export const sodium = _sodium;
export const sodiumReady: Promise<void> = _sodium.ready;

/** Overwrite buffers we own that held a secret. */
export function wipe(...bufs: Array<Uint8Array | null | undefined>): void {
  for (const b of bufs) b?.fill(0);
}
