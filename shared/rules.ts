// Password rules: packed into 38 bytes (protocol.md §3), byte-compatible with
// pwdsphinx 1.0.16 pack_rule / unpack_rule. Pure, and free of libsodium so
// that `sphinx get` can parse a rule without loading it; sealing the 38 bytes
// to the 79 the oracle stores is keys.ts's packRule / unpackRule.
//
// Packed integer v (48 bits, stored as 6 bytes big-endian before the xormask):
//   bits 0..6 size | bits 7..9 u,l,d | bits 10..42 symbols (SYMBOLS order) | bits 43..47 check digit
import { RULE_PLAIN_SIZE, SYMBOLS, XORMASK_SIZE } from './constants.js';
import { ProtocolError, UsageError } from './errors.js';

export interface Rule {
  /** subset of "uld", canonical order (packRule accepts any order). */
  classes: string;
  /** subset of SYMBOLS, canonical order (packRule accepts any order). */
  symbols: string;
  /** 0..127; 0 = as long as the entropy gives. */
  size: number;
  /** 5-bit check digit (packRule keeps the low 5 bits, as the reference does). */
  checkDigit: number;
  /** 32 bytes. */
  xormask: Uint8Array;
}

export const CLASS_ORDER = 'uld';
export const MAX_RULE_SIZE = 127;

const SIZE_BITS = 7n;
const CLASS_SHIFT = 7n;
const SYM_SHIFT = 10n;
const CHECK_SHIFT = 43n;

/**
 * Checks a rule the way pack_rule does, plus one stricter check: a rule with
 * no classes needs at least two distinct symbols even when a xormask is given
 * (the reference checks that only without a xormask; a one-character
 * alphabet gives a constant password, or never terminates with size 0).
 */
export function validateRule(rule: Pick<Rule, 'classes' | 'symbols' | 'size'> & { xormask?: Uint8Array }): void {
  const { classes, symbols, size } = rule;
  if (typeof classes !== 'string' || [...classes].some((c) => !CLASS_ORDER.includes(c))) {
    throw new UsageError("rules can only contain any of 'uld'.");
  }
  if (typeof symbols !== 'string' || [...symbols].some((c) => !SYMBOLS.includes(c))) {
    throw new UsageError(`symbols can only contain any of '${SYMBOLS}'.`);
  }
  if (classes === '' && new Set(symbols).size < 2) {
    throw new UsageError('no char classes and not enough symbols specified.');
  }
  if (rule.xormask !== undefined && (!(rule.xormask instanceof Uint8Array) || rule.xormask.length !== XORMASK_SIZE)) {
    throw new UsageError(`xor_mask must be ${XORMASK_SIZE} bytes, is instead: ${rule.xormask?.length}.`);
  }
  if (!Number.isInteger(size) || size < 0 || size > MAX_RULE_SIZE) {
    throw new UsageError(`invalid max password size: ${size}.`);
  }
}

/** The 38-byte plaintext: 6-byte big-endian packed integer | xormask. */
export function packRulePlaintext(rule: Rule): Uint8Array {
  validateRule(rule);
  if (!Number.isSafeInteger(rule.checkDigit)) throw new UsageError(`invalid check digit: ${rule.checkDigit}.`);
  let v = BigInt(rule.size);
  [...CLASS_ORDER].forEach((c, i) => {
    if (rule.classes.includes(c)) v |= 1n << (CLASS_SHIFT + BigInt(i));
  });
  [...SYMBOLS].forEach((c, i) => {
    if (rule.symbols.includes(c)) v |= 1n << (SYM_SHIFT + BigInt(i));
  });
  v |= BigInt(rule.checkDigit & 0x1f) << CHECK_SHIFT;
  const pt = new Uint8Array(RULE_PLAIN_SIZE);
  for (let i = 5; i >= 0; i--) {
    pt[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  pt.set(rule.xormask, 6);
  return pt;
}

/** Parses the 38-byte plaintext. */
export function unpackRulePlaintext(pt: Uint8Array): Rule {
  if (pt.length !== RULE_PLAIN_SIZE) throw new ProtocolError('rule plaintext has the wrong size');
  let v = 0n;
  for (let i = 0; i < 6; i++) v = (v << 8n) | BigInt(pt[i]!);
  const bit = (n: bigint): boolean => ((v >> n) & 1n) === 1n;
  return {
    size: Number(v & ((1n << SIZE_BITS) - 1n)),
    classes: [...CLASS_ORDER].filter((_, i) => bit(CLASS_SHIFT + BigInt(i))).join(''),
    symbols: [...SYMBOLS].filter((_, i) => bit(SYM_SHIFT + BigInt(i))).join(''),
    checkDigit: Number(v >> CHECK_SHIFT),
    xormask: pt.slice(6),
  };
}
