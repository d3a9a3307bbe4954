// bin2pass (protocol.md §3): turning 32 bytes into a password under a rule
// (derive) and a chosen password into 32 bytes (encode), byte-compatible with
// pwdsphinx 1.0.16 bin2pass.derive / pass2bin.
import { randomInt } from 'node:crypto';
import { DIGITS, LOWER, SYMBOLS, UPPER } from './constants.js';
import { UsageError } from './errors.js';

const CLASS_CHARS: Readonly<Record<string, string>> = { u: UPPER, l: LOWER, d: DIGITS };
const TWO_256 = 1n << 256n;

/** Canonical "uld"-order subset of a class string; UsageError for anything but u, l, d. */
export function parseClasses(classes: string): string {
  if (typeof classes !== 'string') throw new UsageError('character classes must be a string');
  for (const c of classes) if (!(c in CLASS_CHARS)) throw new UsageError(`unknown character class '${c}' (only u, l, d)`);
  return [...'uld'].filter((c) => classes.includes(c)).join('');
}

/** Canonical SYMBOLS-order subset of a symbol string; UsageError for anything else. */
export function parseSymbols(symbols: string): string {
  if (typeof symbols !== 'string') throw new UsageError('symbols must be a string');
  for (const c of symbols) if (!SYMBOLS.includes(c)) throw new UsageError(`'${c}' is not one of the allowed symbols '${SYMBOLS}'`);
  return [...SYMBOLS].filter((c) => symbols.includes(c)).join('');
}

/** The derive alphabet: A-Z if u, a-z if l, 0-9 if d, then the symbols, in canonical order. */
export function alphabet(classes: string, symbols: string): string {
  const cls = parseClasses(classes);
  return [...cls].map((c) => CLASS_CHARS[c]).join('') + parseSymbols(symbols);
}

// Byte loops rather than hex strings: raw is secret-derived and strings cannot be wiped.
function toBigInt(raw: Uint8Array): bigint {
  let v = 0n;
  for (let i = 0; i < raw.length; i++) v = (v << 8n) | BigInt(raw[i]!);
  return v;
}

function toBytes32(v: bigint): Uint8Array {
  if (v < 0n || v >= TWO_256) throw new RangeError('value does not fit in 32 bytes');
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * raw read as a big-endian integer, written in base |alphabet|, most
 * significant digit first: with size > 0 exactly `size` digits (the low ones;
 * left-padded with alphabet[0]), with size 0 until the value is exhausted.
 */
export function derive(raw: Uint8Array, classes: string, size: number, symbols: string): string {
  if (!(raw instanceof Uint8Array)) throw new UsageError('derive: raw must be bytes');
  if (!Number.isSafeInteger(size) || size < 0) throw new UsageError(`invalid password size: ${size}`);
  const chars = alphabet(classes, symbols);
  const b = BigInt(chars.length);
  if (chars.length === 0) throw new UsageError('empty alphabet: no character classes and no symbols');
  if (chars.length === 1 && size === 0) {
    // The reference loops forever here (v div 1 never shrinks).
    throw new UsageError('a single-character alphabet needs a fixed password size');
  }
  let v = toBigInt(raw);
  const out: string[] = [];
  while ((size > 0 && out.length < size) || (size === 0 && v > 0n)) {
    out.push(chars[Number(v % b)]!);
    v /= b;
  }
  return out.reverse().join('');
}

/** Largest L with |alphabet|^L <= 2^256: the longest target that always fits in 32 bytes. */
export function maxTargetLength(classes: string, symbols: string): number {
  const b = BigInt(alphabet(classes, symbols).length);
  if (b < 2n) throw new UsageError('alphabet too small for a target password');
  let L = 0;
  let p = 1n;
  while (p * b <= TWO_256) {
    p *= b;
    L++;
  }
  return L;
}

/**
 * The longest password `derive` can give from 32 bytes with this alphabet:
 * the number of base-|alphabet| digits of 2^256 - 1. A larger size adds only
 * padding (the alphabet's first character) on the left.
 */
export function maxSize(classes: string, symbols: string): number {
  const b = BigInt(alphabet(classes, symbols).length);
  if (b < 2n) throw new UsageError('alphabet too small for a generated password');
  let L = 0;
  for (let p = 1n; p < TWO_256; p *= b) L++;
  return L;
}

/** Classes and symbols encode() picks for a target: the classes that occur, and all symbols if any occurs. */
export function targetAlphabet(target: string): { classes: string; symbols: string } {
  let classes = '';
  for (const c of 'uld') if ([...target].some((ch) => CLASS_CHARS[c]!.includes(ch))) classes += c;
  const symbols = [...target].some((ch) => SYMBOLS.includes(ch)) ? SYMBOLS : '';
  return { classes, symbols };
}

/**
 * pass2bin: 32 bytes that `derive(raw, classes, target.length, symbols)`
 * turns back into `target`. Digits above the target's length are random.
 * UsageError for an empty target, a character outside A-Z a-z 0-9 and the
 * symbols, or a target longer than its alphabet's maxTargetLength (the
 * reference fails only sometimes there; we always refuse).
 */
export function encode(target: string): { raw: Uint8Array; classes: string; symbols: string; size: number } {
  if (typeof target !== 'string' || target.length === 0) throw new UsageError('target password must not be empty');
  const chars = [...target];
  for (const ch of chars) {
    if (!(UPPER.includes(ch) || LOWER.includes(ch) || DIGITS.includes(ch) || SYMBOLS.includes(ch))) {
      throw new UsageError('target password can only contain A-Z, a-z, 0-9 and the symbols ' + SYMBOLS);
    }
  }
  const { classes, symbols } = targetAlphabet(target);
  const alpha = alphabet(classes, symbols);
  const b = BigInt(alpha.length);
  const limit = maxTargetLength(classes, symbols);
  if (chars.length > limit) {
    throw new UsageError(
      `target password too long: ${chars.length} characters, at most ${limit} with this character set (${alpha.length} characters)`,
    );
  }
  let v = 0n;
  for (const ch of chars) v = v * b + BigInt(alpha.indexOf(ch));
  // Random padding digits at positions len .. limit-1 (above the target's digits).
  let scale = b ** BigInt(chars.length);
  for (let i = chars.length; i < limit; i++) {
    v += BigInt(randomInt(alpha.length)) * scale; // CSPRNG, uniform (as randombytes_uniform)
    scale *= b;
  }
  // v < b^limit <= 2^256 by construction.
  return { raw: toBytes32(v), classes, symbols, size: chars.length };
}
