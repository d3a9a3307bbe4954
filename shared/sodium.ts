// The one place libsodium is loaded. ES module top-level await: every importer
// gets a ready instance.
import _sodium from 'libsodium-wrappers-sumo';

await _sodium.ready;
export const sodium = _sodium;

/** Overwrite a buffer we own that held a secret. */
export function wipe(...bufs: Array<Uint8Array | null | undefined>): void {
  for (const b of bufs) if (b && b.length) sodium.memzero(b);
}
