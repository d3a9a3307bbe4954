// Rate-limit puzzles (protocol.md §4): the per-record difficulty state machine
// and a bounded replay cache. The oracle's MAC'd challenges, which need its
// crypto, are in oracle/challenge.ts.
//
// Everything here is pure: the clock is an argument (`now`, unix seconds, may be
// fractional, exactly what the reference gets from datetime.now().timestamp()).
// No files, no sockets, no clock reads.
//
// Time semantics, as the reference oracle (pwdsphinx 1.0.16) has them and the
// vectors (ratelimit.json) confirm:
// - timestamps that get stored or sent (difficulty ts, challenge ts) are
//   floor(now) (Python int() of a positive float);
// - comparisons use the fractional `now`: decay when `now - rl_decay > ts`,
//   decay by floor((now - ts) / rl_decay) levels; a challenge is fresh while
//   `now - (timeout + gracetime) <= ts` (for n=60: ts+11 accepted, ts+11.74 not).
import { DIFFICULTIES, DIFFICULTY_STATE_SIZE } from './constants.js';

/** Per-record rate-limit state: `<datadir>/<hexid>/difficulty` = level u8 | count u32le | ts u32le. */
export interface DifficultyState {
  level: number;
  count: number;
  ts: number;
}

export interface DifficultyConfig {
  rl_decay: number;
  rl_threshold: number;
}

/** Index of the top difficulty level (12). */
export const TOP_LEVEL = DIFFICULTIES.length - 1;
const U32_MAX = 0xffffffff;

export function checkNow(now: number): void {
  // Stored as u32: the reference cannot represent anything else either.
  if (!Number.isFinite(now) || now < 0 || now > U32_MAX) throw new RangeError(`clock out of range: ${now}`);
}

/** Difficulty level (index into DIFFICULTIES) of (n, k), or -1 if it is not one of ours. */
export function levelOf(n: number, k: number): number {
  return DIFFICULTIES.findIndex((d) => d.n === n && d.k === k);
}

/** Puzzle timeout in seconds for (n, k); throws RangeError for an unknown pair. */
export function timeoutOf(n: number, k: number): number {
  const level = levelOf(n, k);
  if (level < 0) throw new RangeError(`unknown difficulty n=${n} k=${k}`);
  return DIFFICULTIES[level]!.timeout;
}

/**
 * The state to store (and whose level to use) for a challenge request at time
 * `now`, given the stored state `prev` (null: none yet, or unreadable — see
 * decodeDifficulty). The result's ts is floor(now).
 */
export function nextDifficulty(prev: DifficultyState | null, now: number, cfg: DifficultyConfig): DifficultyState {
  checkNow(now);
  if (!(cfg.rl_decay > 0) || !Number.isFinite(cfg.rl_decay)) throw new RangeError(`rl_decay must be > 0: ${cfg.rl_decay}`);
  if (!(cfg.rl_threshold >= 0)) throw new RangeError(`rl_threshold must be >= 0: ${cfg.rl_threshold}`);
  const ts = Math.floor(now);
  if (prev === null) return { level: 0, count: 0, ts };

  let level = prev.level;
  let count = prev.count;
  if (!Number.isInteger(level) || level < 0 || level > TOP_LEVEL) {
    // Reference: "invalid level in rl_ctx" -> clamp to the top, count 0.
    level = TOP_LEVEL;
    count = 0;
  } else if (now - cfg.rl_decay > prev.ts && level > 0) {
    // Quiet for longer than rl_decay: drop one level per elapsed period.
    const periods = Math.floor((now - prev.ts) / cfg.rl_decay);
    level = Math.max(0, level - periods);
    count = 0;
  } else if (count >= cfg.rl_threshold && level < TOP_LEVEL) {
    level += 1;
    count = 0;
  } else {
    // Saturate instead of overflowing the u32 (the reference would crash).
    count = Math.min(U32_MAX, (Number.isInteger(count) && count >= 0 ? count : 0) + 1);
  }
  return { level, count, ts };
}

/** The 9-byte difficulty file: level u8 | count u32le | ts u32le. */
export function encodeDifficulty(s: DifficultyState): Uint8Array {
  const { level, count, ts } = s;
  if (!Number.isInteger(level) || level < 0 || level > 0xff) throw new RangeError(`level out of range: ${level}`);
  if (!Number.isInteger(count) || count < 0 || count > U32_MAX) throw new RangeError(`count out of range: ${count}`);
  if (!Number.isInteger(ts) || ts < 0 || ts > U32_MAX) throw new RangeError(`ts out of range: ${ts}`);
  const out = new Uint8Array(DIFFICULTY_STATE_SIZE);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, level);
  dv.setUint32(1, count, true);
  dv.setUint32(5, ts, true);
  return out;
}

