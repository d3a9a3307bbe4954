// BLAKE2b for Equihash against libsodium's crypto_generichash: @noble/hashes'
// (the verifier's) on many lengths and output sizes, and
// the solver core's WebAssembly SIMD hash on Equihash inputs whose index word
// sits at every kind of position.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blake2b as nobleBlake2b } from '@noble/hashes/blake2.js';
import { coreLeafHashes, hashInput } from '../shared/equihash.js';
import { toHex } from './helpers/vectors.js';
import { sodium } from '../oracle/crypto.js';

const blake2b = (msg: Uint8Array, outlen: number): Uint8Array => nobleBlake2b(msg, { dkLen: outlen });
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


// The solver core's BLAKE2b (WebAssembly SIMD, two leaves per call of its
// compression) through coreLeafHashes: Equihash hash inputs of seeds of many
// lengths (so the index word sits at every kind of position, with 0, 1 or 2
// leading blocks), index words at both lanes, odd and even starts and counts.
test('solver core BLAKE2b matches crypto_generichash on Equihash hash inputs', () => {
  for (const len of [0, 1, 3, 4, 33, 64, 75, 107, 112, 115, 116, 119, 120, 121, 124, 128, 131, 200, 247, 248, 252, 300]) {
    const seed = sodium.randombytes_buf(len);
    for (const [nonce, start, count] of [[0, 0, 1], [7, 1, 5], [0xffffffff, 0x7ffffffe, 4], [123456, 0xfffffff0, 3], [1, 1000, 64]] as const) {
      const out = coreLeafHashes(seed, nonce, start, count);
      assert.is(out.length, 32 * count);
      const { input, indexOffset } = hashInput(seed, nonce);
      for (let i = 0; i < count; i++) {
        new DataView(input.buffer).setUint32(indexOffset, (start + i) >>> 0, true);
        assert.is(toHex(out.subarray(32 * i, 32 * i + 32)), ref(input), `seed ${len}B nonce ${nonce} index ${start + i}`);
      }
    }
  }
});

test('solver core BLAKE2b on a whole level-0 nonce (8192 leaves) agrees with the plain-JS hash', () => {
  const seed = sodium.randombytes_buf(107);
  const out = coreLeafHashes(seed, 42, 0, 8192);
  const { input, indexOffset } = hashInput(seed, 42);
  for (const i of [0, 1, 2, 3, 4095, 4096, 8190, 8191]) {
    new DataView(input.buffer).setUint32(indexOffset, i, true);
    assert.is(toHex(out.subarray(32 * i, 32 * i + 32)), toHex(blake2b(input, 32)), `index ${i}`);
  }
});

test.run();
