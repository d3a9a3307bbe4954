// BLAKE2b for the Equihash solver (shared/blake2b.ts) against libsodium's
// crypto_generichash: the plain-JS hash on many lengths and output sizes, and
// the batch hasher (WebAssembly SIMD kernel and its JS fallback) on inputs whose
// variable word sits at every kind of position.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sodium } from '../shared/sodium.js';
import { blake2b, createBatchHasher, kernelError, BATCH } from '../shared/blake2b.js';
import { toHex } from './helpers/vectors.js';

const ref = (msg: Uint8Array, outlen = 32): string => toHex(sodium.crypto_generichash(outlen, msg, null));

test('blake2b matches crypto_generichash for lengths 0..400 and several output sizes', () => {
  for (let len = 0; len <= 400; len++) {
    const msg = sodium.randombytes_buf(len);
    for (const outlen of [32, len % 64 + 1]) assert.is(toHex(blake2b(msg, outlen)), ref(msg, outlen), `len ${len} outlen ${outlen}`);
  }
  // Known answer (RFC 7693 Appendix A style): BLAKE2b-512("abc").
  assert.is(
    toHex(blake2b(new TextEncoder().encode('abc'), 64)),
    'ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923',
  );
});

test('blake2b rejects bad output sizes', () => {
  assert.throws(() => blake2b(new Uint8Array(1), 0), RangeError);
  assert.throws(() => blake2b(new Uint8Array(1), 65), RangeError);
});

test('the WebAssembly SIMD kernel is available on this engine', () => {
  const h = createBatchHasher();
  assert.is(h.kind, 'wasm-simd', `kernel unavailable: ${kernelError}`);
});

for (const prefer of [undefined, 'js'] as const) {
  test(`batch hasher (${prefer ?? 'default'}) matches crypto_generichash`, () => {
    const h = createBatchHasher(prefer);
    // Equihash input sizes for seeds of 0..300 bytes are 4*(floor(L/4)+2): the
    // index word is the last one; also words in the middle of the last block.
    for (const len of [8, 12, 16, 72, 76, 80, 112, 124, 128, 132, 136, 252, 256, 260, 384]) {
      const input = sodium.randombytes_buf(len);
      const lastBlock = Math.max(0, Math.ceil(len / 128) - 1) * 128;
      for (const off of new Set([len - 4, lastBlock, lastBlock + 4 * (((len - lastBlock) >> 3)), lastBlock + 8].filter((o) => o + 4 <= len))) {
        h.setInput(input, off);
        for (const [start, count] of [[0, 1], [0x7ffffffe, 5], [0xfffffff0, 3], [1000, 64]] as const) {
          const out = h.hash(start, count);
          assert.is(out.length, 8 * count);
          for (let i = 0; i < count; i++) {
            const msg = input.slice();
            new DataView(msg.buffer).setUint32(off, (start + i) >>> 0, true);
            const got = toHex(new Uint8Array(out.slice(8 * i, 8 * i + 8).buffer));
            assert.is(got, ref(msg), `len ${len} word@${off} value ${start + i}`);
          }
        }
      }
    }
  });

  test(`batch hasher (${prefer ?? 'default'}) handles a full batch and rejects bad offsets`, () => {
    const h = createBatchHasher(prefer);
    const input = sodium.randombytes_buf(112);
    h.setInput(input, 108);
    const out = h.hash(5, BATCH).slice();
    for (const i of [0, 1, 2, BATCH - 2, BATCH - 1]) {
      const msg = input.slice();
      new DataView(msg.buffer).setUint32(108, 5 + i, true);
      assert.is(toHex(new Uint8Array(out.slice(8 * i, 8 * i + 8).buffer)), ref(msg));
    }
    assert.throws(() => h.hash(0, BATCH + 1), RangeError);
    assert.throws(() => h.setInput(input, 110), RangeError); // not 4-aligned
    assert.throws(() => h.setInput(input, 112), RangeError); // past the end
    assert.throws(() => h.setInput(sodium.randombytes_buf(200), 100), RangeError); // not in the last block
  });
}

test.run();
