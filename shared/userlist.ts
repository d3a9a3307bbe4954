// The per-host user list plaintext (protocol.md §3): names sorted by Unicode
// code point and joined with NUL, as pwdsphinx 1.0.16 builds it
// ('\x00'.join(sorted(set_of_names)); Python sorts str by code point).
import { MAX_BLOB_SIZE, SEAL_OVERHEAD } from './constants.js';
import { fromUtf8, utf8 } from './bytes.js';
import { ProtocolError, UsageError } from './errors.js';

/** Longest plaintext whose sealed blob stays below 65536 bytes (u16be length prefix). */
export const MAX_USERLIST_PLAINTEXT = MAX_BLOB_SIZE - SEAL_OVERHEAD - 1;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Code point order (= UTF-8 byte order), not JavaScript's UTF-16 code unit order. */
export function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Plaintext of a user list: the distinct names sorted by code point, joined
 * with 0x00. UsageError for a name containing NUL or a lone surrogate, or a
 * list too long to seal into a 64 KiB blob.
 */
export function encodeUsers(users: string[]): Uint8Array {
  for (const u of users) {
    if (typeof u !== 'string') throw new UsageError('user names must be strings');
    if (u.includes('\0')) throw new UsageError('a user name cannot contain a NUL character');
    if (LONE_SURROGATE.test(u)) throw new UsageError('a user name must be valid Unicode');
  }
  const sorted = [...new Set(users)].sort(compareCodePoints);
  const pt = utf8(sorted.join('\0'));
  if (pt.length > MAX_USERLIST_PLAINTEXT) throw new UsageError('list of user names is bigger than 64KB');
  return pt;
}

/**
 * Splits a user list plaintext at NUL, exactly like the reference's
 * `pt.decode().split('\x00')`: an empty plaintext gives [''] (client.json
 * user_list_blobs). ProtocolError for invalid UTF-8.
 */
export function decodeUsers(pt: Uint8Array): string[] {
  let s: string;
  try {
    s = fromUtf8(pt);
  } catch {
    throw new ProtocolError('user list is not valid UTF-8');
  }
  return s.split('\0');
}

/** The names of a list as a user sees them: non-empty, distinct, sorted by code point. */
export function userNames(pt: Uint8Array): string[] {
  return [...new Set(decodeUsers(pt).filter((u) => u !== ''))].sort(compareCodePoints);
}
