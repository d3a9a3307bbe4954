// The oracle's rate-limit challenges (protocol.md §4): n | k | ts | MAC, the
// MAC a keyed BLAKE2b (libsodium, oracle/crypto.ts) over the request and the
// head, so the oracle keeps no state per challenge; and the key those MACs
// use after a crash (a new epoch: earlier challenges die with it).
//
// Pure: the clock is an argument (`now`, unix seconds, may be fractional);
// time semantics as shared/ratelimit.ts describes.
import { concat, constantTimeEqual } from '../shared/bytes.js';
import { CHALLENGE_HEAD_SIZE, CHALLENGE_SIZE, DIFFICULTIES, KEY_SIZE, MAC_SIZE } from '../shared/constants.js';
import { encodeChallengeHead, isValidRequest } from '../shared/messages.js';
import { checkNow, levelOf, TOP_LEVEL } from '../shared/ratelimit.js';
import { sodium } from './crypto.js';

function computeMac(macKey: Uint8Array, req: Uint8Array, head: Uint8Array): Uint8Array {
  // mac = H(req | n | k | ts, key=oracle_mac_key, out=32); the reference streams req then head.
  return sodium.crypto_generichash(MAC_SIZE, concat(req, head), macKey);
}

function checkMacKey(macKey: Uint8Array): void {
  if (macKey.length !== KEY_SIZE) throw new RangeError(`oracle MAC key must be ${KEY_SIZE} bytes`);
}

/**
 * The 42-byte challenge the oracle sends for `req` at difficulty `level`:
 * n | k | ts u64le | mac, ts = floor(now).
 */
export function makeChallenge(macKey: Uint8Array, req: Uint8Array, level: number, now: number): Uint8Array {
  checkMacKey(macKey);
  if (!isValidRequest(req)) throw new RangeError('makeChallenge: not a rate-limited request');
  if (!Number.isInteger(level) || level < 0 || level > TOP_LEVEL) throw new RangeError(`level out of range: ${level}`);
  checkNow(now);
  const { n, k } = DIFFICULTIES[level]!;
  const head = encodeChallengeHead(n, k, Math.floor(now));
  return concat(head, computeMac(macKey, req, head));
}

/** Domain separation of the per-epoch challenge key (oracle/replaystore.ts). */
const CHALLENGE_KEY_CONTEXT = 'sphinx-ts oracle challenge key v1';

/**
 * The challenge MAC key of one epoch: keyed BLAKE2b (key = the oracle's MAC
 * key) of a context string and the epoch. A new epoch after a crash makes
 * every challenge issued before it fail its MAC.
 */
export function deriveChallengeKey(macKey: Uint8Array, epoch: Uint8Array): Uint8Array {
  checkMacKey(macKey);
  return sodium.crypto_generichash(KEY_SIZE, concat(new TextEncoder().encode(CHALLENGE_KEY_CONTEXT), epoch), macKey);
}

export type ChallengeCheck =
  | { ok: true; n: number; k: number; ts: number; level: number; expiresAt: number }
  | { ok: false; reason: string };

/**
 * Oracle side of connection 2: is `challenge` (42 bytes, as the client echoed
 * it) one we made for exactly `req`, for a known difficulty, and still fresh at
 * `now`? Never throws on peer data. On success `expiresAt` = ts + timeout +
 * gracetime, the last instant at which the challenge is accepted (feed it to
 * ReplayCache). The solution is not checked here (equihash.verify).
 */
export function checkChallenge(
  macKey: Uint8Array,
  challenge: Uint8Array,
  req: Uint8Array,
  now: number,
  gracetime: number,
): ChallengeCheck {
  checkMacKey(macKey);
  if (!Number.isFinite(now)) throw new RangeError(`clock out of range: ${now}`);
  if (!Number.isFinite(gracetime) || gracetime < 0) throw new RangeError(`gracetime out of range: ${gracetime}`);
  if (challenge.length !== CHALLENGE_SIZE) return { ok: false, reason: 'challenge has the wrong size' };
  if (!isValidRequest(req)) return { ok: false, reason: 'malformed request' };
  const head = challenge.subarray(0, CHALLENGE_HEAD_SIZE);
  const mac = computeMac(macKey, req, head);
  if (!constantTimeEqual(mac, challenge.subarray(CHALLENGE_HEAD_SIZE))) return { ok: false, reason: 'bad challenge MAC' };
  const n = challenge[0]!;
  const k = challenge[1]!;
  const level = levelOf(n, k);
  if (level < 0) return { ok: false, reason: `unknown difficulty n=${n} k=${k}` };
  const ts = Number(new DataView(head.buffer, head.byteOffset, head.length).getBigUint64(2, true));
  const window = DIFFICULTIES[level]!.timeout + gracetime;
  // Reference: fail if now - (timeout + gracetime) > ts.
  if (now - window > ts) return { ok: false, reason: 'challenge expired' };
  return { ok: true, n, k, ts, level, expiresAt: ts + window };
}
