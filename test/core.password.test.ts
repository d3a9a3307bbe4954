import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadVectors, hex, toHex } from './helpers/vectors.js';
import { derive, encode, maxSize, maxTargetLength, alphabet, parseClasses, parseSymbols } from '../shared/password.js';
import { UsageError } from '../shared/errors.js';
import { SYMBOLS, UPPER, LOWER, DIGITS } from '../shared/constants.js';
import { sodium } from '../oracle/crypto.js';

const B = loadVectors('bin2pass');

function throwsUsage(fn: () => unknown, what?: string): Error {
  try {
    fn();
  } catch (e) {
    assert.instance(e, UsageError, what);
    return e as Error;
  }
  assert.unreachable(what ?? 'expected a UsageError');
  throw new Error('unreachable');
}

const sortChars = (s: string): string => [...s].sort().join('');
const CLASS_CHARS: Record<string, string> = { u: UPPER, l: LOWER, d: DIGITS, s: SYMBOLS };

test('symbols and alphabets in canonical order', () => {
  assert.is(SYMBOLS, B.symbols);
  for (const [key, chars] of Object.entries(B.charsets_in_order) as [string, string][]) {
    const [rule, syms] = key.split('|');
    assert.is(alphabet(rule!, syms === 'all' ? SYMBOLS : ''), chars, key);
  }
  assert.is(alphabet('dlu', '~! '), UPPER + LOWER + DIGITS + ' !~');
  assert.is(parseClasses('ddlu'), 'uld');
  assert.is(parseSymbols('~~ '), ' ~');
  throwsUsage(() => parseClasses('uldx'));
  throwsUsage(() => parseSymbols('!a'));
});

test(`derive[]: all ${B.derive.length} reference cases`, () => {
  assert.is(B.derive.length, 83);
  for (const d of B.derive) {
    const pw = derive(hex(d.rwd), d.rule, d.size, d.symbols);
    assert.is(pw, d.password, d.label);
    assert.is(pw.length, d.password_len, d.label);
  }
});

test('maxSize: the length derive gives 2^256 - 1 at size 0; the reference cases beyond it only add padding', () => {
  const ones = new Uint8Array(32).fill(0xff);
  for (const [classes, symbols, max] of [['uld', SYMBOLS, 39], ['uld', '', 43], ['d', '', 78], ['l', '', 55], ['', '!-', 256], ['', '!#$%&()*+,-./:;<', 64]] as const) {
    assert.is(maxSize(classes, symbols), max, `${classes} ${symbols}`);
    assert.is(derive(ones, classes, 0, symbols).length, max, `${classes} ${symbols}: all 256 bits fill exactly max characters`);
  }
  let beyond = 0;
  for (const d of B.derive) {
    if (alphabet(d.rule, d.symbols).length < 2) continue;
    const max = maxSize(d.rule, d.symbols);
    if (d.size <= max) continue;
    beyond++;
    const pad = alphabet(d.rule, d.symbols)[0]!;
    assert.is(d.password.slice(0, d.size - max), pad.repeat(d.size - max), `${d.label}: beyond ${max} only '${pad}' padding`);
  }
  assert.ok(beyond > 5, 'the reference vectors have oversized cases');
});

test('derive: single-character alphabet with size 0 is refused (the reference never terminates)', () => {
  throwsUsage(() => derive(sodium.randombytes_buf(32), '', 0, ' '));
  throwsUsage(() => derive(new Uint8Array(32), '', 0, '~'));
  assert.is(derive(sodium.randombytes_buf(32), '', 3, '~'), '~~~');
  throwsUsage(() => derive(new Uint8Array(32), '', 5, ''), 'empty alphabet');
  throwsUsage(() => derive(new Uint8Array(32), 'u', -1, ''));
  throwsUsage(() => derive(new Uint8Array(32), 'u', 2.5, ''));
});

