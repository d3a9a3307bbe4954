// Converters (the pwdsphinx 2.x user-name prefixes): a record whose user name
// starts with otp://, ssh-ed25519://, age:// or minisig:// gives a TOTP code
// or a key instead of a password. The record's user name is the full string
// (the prefix is part of the record id). Pure functions, no I/O: main.ts
// picks the converter and prints what these return. README, "Keys and codes
// from SPHINX", writes the derivation down; test/vectors/converters.json
// holds known answers checked against the real tools.
//
// otp://NAME      the record stores the base32 TOTP secret as its (target)
//                 password, as the 1.0.x contrib/sphinx-x11 `otp` verb does;
//                 the code is RFC 6238 (HMAC-SHA1, 6 digits, 30 s steps).
// KEY://NAME      seed = BLAKE2b-256(msg = "sphinx-ts KEY v1", key = the
//                 record's secret: the 32 bytes the site password is derived
//                 from, client/crypto.ts recordSecret); the key pair comes
//                 from the seed (Ed25519 for ssh-ed25519 and minisig, X25519
//                 for age).
//
// Primitives: HMAC-SHA1 from @noble/hashes, Ed25519/X25519 from
// @noble/curves, BLAKE2b through client/crypto.ts hash; base32, base64 and
// bech32 from @scure/base. Only the file formats (length-prefixed fields) are
// written here.
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { base32nopad, base64, bech32 } from '@scure/base';
import { concat, toHex, utf8, wipe } from '../shared/bytes.js';
import { hash } from './crypto.js';
import { ClientError } from './errors.js';

export const KEY_KINDS = ['ssh-ed25519', 'age', 'minisig'] as const;
export type KeyKind = (typeof KEY_KINDS)[number];
export type ConverterKind = 'otp' | KeyKind;

export interface Converter {
  kind: ConverterKind;
  /** the user name after the prefix */
  name: string;
}

/** The converter a user name asks for, or null for a plain password record. */
export function converterOf(user: string): Converter | null {
  const m = /^(otp|ssh-ed25519|age|minisig):\/\/(.*)$/s.exec(user);
  return m ? { kind: m[1] as ConverterKind, name: m[2]! } : null;
}

// ------------------------------------------------------------------ otp://

export const TOTP_STEP = 30;
export const TOTP_DIGITS = 6;

/** The key bytes of a base32 TOTP secret (case, spaces and '=' padding ignored); Error with a one-line reason. */
export function totpKey(secret: string): Uint8Array {
  const s = secret.replace(/[\s=]/g, '').toUpperCase();
  if (s === '' || !/^[A-Z2-7]+$/.test(s)) throw new Error('the TOTP secret is not base32 (letters A-Z and digits 2-7)');
  try {
    return base32nopad.decode(s);
  } catch {
    throw new Error('the TOTP secret is not valid base32 (its length or last character is wrong)');
  }
}

/** RFC 6238 TOTP (RFC 4226 HOTP of floor(unixSeconds / 30)): HMAC-SHA1, 6 digits. */
export function totp(secret: string, unixSeconds: number): string {
  const key = totpKey(secret);
  const counter = new Uint8Array(8);
  new DataView(counter.buffer).setBigUint64(0, BigInt(Math.floor(unixSeconds / TOTP_STEP)));
  const mac = hmac(sha1, key, counter);
  try {
    const off = mac[mac.length - 1]! & 0x0f;
    const bin = ((mac[off]! & 0x7f) << 24) | (mac[off + 1]! << 16) | (mac[off + 2]! << 8) | mac[off + 3]!;
    return String(bin % 10 ** TOTP_DIGITS).padStart(TOTP_DIGITS, '0');
  } finally {
    wipe(key, mac);
  }
}

// ------------------------------------------------------------------ keys

/** The context string of a key kind's seed derivation. */
export const keyContext = (kind: KeyKind): string => `sphinx-ts ${kind} v1`;

/** seed = BLAKE2b-256(msg = keyContext(kind), key = the record's secret). */
export function keySeed(kind: KeyKind, recordSecret: Uint8Array): Uint8Array {
  if (recordSecret.length !== 32) throw new Error('the record secret must be 32 bytes');
  return hash(keyContext(kind), recordSecret);
}

export interface KeyText {
  /** what create/change print */
  publicText: string;
  /** what get prints (a secret) */
  secretText: string;
}

/** The public and secret texts of the `kind` key of a record; `comment` is NAME@SITE. */
export function keyTexts(kind: KeyKind, recordSecret: Uint8Array, comment: string): KeyText {
  const seed = keySeed(kind, recordSecret);
  try {
    switch (kind) {
      case 'ssh-ed25519':
        return sshEd25519(seed, comment);
      case 'age':
        return ageX25519(seed);
      case 'minisig':
        return minisign(seed, comment);
    }
  } finally {
    wipe(seed);
  }
}

// SSH wire encoding (RFC 4251 §5): uint32 big-endian lengths.
function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}
const sshString = (b: Uint8Array | string): Uint8Array => {
  const bytes = typeof b === 'string' ? utf8(b) : b;
  return concat(u32(bytes.length), bytes);
};

function wrap(s: string, width: number): string {
  const lines: string[] = [];
  for (let i = 0; i < s.length; i += width) lines.push(s.slice(i, i + width));
  return lines.join('\n');
}

