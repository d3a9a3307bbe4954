import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadVectors, hex, toHex } from './helpers/vectors.js';
import { encodeUsers, decodeUsers, userNames, compareCodePoints, MAX_USERLIST_PLAINTEXT } from '../shared/userlist.js';
import { ProtocolError, UsageError } from '../shared/errors.js';
import { utf8 } from '../shared/bytes.js';
import { sealKey, seal, open } from '../client/crypto.js';
import { sodium } from '../oracle/crypto.js';

const C = loadVectors('client');
const sk = sealKey(hex(C.masterkey));

function throwsType(fn: () => unknown, type: typeof ProtocolError | typeof UsageError): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, type);
    return;
  }
  assert.unreachable('expected an error');
}

for (const [i, u] of C.user_list_blobs.entries()) {
  test(`user_list_blobs[${i}]: ${JSON.stringify(u.users_sorted)}`, () => {
    const pt = encodeUsers(u.users_sorted);
    assert.is(toHex(pt), u.plaintext);
    assert.is(toHex(encodeUsers([...u.users_sorted].reverse())), u.plaintext, 'order of input does not matter');
    const blob = seal(sk, pt, hex(u.nonce));
    assert.is(toHex(blob), u.blob);
    assert.equal(decodeUsers(open(sk, hex(u.blob))), u.decrypted_users);
  });
}

test('the empty list decodes like the reference ([""]) and userNames drops the empty name', () => {
  assert.equal(decodeUsers(new Uint8Array(0)), ['']);
  assert.equal(userNames(new Uint8Array(0)), []);
  assert.equal(userNames(utf8('\0bob\0alice\0bob')), ['alice', 'bob']);
});

test('sorting is by code point (Python order), not by UTF-16 code unit', () => {
  // U+FF21 sorts before U+1F511 by code point, after it by UTF-16 units (0xD83D < 0xFF21).
  const users = ['\u{1F511}', '\uFF21', 'b', 'B', 'é', 'a'];
  const want = ['B', 'a', 'b', 'é', '\uFF21', '\u{1F511}'];
  assert.equal(decodeUsers(encodeUsers(users)), want);
  assert.equal([...users].sort(), ['B', 'a', 'b', 'é', '\u{1F511}', '\uFF21'], 'the JS default sort differs');
  assert.ok(compareCodePoints('\uFF21', '\u{1F511}') < 0);
  assert.is(compareCodePoints('x', 'x'), 0);
});

test('duplicates collapse, NUL and lone surrogates are refused, size is bounded', () => {
  assert.equal(decodeUsers(encodeUsers(['bob', 'alice', 'bob'])), ['alice', 'bob']);
  throwsType(() => encodeUsers(['a\0b']), UsageError);
  throwsType(() => encodeUsers(['\ud800x']), UsageError);
  throwsType(() => encodeUsers(['x\udc00']), UsageError);
  const ok = encodeUsers(['x'.repeat(MAX_USERLIST_PLAINTEXT)]);
  assert.ok(seal(sk, ok).length < 65536);
  throwsType(() => encodeUsers(['x'.repeat(MAX_USERLIST_PLAINTEXT + 1)]), UsageError);
  throwsType(() => encodeUsers(['x'.repeat(40000), 'y'.repeat(40000)]), UsageError);
});

test('decodeUsers refuses invalid UTF-8 with a ProtocolError', () => {
  throwsType(() => decodeUsers(Uint8Array.of(0x61, 0xff, 0x62)), ProtocolError);
  throwsType(() => decodeUsers(Uint8Array.of(0xed, 0xa0, 0x80)), ProtocolError);
});

test('property: encode/decode round trip of random Unicode names', () => {
  for (let i = 0; i < 100; i++) {
    const names = Array.from({ length: 1 + (i % 7) }, () =>
      String.fromCodePoint(...Array.from({ length: 1 + Math.floor(Math.random() * 6) }, () => {
        const r = Math.random();
        return r < 0.5 ? 0x20 + Math.floor(Math.random() * 95) : r < 0.8 ? 0xa0 + Math.floor(Math.random() * 0xd700) : 0x10000 + Math.floor(Math.random() * 0xfffff);
      })),
    );
    const out = decodeUsers(encodeUsers(names));
    const want = [...new Set(names)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.equal(out, want);
    for (let j = 1; j < out.length; j++) {
      const a = [...out[j - 1]!].map((c) => c.codePointAt(0)!);
      const b = [...out[j]!].map((c) => c.codePointAt(0)!);
      let k = 0;
      while (k < a.length && k < b.length && a[k] === b[k]) k++;
      assert.ok(k === a.length || (k < b.length && a[k]! < b[k]!), 'code point order');
    }
  }
});

test.run();
