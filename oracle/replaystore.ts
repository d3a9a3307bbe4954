// The used-challenge set across restarts (issue 14 point 1). Challenges are
// MAC'd with a key derived from the datadir's MAC key and an epoch (16 random
// bytes, not secret). A clean shutdown writes the epoch and the live entries
// of the replay cache to `<datadir>/.used-challenges`; the next start reads
// them back, keeps the epoch (challenges issued before the restart stay
// valid, and stay single-use) and deletes the file at once. A start that
// finds no file (a crash, kill -9, a power cut, or a first start) cannot know
// which challenges were used, so it takes a new epoch: every earlier
// challenge then fails its MAC, and clients that were between their two
// connections ask for a new one.
//
// Format: epoch (16) | entries of 40 bytes: MAC (32) | expiresAt (float64le, unix seconds).
import { constants as fsc } from 'node:fs';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MAC_SIZE } from '../shared/constants.js';

export const USED_CHALLENGES_FILE = '.used-challenges';
const ENTRY = MAC_SIZE + 8;
export const EPOCH_SIZE = 16;

export interface UsedChallenges {
  epoch: Uint8Array;
  entries: Array<[Uint8Array, number]>;
}

/**
 * Read and delete the snapshot. null when there is none (or it is damaged, or
 * cannot be deleted): the caller must then treat the last stop as unclean.
 */
export async function takeUsedChallenges(datadir: string, now: number): Promise<UsedChallenges | null> {
  const path = join(datadir, USED_CHALLENGES_FILE);
  let b: Buffer;
  try {
    b = await readFile(path, { flag: fsc.O_RDONLY | fsc.O_NOFOLLOW });
  } catch {
    return null;
  }
  try {
    await rm(path); // a crash in this life must not find it again
    const dir = await open(datadir, fsc.O_RDONLY);
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    return null;
  }
  if (b.length < EPOCH_SIZE || (b.length - EPOCH_SIZE) % ENTRY !== 0) return null;
  const entries: Array<[Uint8Array, number]> = [];
  for (let off = EPOCH_SIZE; off < b.length; off += ENTRY) {
    const at = b.readDoubleLE(off + MAC_SIZE);
    if (Number.isFinite(at) && at >= now) entries.push([new Uint8Array(b.subarray(off, off + MAC_SIZE)), at]);
  }
  return { epoch: new Uint8Array(b.subarray(0, EPOCH_SIZE)), entries };
}

/** Write the snapshot (temp file, fsync, rename, 0600). Throws on failure (e.g. a full disk). */
export async function saveUsedChallenges(datadir: string, epoch: Uint8Array, entries: Iterable<[Uint8Array, number]>): Promise<number> {
  const list = [...entries];
  const b = Buffer.alloc(EPOCH_SIZE + list.length * ENTRY);
  b.set(epoch.subarray(0, EPOCH_SIZE), 0);
  list.forEach(([mac, at], i) => {
    b.set(mac.subarray(0, MAC_SIZE), EPOCH_SIZE + i * ENTRY);
    b.writeDoubleLE(at, EPOCH_SIZE + i * ENTRY + MAC_SIZE);
  });
  const path = join(datadir, USED_CHALLENGES_FILE);
  const tmp = `${path}.tmp`;
  await rm(tmp, { force: true });
  try {
    const fh = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
    try {
      await fh.writeFile(b);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return list.length;
}
