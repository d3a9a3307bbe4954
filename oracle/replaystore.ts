// The used-challenge set across restarts (issue 14 point 1).
//
// A clean shutdown writes the live entries of the replay cache, and the
// challenge-key epoch in use, to `<datadir>/.used-challenges`; the next start
// reads them back (challenges issued before a clean restart stay valid, and
// stay single-use) and deletes the file at once. While the oracle runs, the
// marker `<datadir>/.running` exists. A start that finds the marker but no
// snapshot follows a crash (kill -9, a power cut): the used set is lost, so
// it takes a new epoch, i.e. a new challenge key derived from the datadir's
// MAC key: every earlier challenge then fails its MAC, and clients that were
// between their two connections ask again. A start that finds neither is the
// datadir's first under this oracle (or a takeover from the reference): the
// MAC key is used as is, like the reference does.
//
// Snapshot format: has-epoch (1) | epoch (16) | entries of 40 bytes:
// MAC (32) | expiresAt (float64le, unix seconds).
import { constants as fsc } from 'node:fs';
import { lstat, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MAC_SIZE } from '../shared/constants.js';
import { fsyncPath, writeFileAtomic } from './storage.js';

export const USED_CHALLENGES_FILE = '.used-challenges';
export const RUNNING_FILE = '.running';
const ENTRY = MAC_SIZE + 8;
export const EPOCH_SIZE = 16;

const HEAD = 1 + EPOCH_SIZE;

/** How the previous life of the oracle on this datadir ended. */
export type PreviousStop =
  | { kind: 'clean'; epoch: Uint8Array | null; entries: Array<[Uint8Array, number]> }
  | { kind: 'crash' }
  | { kind: 'first' };

const exists = async (path: string): Promise<boolean> =>
  lstat(path).then(
    () => true,
    () => false,
  );

/** Mark the datadir as in use (a crash leaves the marker). Throws when it cannot be created. */
export async function markRunning(datadir: string): Promise<void> {
  const fh = await open(join(datadir, RUNNING_FILE), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_NOFOLLOW, 0o600);
  await fh.close();
  await fsyncPath(datadir);
}

/** After a clean shutdown (and the snapshot): remove the marker. */
export async function clearRunning(datadir: string): Promise<void> {
  await rm(join(datadir, RUNNING_FILE), { force: true });
  await fsyncPath(datadir);
}


/**
 * How the last life ended; with a snapshot, its content (read, then deleted:
 * a crash in this life must not find it again).
 */
export async function previousStop(datadir: string, now: number): Promise<PreviousStop> {
  const used = await takeUsedChallenges(datadir, now);
  if (used) return { kind: 'clean', ...used };
  return (await exists(join(datadir, RUNNING_FILE))) ? { kind: 'crash' } : { kind: 'first' };
}

interface UsedChallenges {
  epoch: Uint8Array | null;
  entries: Array<[Uint8Array, number]>;
}

/**
 * Read and delete the snapshot. null when there is none (or it is damaged, or
 * cannot be deleted): the caller must then treat the last stop as unclean.
 */
async function takeUsedChallenges(datadir: string, now: number): Promise<UsedChallenges | null> {
  const path = join(datadir, USED_CHALLENGES_FILE);
  let b: Buffer;
  try {
    b = await readFile(path, { flag: fsc.O_RDONLY | fsc.O_NOFOLLOW });
  } catch {
    return null;
  }
  try {
    await rm(path); // a crash in this life must not find it again
    await fsyncPath(datadir);
  } catch {
    return null;
  }
  if (b.length < HEAD || (b.length - HEAD) % ENTRY !== 0 || b[0]! > 1) return null;
  const entries: Array<[Uint8Array, number]> = [];
  for (let off = HEAD; off < b.length; off += ENTRY) {
    const at = b.readDoubleLE(off + MAC_SIZE);
    if (Number.isFinite(at) && at >= now) entries.push([new Uint8Array(b.subarray(off, off + MAC_SIZE)), at]);
  }
  return { epoch: b[0] === 1 ? new Uint8Array(b.subarray(1, HEAD)) : null, entries };
}

/** Write the snapshot (temp file, fsync, rename, 0600). Throws on failure (e.g. a full disk). */
export async function saveUsedChallenges(datadir: string, epoch: Uint8Array | null, entries: Iterable<[Uint8Array, number]>): Promise<number> {
  const list = [...entries];
  const b = Buffer.alloc(HEAD + list.length * ENTRY);
  if (epoch) {
    b[0] = 1;
    b.set(epoch.subarray(0, EPOCH_SIZE), 1);
  }
  list.forEach(([mac, at], i) => {
    b.set(mac.subarray(0, MAC_SIZE), HEAD + i * ENTRY);
    b.writeDoubleLE(at, HEAD + i * ENTRY + MAC_SIZE);
  });
  await writeFileAtomic(join(datadir, USED_CHALLENGES_FILE), b, 0o600);
  return list.length;
}