/**
 * OpenSSH: the public key line, and the unencrypted openssh-key-v1 private key
 * (PROTOCOL.key). The two check integers (random in ssh-keygen's output,
 * they only detect a wrong passphrase) are taken from the public key so
 * that the same record always prints the same text.
 */
function sshEd25519(seed: Uint8Array, comment: string): KeyText {
  const pk = ed25519.getPublicKey(seed);
  const pubBlob = concat(sshString('ssh-ed25519'), sshString(pk));
  const check = pk.subarray(0, 4);
  const sk = concat(seed, pk);
  const body = concat(check, check, sshString('ssh-ed25519'), sshString(pk), sshString(sk), sshString(comment));
  const pad = new Uint8Array((8 - (body.length % 8)) % 8).map((_, i) => i + 1);
  const priv = concat(body, pad);
  const file = concat(utf8('openssh-key-v1\0'), sshString('none'), sshString('none'), sshString(''), u32(1), sshString(pubBlob), sshString(priv));
  try {
    return {
      publicText: `ssh-ed25519 ${base64.encode(pubBlob)} ${comment}`,
      secretText: `-----BEGIN OPENSSH PRIVATE KEY-----\n${wrap(base64.encode(file), 70)}\n-----END OPENSSH PRIVATE KEY-----`,
    };
  } finally {
    wipe(sk, body, priv, file);
  }
}

/** age: the X25519 recipient (bech32 "age") and identity (bech32 "AGE-SECRET-KEY-", upper case). */
function ageX25519(seed: Uint8Array): KeyText {
  const pk = x25519.getPublicKey(seed);
  const words = bech32.toWords(seed);
  try {
    return {
      publicText: bech32.encode('age', bech32.toWords(pk)),
      secretText: bech32.encode('age-secret-key-', words).toUpperCase(),
    };
  } finally {
    words.fill(0);
  }
}

/**
 * minisign: the public key file and an unencrypted secret key file (kdf
 * algorithm 0x0000, as `minisign -G -W` writes). Key id = the first 8 bytes
 * of BLAKE2b(public key), so it too follows the record.
 */
function minisign(seed: Uint8Array, comment: string): KeyText {
  const pk = ed25519.getPublicKey(seed);
  const keyId = hash(pk, null, 8);
  const sk = concat(seed, pk);
  const ed = utf8('Ed');
  const chk = hash(concat(ed, keyId, sk), null, 32);
  const idHex = toHex(Uint8Array.from(keyId).reverse()).toUpperCase(); // minisign prints the little-endian number
  const secret = concat(ed, new Uint8Array(2), utf8('B2'), new Uint8Array(32 + 8 + 8), keyId, sk, chk);
  try {
    return {
      publicText: `untrusted comment: minisign public key ${idHex}\n${base64.encode(concat(ed, keyId, pk))}`,
      secretText: `untrusted comment: minisign secret key ${idHex} ${comment}\n${base64.encode(secret)}`,
    };
  } finally {
    wipe(sk, chk, secret);
  }
}

// ------------------------------------------------------------------ the CLI's use

/** How `sphinx create|change|get` runs on a converter record. */
export interface ConverterRun {
  /** for the flows (FlowEnv.render): the key text from the record's secret; absent for otp:// */
  render?: (recordSecret: Uint8Array) => string;
  /** what is printed, from what the flow returned (otp://: the code at `unixSeconds`) */
  finish: (result: string, unixSeconds: number) => string;
}

export interface ConverterCommand {
  cmd: 'create' | 'change' | 'get';
  user: string;
  site: string;
  raw?: boolean;
  rule?: { target?: string };
}

/**
 * The converter run of a command, or null for a plain password record.
 * ClientError (exit 1, nothing sent) for a wrong use: --raw on a key or plain
 * record, an otp:// create/change without a base32 target, a key record with one.
 */
export function converterRun(c: ConverterCommand): ConverterRun | null {
  const conv = converterOf(c.user);
  if (!conv) {
    if (c.raw) throw new ClientError('--raw only applies to otp:// records (nothing was sent)');
    return null;
  }
  const target = c.rule?.target;
  if (conv.kind === 'otp') {
    if (c.cmd !== 'get') {
      if (target === undefined) {
        throw new ClientError(`an otp:// record stores a TOTP secret: give the base32 secret as the target password (--target SECRET); nothing was sent`);
      }
      try {
        wipe(totpKey(target));
      } catch (e) {
        throw new ClientError(`cannot store this TOTP secret: ${(e as Error).message}; nothing was sent`);
      }
    }
    return {
      finish: (secret, now) => {
        if (c.raw) return secret;
        try {
          return totp(secret, now);
        } catch (e) {
          throw new ClientError(`the record ${JSON.stringify(c.user)} does not hold a TOTP secret: ${(e as Error).message}; \`--raw\` prints what it holds`);
        }
      },
    };
  }
  if (c.raw) throw new ClientError(`--raw only applies to otp:// records, not ${conv.kind}:// (nothing was sent)`);
  if (target !== undefined) {
    throw new ClientError(`a ${conv.kind}:// record holds a key derived by SPHINX: it takes no target password (nothing was sent)`);
  }
  const kind = conv.kind;
  const comment = `${conv.name}@${c.site}`;
  return {
    render: (secret) => {
      const t = keyTexts(kind, secret, comment);
      return c.cmd === 'get' ? t.secretText : t.publicText;
    },
    finish: (text) => text,
  };
}
