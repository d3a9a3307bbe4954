import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadVectors, hex, toHex } from './helpers/vectors.js';
import { packRulePlaintext, type Rule } from '../shared/rules.js';
import { derive, encode } from '../shared/password.js';
import { xor } from '../shared/bytes.js';
import { ProtocolError, UsageError } from '../shared/errors.js';
import { SYMBOLS, RULE_SIZE } from '../shared/constants.js';
import { sealKey, seal, checkDigit, passHash, packRule, unpackRule } from '../client/crypto.js';
import { sodium } from '../oracle/crypto.js';

const C = loadVectors('client');
const sk = sealKey(hex(C.masterkey));

function throwsType(fn: () => unknown, type: typeof ProtocolError | typeof UsageError, what?: string): Error {
  try {
    fn();
  } catch (e) {
    assert.instance(e, type, what);
    return e as Error;
  }
  assert.unreachable(what ?? 'expected an error');
  throw new Error('unreachable');
}

const toRule = (r: { char_classes: string; symbols: string; size: number; check_digit_in: number; xor_mask: string }): Rule => ({
  classes: r.char_classes,
  symbols: r.symbols,
  size: r.size,
  checkDigit: r.check_digit_in,
  xormask: hex(r.xor_mask),
});

for (const r of C.rules) {
  test(`rules: ${JSON.stringify([r.char_classes, r.symbols, r.size, r.check_digit_in])}`, () => {
    const pt = packRulePlaintext(toRule(r));
    assert.is(toHex(pt), r.plaintext);
    assert.is(pt.length, r.plaintext_len);
    let v = 0n;
    for (const b of pt.subarray(0, 6)) v = (v << 8n) | BigInt(b);
    assert.is(v, BigInt(r.packed_int));
    const blob = packRule(sk, toRule(r), hex(r.nonce));
    assert.is(blob.length, RULE_SIZE);
    assert.is(toHex(blob), r.blob);
    const u = unpackRule(sk, blob);
    assert.equal(
      { classes: u.classes, symbols: u.symbols, size: u.size, check_digit: u.checkDigit, xor_mask: toHex(u.xormask) },
      r.unpacked,
    );
    assert.is(u.checkDigit, r.check_digit_stored);
  });
}

test('rules_errors[]: the inputs the reference rejects are UsageErrors', () => {
  for (const e of C.rules_errors) {
    const rule: Rule = {
      classes: e.char_classes,
      symbols: e.symbols,
      size: e.size,
      checkDigit: 0,
      // The reference rejected its null-xormask case; we reject that rule whatever the xormask.
      xormask: e.xor_mask === null ? new Uint8Array(32) : hex(e.xor_mask),
    };
    const err = throwsType(() => packRule(sk, rule), UsageError, e.result);
    // Same reason as the reference (its message minus the "ValueError: ERROR: " prefix and the byte count).
    const ref = (e.result as string).replace(/^ValueError: ERROR: /, '');
    assert.ok(err.message.startsWith(ref.slice(0, 12)), `${err.message} vs ${ref}`);
  }
  // Also rejected with a random xormask (the reference would accept it and derive a constant or never-ending password).
  throwsType(() => packRule(sk, { classes: '', symbols: '!', size: 10, checkDigit: 0, xormask: sodium.randombytes_buf(32) }), UsageError);
  throwsType(() => packRule(sk, { classes: '', symbols: '!!', size: 10, checkDigit: 0, xormask: sodium.randombytes_buf(32) }), UsageError);
  throwsType(() => packRule(sk, { classes: '', symbols: '', size: 10, checkDigit: 0, xormask: sodium.randombytes_buf(32) }), UsageError);
  throwsType(() => packRule(sk, { classes: 'u', symbols: '', size: 1.5, checkDigit: 0, xormask: sodium.randombytes_buf(32) }), UsageError);
  throwsType(() => packRule(sk, { classes: 'u', symbols: '', size: 1, checkDigit: 0, xormask: sodium.randombytes_buf(33) }), UsageError);
  // Non-canonical orders are accepted (the reference tests membership only).
  const a = packRulePlaintext({ classes: 'dlu', symbols: '~ !', size: 5, checkDigit: 3, xormask: new Uint8Array(32) });
  const b = packRulePlaintext({ classes: 'uld', symbols: ' !~', size: 5, checkDigit: 3, xormask: new Uint8Array(32) });
  assert.is(toHex(a), toHex(b));
});