for (const r of B.pass2bin_roundtrip) {
  test(`pass2bin_roundtrip ${JSON.stringify(r.target)}`, () => {
    // The reference's output decodes with our derive.
    assert.is(derive(hex(r.example_rwd), r.classes_sorted, r.target.length, r.symbols), r.target);
    assert.is(alphabet(r.classes_sorted, r.symbols), r.charset);
    // Our encode picks the same alphabet and round-trips.
    const e = encode(r.target);
    assert.is(sortChars(e.classes), sortChars(r.classes_sorted));
    assert.is(e.symbols, r.symbols);
    assert.is(e.size, r.target.length);
    assert.is(alphabet(e.classes, e.symbols).length, r.charset_size);
    assert.is(maxTargetLength(e.classes, e.symbols), r.logbase);
    assert.is(e.raw.length, 32);
    assert.is(derive(e.raw, e.classes, e.size, e.symbols), r.target);
  });
}

/** A random target of `len` characters over the alphabet `key` that uses every class of `key`. */
function randomTarget(key: string, len: number): string {
  const chars = [...key].map((c) => CLASS_CHARS[c]!).join('');
  const out = [...key].map((c) => CLASS_CHARS[c]![sodium.randombytes_uniform(CLASS_CHARS[c]!.length)]!);
  while (out.length < len) out.push(chars[sodium.randombytes_uniform(chars.length)]!);
  for (let i = out.length - 1; i > 0; i--) {
    const j = sodium.randombytes_uniform(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out.join('');
}

for (const lim of B.pass2bin_length_limits) {
  test(`length limit ${lim.classes}: ${lim.max_len_always_fits_256_bits}`, () => {
    const key: string = lim.classes;
    const classes = key.replace('s', '');
    const symbols = key.includes('s') ? SYMBOLS : '';
    const L: number = lim.max_len_always_fits_256_bits;
    assert.is(lim.logbase_int_log, L);
    assert.is(alphabet(classes, symbols).length, lim.charset_size);
    assert.is(maxTargetLength(classes, symbols), L);
    // b^L <= 2^256 < b^(L+1)
    const b = BigInt(lim.charset_size);
    assert.ok(b ** BigInt(L) <= 1n << 256n && b ** BigInt(L + 1) > 1n << 256n);
    // Property: random targets at exactly L always round-trip.
    for (let i = 0; i < 60; i++) {
      const t = randomTarget(key, L);
      const e = encode(t);
      assert.is(e.classes, classes);
      assert.is(e.symbols, symbols);
      assert.is(derive(e.raw, e.classes, e.size, e.symbols), t);
    }
    // The largest value, b^L - 1 (the last character L times), still fits; only
    // expressible for a one-class alphabet, since encode picks the classes that occur.
    const top = alphabet(classes, symbols);
    if (key.length === 1) {
      const maxT = top[top.length - 1]!.repeat(L);
      assert.is(derive(encode(maxT).raw, classes, L, symbols), maxT);
      assert.is(derive(encode(top[0]!.repeat(L)).raw, classes, L, symbols), top[0]!.repeat(L));
    }
    // At L+1 we always refuse, with a clear message.
    for (let i = 0; i < 5; i++) {
      const err = throwsUsage(() => encode(randomTarget(key, L + 1)));
      assert.match(err.message, /too long/);
      assert.match(err.message, String(L));
    }
  });
}

test('encode: padding digits are random and the value stays below b^L', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const e = encode('asdf');
    seen.add(toHex(e.raw));
    let v = 0n;
    for (const x of e.raw) v = (v << 8n) | BigInt(x);
    assert.ok(v < 26n ** 54n);
    assert.is(v % 26n ** 4n, ((0n * 26n + 18n) * 26n + 3n) * 26n + 5n); // a s d f
  }
  assert.ok(seen.size > 15, 'padding is random');
});

test('encode refuses empty, non-ASCII and control characters', () => {
  throwsUsage(() => encode(''));
  throwsUsage(() => encode('pässword'));
  throwsUsage(() => encode('tab\there'));
  throwsUsage(() => encode('new\nline'));
  throwsUsage(() => encode('🔑'));
  throwsUsage(() => maxTargetLength('', '!'));
});

test.run();