/**
 * Decode the difficulty file. Returns null when the bytes are not a 9-byte
 * state (empty, truncated, overlong): the caller then treats the record as
 * having no state (level 0), exactly like a missing file.
 *
 * Why not punish: only the oracle writes this file, so a garbled one means a
 * crash mid-write or disk trouble, never an attacker. The reference crashes the
 * worker on a wrong-size file, which locks the record out of every
 * rate-limited operation until an operator deletes the file; clamping to the
 * top level would lock its owner out for hours (n=120, 1 GiB). Level 0 is what
 * a careful operator expects after losing the file. A 9-byte file with a level
 * beyond the table is still clamped to the top by nextDifficulty (reference).
 */
export function decodeDifficulty(b: Uint8Array): DifficultyState | null {
  if (b.length !== DIFFICULTY_STATE_SIZE) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  return { level: dv.getUint8(0), count: dv.getUint32(1, true), ts: dv.getUint32(5, true) };
}

/**
 * Remembers the MACs of challenges already used, each until its challenge
 * expires, so a solved (challenge, request, solution) is accepted only once
 * (protocol.md §8.2). Bounded: with `capacity` live entries, the one expiring
 * soonest is forgotten to make room (a replay of it needs a challenge that is
 * about to expire anyway). Pure: the clock is passed in.
 *
 * Use: after checkChallenge ok AND the solution verifies,
 * `if (!cache.checkAndRemember(challengeMac, check.expiresAt, now)) fail`.
 */
export class ReplayCache {
  readonly capacity: number;
  private readonly live = new Map<string, number>(); // mac (latin1) -> expiresAt
  private readonly heap: Array<{ at: number; key: string }> = []; // min-heap on `at`, same entries as `live`

  constructor(capacity = 65536) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be >= 1: ${capacity}`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.live.size;
  }

  /** Live entries forgotten to make room so far (a flood beyond the capacity; for the log). */
  evictions = 0;

  /** Every remembered entry (MAC, expiresAt): to carry the cache across a restart. */
  *entries(): IterableIterator<[Uint8Array, number]> {
    for (const [key, at] of this.live) yield [new Uint8Array(Buffer.from(key, 'latin1')), at];
  }

  /** Is `mac` remembered and not yet expired at `now`? */
  has(mac: Uint8Array, now: number): boolean {
    const at = this.live.get(keyOf(mac));
    return at !== undefined && at >= now;
  }

  /**
   * Full of live entries at `now`: remembering one more would push out an
   * entry that still guards an unexpired challenge. The oracle then refuses
   * the request (fail closed) rather than leave a replay window open.
   */
  isFull(now: number): boolean {
    this.prune(now);
    return this.live.size >= this.capacity;
  }

  /** Forget every entry whose challenge expired before `now`. */
  prune(now: number): void {
    while (this.heap.length > 0 && this.heap[0]!.at < now) this.live.delete(this.pop().key);
  }

  /**
   * False if `mac` was already used (a replay). Otherwise remembers it until
   * `expiresAt` and returns true. A mac whose challenge already expired is not
   * stored (checkChallenge rejects it anyway); neither is one that would be
   * the first to go when the cache is full of live entries.
   */
  checkAndRemember(mac: Uint8Array, expiresAt: number, now: number): boolean {
    if (!Number.isFinite(expiresAt) || !Number.isFinite(now)) throw new RangeError('checkAndRemember: bad time');
    this.prune(now);
    const key = keyOf(mac);
    if (this.live.has(key)) return false;
    if (expiresAt < now) return true;
    if (this.live.size >= this.capacity) {
      // Full of live entries: forget the one expiring soonest, the new one included
      // (its replay window is then the shortest one left unguarded).
      this.evictions++;
      if (expiresAt <= this.heap[0]!.at) return true;
      this.live.delete(this.pop().key);
    }
    this.live.set(key, expiresAt);
    this.push({ at: expiresAt, key });
    return true;
  }

  private push(e: { at: number; key: string }): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= e.at) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  private pop(): { at: number; key: string } {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && h[r]!.at < h[l]!.at ? r : l;
        if (h[c]!.at >= last.at) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

const keyOf = (mac: Uint8Array): string => Buffer.from(mac.buffer, mac.byteOffset, mac.length).toString('latin1');