test('unpackRule rejects a blob sealed under another key, tampering and wrong sizes', () => {
  const rule: Rule = { classes: 'ul', symbols: '#', size: 20, checkDigit: 7, xormask: sodium.randombytes_buf(32) };
  const other = sealKey(sodium.randombytes_buf(32));
  throwsType(() => unpackRule(sk, packRule(other, rule)), ProtocolError);
  const blob = packRule(sk, rule);
  for (let i = 0; i < blob.length; i++) {
    const b = Uint8Array.from(blob);
    b[i]! ^= 0x40;
    throwsType(() => unpackRule(sk, b), ProtocolError, `flip ${i}`);
  }
  throwsType(() => unpackRule(sk, blob.subarray(0, 78)), ProtocolError);
  throwsType(() => unpackRule(sk, seal(sk, new Uint8Array(39))), ProtocolError); // 80 bytes
  throwsType(() => unpackRule(sk, seal(sk, new Uint8Array(37))), ProtocolError); // 78 bytes
});

test('property: pack/unpack round trip over random rules', () => {
  for (let i = 0; i < 300; i++) {
    const classes = [...'uld'].filter(() => sodium.randombytes_uniform(2) === 1).join('');
    let symbols = [...SYMBOLS].filter(() => sodium.randombytes_uniform(3) === 0).join('');
    if (classes === '' && symbols.length < 2) symbols = SYMBOLS;
    const rule: Rule = {
      classes,
      symbols,
      size: sodium.randombytes_uniform(128),
      checkDigit: sodium.randombytes_uniform(32),
      xormask: sodium.randombytes_buf(32),
    };
    const u = unpackRule(sk, packRule(sk, rule));
    assert.equal({ ...u, xormask: toHex(u.xormask) }, { ...rule, xormask: toHex(rule.xormask) });
  }
});

for (const [i, f] of C.final_password.entries()) {
  test(`final_password[${i}]: unpack, check digit, derive`, () => {
    const rwd = hex(f.rwd);
    const rule = unpackRule(sk, hex(f.rule_blob));
    assert.is(rule.checkDigit, f.rule_check_digit);
    const matches = rule.checkDigit === checkDigit(rwd, true);
    assert.is(matches, f.check_digit_matches);
    if (!matches) {
      assert.is(f.password, null); // get() stops with "bad checkdigit"
      return;
    }
    assert.is(rule.classes, [...'uld'].filter((c) => f.char_classes.includes(c)).join(''));
    assert.is(rule.symbols, [...SYMBOLS].filter((c) => f.symbols.includes(c)).join(''));
    assert.is(rule.size, f.size);
    assert.is(toHex(rule.xormask), f.xor_mask);
    assert.is(derive(xor(passHash(rwd), rule.xormask), rule.classes, rule.size, rule.symbols), f.password);
  });
}

for (const t of C.target_password) {
  test(`target_password ${JSON.stringify(t.target)}: the reference blob, and our own encode`, () => {
    const rwd = hex(t.rwd);
    const rule = unpackRule(sk, hex(t.rule_blob));
    assert.is(rule.size, t.target.length);
    assert.is(derive(xor(passHash(rwd), rule.xormask), rule.classes, rule.size, rule.symbols), t.password);
    assert.is(t.password, t.target);
    // What create does with a target: xormask = passHash(rwd) XOR encode(target).
    const e = encode(t.target);
    assert.is(e.classes, rule.classes);
    assert.is(e.symbols, rule.symbols);
    const ours: Rule = { classes: e.classes, symbols: e.symbols, size: e.size, checkDigit: checkDigit(rwd, true), xormask: xor(passHash(rwd), e.raw) };
    const back = unpackRule(sk, packRule(sk, ours));
    assert.is(back.checkDigit, rule.checkDigit);
    assert.is(derive(xor(passHash(rwd), back.xormask), back.classes, back.size, back.symbols), t.target);
  });
}

test.run();
