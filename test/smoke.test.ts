import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { concat, u16be, readU16be, constantTimeEqual, xor } from '../shared/bytes.js';
import { FAIL, REQUEST_SIZE, CHALLENGE_SIZE, RULE_SIZE, SEAL_OVERHEAD, RULE_PLAIN_SIZE } from '../shared/constants.js';

test('sizes follow from each other', () => {
  assert.is(REQUEST_SIZE, 65);
  assert.is(CHALLENGE_SIZE, 42);
  assert.is(RULE_PLAIN_SIZE + SEAL_OVERHEAD, RULE_SIZE);
  assert.equal(Buffer.from(FAIL).toString('latin1'), '\x00\x04fail');
});

test('byte helpers', () => {
  assert.equal(concat(Uint8Array.of(1), Uint8Array.of(2, 3)), Uint8Array.of(1, 2, 3));
  assert.is(readU16be(u16be(0xbeef)), 0xbeef);
  assert.throws(() => u16be(0x10000));
  assert.ok(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2)));
  assert.not.ok(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3)));
  assert.not.ok(constantTimeEqual(Uint8Array.of(1), Uint8Array.of(1, 3)));
  assert.equal(xor(Uint8Array.of(0xff, 0), Uint8Array.of(0x0f, 1)), Uint8Array.of(0xf0, 1));
});

test.run();
