// The oracle's datadir (protocol.md §5), the reference's layout:
//   <datadir>/key                   the oracle's MAC key (32 bytes, 0600)
//   <datadir>/<hex(id)>/            one directory per record (0700), files 0600:
//       key pub rules [new pub.new rules.new] [old pub.old rules.old] [difficulty]
//       (user-list records: pub blob [difficulty])
//
// The datadir on disk is the only source of truth: nothing about a record is
// cached, so an operator may copy, restore or delete record directories while
// the oracle runs.
//
// Crash atomicity. A change to one file (a user-list blob, the difficulty
// state) is a temp file in the record directory + fsync + rename + fsync of
// the directory. A change to several files builds the complete new record in
// `<datadir>/.<hex>.new/` (every file fsynced, then the directory), then swaps:
//   rename <hex> -> .<hex>.old ; rename .<hex>.new -> <hex> ; fsync datadir ; rm -r .<hex>.old
// Deleting a record renames it to `.<hex>.del` (fsync datadir) before removing it.
// A crash between the two renames leaves only `.<hex>.old`: every reader
// restores it before looking (under the record's lock), and startup recovery
// (recover()) does it for the whole datadir, so a record is always either
// wholly old or wholly new. Leftover `.new` / `.del` directories are garbage
// and are removed by recover(); in-record temp files (`.<name>.tmp`) by
// sweepTemp(), which the server runs in the background after each start. A
// swap or file replacement that fails (a full disk) removes its temp
// directory or file at once.
//
// Hostile or damaged files. Record files are opened with O_NOFOLLOW and must
// be regular files, record directories must be real directories (lstat): a
// symlink or a device there is refused (DamagedRecord, the request fails and
// the log names the file), except a non-regular `difficulty`, which is
// replaced (it is only rate-limit state). Files are created with O_EXCL, so
// nothing is ever written through a symlink, i.e. outside the datadir.
//
// Full disk. Reads and deletes need no new blocks. A difficulty state that
// cannot be stored (ENOSPC, EDQUOT) is kept in memory until it can be, so
// challenges (and with them GET, list and DELETE) are still handed out.
//
// Concurrency: every operation on a record holds that record's in-process
// mutex (one oracle process per datadir). Mutations are compare-and-set: the
// caller passes the file contents it based its decision on and the change is
// refused (false) if the record moved on meanwhile.
import { closeSync, constants as fsc, fstatSync, lstatSync, openSync, readSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { link, lstat, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../shared/bytes.js';
import { isNoSpace } from '../shared/errors.js';
import { KEY_SIZE } from '../shared/constants.js';
import { KeyedMutex } from './locks.js';

/** File name → contents; `null` in a change means "remove this file", in an expectation "must be absent". */
export type Files = Record<string, Uint8Array | null>;

export interface CommitSpec {
  /** true: the record must exist; false: it must not (it is created); undefined: either. */
  exists?: boolean;
  /** Files whose current contents must be exactly these (null: absent). */
  expect?: Files;
  /** Files to write (bytes) or remove (null); everything else is kept. */
  set: Files;
}

/** What the protocol logic needs from storage (in-memory implementations are fine for tests). */
export interface Storage {
  /** Contents of the named files of record `hex` (missing files absent from the result); null if there is no record. */
  read(hex: string, names: readonly string[]): Promise<Record<string, Uint8Array> | null>;
  /** Atomic compare-and-set of several files; false when an expectation does not hold. */
  commit(hex: string, spec: CommitSpec): Promise<boolean>;
  /** Atomically remove the record if the expectation holds; false otherwise. */
  remove(hex: string, expect: Files): Promise<boolean>;
  /**
   * Read-modify-write of the `difficulty` file under the record's lock. Returns
   * null without calling `next` when the record does not exist (state is only
   * kept for existing records).
   */
  updateDifficulty(hex: string, next: (prev: Uint8Array | null) => Uint8Array): Promise<Uint8Array | null>;
}

const HEX_RE = /^[0-9a-f]{64}$/;
const FILE_RE = /^[a-z.]{1,16}$/; // key, pub, rules, new, pub.new, rules.old, blob, difficulty, ...
const LEFTOVER_RE = /^\.([0-9a-f]{64})\.(old|new|del)$/;
const TEMP_RE = /^\.[a-z.]{1,16}\.tmp$/;
/** Difficulty states kept in memory at most while the disk is full. */
const MAX_UNSTORED = 100_000;

/** A record directory must not be a symlink (lstat; cheap enough for every read). */
function checkNotLink(dir: string): void {
  try {
    if (lstatSync(dir).isSymbolicLink()) throw new DamagedRecord(`${dir} is a symlink`);
  } catch (e) {
    if (!isCode(e, 'ENOENT', 'ENOTDIR')) throw e;
  }
}

function checkHex(hex: string): void {
  if (!HEX_RE.test(hex)) throw new RangeError('record id must be 64 lowercase hex digits');
}
function checkName(name: string): void {
  if (!FILE_RE.test(name) || name.startsWith('.')) throw new RangeError(`bad record file name: ${name}`);
}

const isCode = (e: unknown, ...codes: string[]): boolean => codes.includes((e as NodeJS.ErrnoException)?.code ?? '');


/** A record file or directory that is not what it must be (a symlink, a device...): refused, never followed. */
export class DamagedRecord extends Error {
  override name = 'DamagedRecord';
}

/** fsync a file or directory by path. */
export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, fsc.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Create `path` (must not exist: never through a symlink), write, fsync, close. */
async function writeNewFile(path: string, data: Uint8Array | string, sync: boolean, mode = 0o600): Promise<void> {
  const fh = await open(path, 'wx', mode);
  try {
    await fh.writeFile(data);
    if (sync) await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Replace `path` whole or not at all: a new temp file, fsync, rename; the temp file is removed on failure. */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode: number, tmp = `${path}.tmp`): Promise<void> {
  await rm(tmp, { force: true });
  try {
    await writeNewFile(tmp, data, true, mode);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * The bytes read, as a view of the same memory (no copy): a caller that wipes
 * a key it read (record key k, the MAC key) wipes the only copy.
 */
const ownBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.length);

/** Read a whole file without following a symlink (DamagedRecord for anything but a regular file). */
function readRegularSync(path: string): Uint8Array | null {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (e) {
    if (isCode(e, 'ENOENT', 'ENOTDIR')) return null;
    if (isCode(e, 'ELOOP')) throw new DamagedRecord(`${path} is a symlink, not a regular file`);
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new DamagedRecord(`${path} is not a regular file`);
    const buf = Buffer.allocUnsafe(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return ownBytes(buf.subarray(0, got));
  } finally {
    closeSync(fd);
  }
}

async function readOrNull(path: string): Promise<Uint8Array | null> {
  try {
    return ownBytes(await readFile(path));
  } catch (e) {
    if (isCode(e, 'ENOENT')) return null;
    throw e;
  }
}

/**
 * Small reads on the hot path (GET: key, rules, difficulty) are synchronous:
 * for files of a few dozen bytes a blocking read costs microseconds, while a
 * thread-pool round trip per open/fstat/read/close costs far more CPU.
 */
const readSmallSync = readRegularSync;

/** A real directory (not a symlink to one); DamagedRecord for anything else in its place. */
async function isDir(path: string): Promise<boolean> {
  let st;
  try {
    st = await lstat(path);
  } catch (e) {
    if (isCode(e, 'ENOENT', 'ENOTDIR')) return false;
    throw e;
  }
  if (!st.isDirectory()) throw new DamagedRecord(`${path} is ${st.isSymbolicLink() ? 'a symlink' : 'not a directory'}`);
  return true;
}

const same = (a: Uint8Array | null | undefined, b: Uint8Array | null | undefined): boolean =>
  a == null || b == null ? a == null && b == null : constantTimeEqual(a, b);

export interface FsStorageOptions {
  /** fsync files and directories on mutations (default true). Difficulty updates never fsync. */
  durable?: boolean;
  /** Test hook: called at named points of a mutation (crash-injection tests). */
  onStep?: (step: string) => void | Promise<void>;
}

export class FsStorage implements Storage {
  private readonly locks = new KeyedMutex();
  /** Difficulty states that could not be written (full disk), by record. */
  private readonly unstored = new Map<string, Uint8Array>();
  private readonly durable: boolean;
  private readonly onStep: ((step: string) => void | Promise<void>) | undefined;

  constructor(
    readonly datadir: string,
    opts: FsStorageOptions = {},
  ) {
    this.durable = opts.durable ?? true;
    this.onStep = opts.onStep;
  }

  private dir(hex: string): string {
    return join(this.datadir, hex);
  }

  private async step(name: string): Promise<void> {
    if (this.onStep) await this.onStep(name);
  }

  private async syncDir(path: string): Promise<void> {
    if (this.durable) await fsyncPath(path);
  }

  /**
   * Called under the record's lock before looking at it: finishes what a
   * crash interrupted. Returns whether the record directory exists.
   */
  private async settle(hex: string): Promise<boolean> {
    const dir = this.dir(hex);
    if (await isDir(dir)) return true;
    const old = join(this.datadir, `.${hex}.old`);
    if (!(await isDir(old))) return false;
    // Crash between the two renames of a swap: the old record is the truth.
    await rm(join(this.datadir, `.${hex}.new`), { recursive: true, force: true });
    await rename(old, dir);
    await this.syncDir(this.datadir);
    return true;
  }

  async read(hex: string, names: readonly string[]): Promise<Record<string, Uint8Array> | null> {
    checkHex(hex);
    for (const n of names) checkName(n);
    return this.locks.with(hex, async () => {
      const dir = this.dir(hex);
      checkNotLink(dir);
      const got = names.map((n) => readSmallSync(join(dir, n)));
      const out: Record<string, Uint8Array> = {};
      let missing = false;
      got.forEach((b, i) => {
        if (b) out[names[i]!] = b;
        else missing = true;
      });
      if (!missing && names.length > 0) return out;
      if (!(await this.settle(hex))) return null;
      if (Object.keys(out).length === 0 && names.length > 0) {
        // The directory may just have been restored: read again.
        const again = names.map((n) => readSmallSync(join(dir, n)));
        again.forEach((b, i) => {
          if (b) out[names[i]!] = b;
        });
      }
      return out;
    });
  }

  /** Every regular file of a record directory whose name is a record file name. */
  private async readAll(hex: string): Promise<Record<string, Uint8Array>> {
    const dir = this.dir(hex);
    const out: Record<string, Uint8Array> = {};
    for (const ent of await readdir(dir, { withFileTypes: true })) {
      if (ent.name.startsWith('.') || !FILE_RE.test(ent.name)) continue;
      // A record file that is not a regular file would be silently dropped by a swap: refuse.
      if (!ent.isFile()) throw new DamagedRecord(`${join(dir, ent.name)} is ${ent.isSymbolicLink() ? 'a symlink' : 'not a regular file'}`);
      const b = await readOrNull(join(dir, ent.name));
      if (b) out[ent.name] = b;
    }
    return out;
  }

  async commit(hex: string, spec: CommitSpec): Promise<boolean> {
    checkHex(hex);
    for (const n of Object.keys(spec.set)) checkName(n);
    for (const n of Object.keys(spec.expect ?? {})) checkName(n);
    return this.locks.with(hex, async () => {
      const exists = await this.settle(hex);
      if (spec.exists !== undefined && spec.exists !== exists) return false;
      const cur = exists ? await this.readAll(hex) : {};
      for (const [n, want] of Object.entries(spec.expect ?? {})) if (!same(cur[n] ?? null, want)) return false;

      const changes = Object.entries(spec.set);
      if (exists && changes.length === 1 && changes[0]![1] !== null) {
        const [name, data] = changes[0]! as [string, Uint8Array];
        await this.replaceFile(hex, name, data, this.durable);
        return true;
      }
      const next: Record<string, Uint8Array> = { ...cur };
      for (const [n, b] of changes) {
        if (b === null) delete next[n];
        else next[n] = b;
      }
      await this.swap(hex, exists, next);
      return true;
    });
  }

  /** One file, atomically: .<name>.tmp in the record directory, then rename. */
  private async replaceFile(hex: string, name: string, data: Uint8Array, sync: boolean): Promise<void> {
    const dir = this.dir(hex);
    const tmp = join(dir, `.${name}.tmp`);
    await rm(tmp, { force: true });
    try {
      await writeNewFile(tmp, data, sync);
    } catch (e) {
      await rm(tmp, { force: true }); // a full disk must not keep the partial file
      throw e;
    }
    await this.step('file-written');
    await rename(tmp, join(dir, name));
    if (sync) await this.syncDir(dir);
  }

  /** The whole record, atomically (see the header). */
  private async swap(hex: string, exists: boolean, files: Record<string, Uint8Array>): Promise<void> {
    const dir = this.dir(hex);
    const tmp = join(this.datadir, `.${hex}.new`);
    const old = join(this.datadir, `.${hex}.old`);
    await rm(tmp, { recursive: true, force: true });
    try {
      await mkdir(tmp, { mode: 0o700 });
      for (const [n, b] of Object.entries(files)) await writeNewFile(join(tmp, n), b, this.durable);
      await this.syncDir(tmp);
    } catch (e) {
      // e.g. ENOSPC: free the space the half-built record holds now, not at the next restart
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    await this.step('new-written');
    if (exists) {
      await rm(old, { recursive: true, force: true });
      await rename(dir, old);
      await this.step('old-moved');
    }
    await rename(tmp, dir);
    await this.syncDir(this.datadir);
    await this.step('swapped');
    if (exists) await rm(old, { recursive: true, force: true });
  }

  async remove(hex: string, expect: Files): Promise<boolean> {
    checkHex(hex);
    return this.locks.with(hex, async () => {
      if (!(await this.settle(hex))) return false;
      const cur = await this.readAll(hex);
      for (const [n, want] of Object.entries(expect)) if (!same(cur[n] ?? null, want)) return false;
      const del = join(this.datadir, `.${hex}.del`);
      await rm(del, { recursive: true, force: true });
      await rename(this.dir(hex), del);
      await this.syncDir(this.datadir);
      await this.step('removed');
      await rm(del, { recursive: true, force: true });
      return true;
    });
  }

  async updateDifficulty(hex: string, next: (prev: Uint8Array | null) => Uint8Array): Promise<Uint8Array | null> {
    checkHex(hex);
    return this.locks.with(hex, async () => {
      const dir = this.dir(hex);
      const path = join(dir, 'difficulty');
      const readPrev = (): Uint8Array | null => {
        try {
          return readSmallSync(path);
        } catch (e) {
          if (!(e instanceof DamagedRecord)) throw e;
          unlinkSync(path); // a symlink or device in place of rate-limit state: repaired, never followed
          return null;
        }
      };
      checkNotLink(dir);
      let prev = readPrev();
      if (prev === null && !(await this.settle(hex))) {
        this.unstored.delete(hex);
        return null;
      }
      if (prev === null) prev = readPrev() ?? this.unstored.get(hex) ?? null;
      const out = next(prev);
      // Synchronous (9 bytes) and not fsynced: losing an update to a power cut
      // only lowers the record's level. An existing 9-byte state is overwritten
      // in place: one write of 9 bytes at offset 0 lies within one sector and
      // is never torn, and it avoids ext4's flush-on-replace (truncate or
      // rename over a file), which costs 20 times the CPU. Anything else is
      // replaced with a temp file and a rename.
      const onDisk = prev !== null && !this.unstored.has(hex);
      if (onDisk && prev!.length === out.length) {
        const fd = openSync(path, fsc.O_WRONLY | fsc.O_NOFOLLOW);
        try {
          writeSync(fd, out, 0, out.length, 0);
        } finally {
          closeSync(fd);
        }
        return out;
      }
      const tmp = join(dir, '.difficulty.tmp');
      try {
        rmSync(tmp, { force: true });
        const fd = openSync(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
        try {
          writeSync(fd, out);
        } finally {
          closeSync(fd);
        }
        await this.step('file-written');
        renameSync(tmp, path);
        this.unstored.delete(hex);
      } catch (e) {
        if (!isNoSpace(e)) throw e;
        // Full disk: keep the state in memory (bounded) so challenges, and with
        // them GET, list and DELETE, still work; stored once there is room.
        rmSync(tmp, { force: true });
        if (this.unstored.size >= MAX_UNSTORED) this.unstored.delete(this.unstored.keys().next().value!);
        this.unstored.set(hex, out);
      }
      return out;
    });
  }

  /**
   * Remove the in-record temp files (`.<name>.tmp`) a crash left behind, one
   * record at a time under its lock (the server runs it in the background
   * after start-up). Returns how many it removed.
   */
  async sweepTemp(): Promise<number> {
    let removed = 0;
    for (const hex of await readdir(this.datadir)) {
      if (!HEX_RE.test(hex)) continue;
      removed += await this.locks.with(hex, async () => {
        let n = 0;
        let names: string[];
        try {
          names = await readdir(this.dir(hex));
        } catch {
          return 0; // gone, or not a directory: not ours to touch
        }
        for (const name of names) {
          if (!TEMP_RE.test(name)) continue;
          await rm(join(this.dir(hex), name), { force: true });
          n++;
        }
        return n;
      });
    }
    return removed;
  }
}

/**
 * Startup recovery of a whole datadir: restore records caught between the two
 * renames of a swap, remove every other leftover. Returns how many entries it fixed.
 */
export async function recover(datadir: string): Promise<number> {
  let fixed = 0;
  const names = await readdir(datadir);
  const present = new Set(names);
  for (const name of names) {
    const m = LEFTOVER_RE.exec(name);
    if (!m) continue;
    const [, hex, kind] = m;
    const path = join(datadir, name);
    if (kind === 'old' && !present.has(hex!)) {
      await rm(join(datadir, `.${hex}.new`), { recursive: true, force: true });
      await rename(path, join(datadir, hex!));
      present.add(hex!);
    } else {
      await rm(path, { recursive: true, force: true });
    }
    fixed++;
  }
  if (fixed > 0) await fsyncPath(datadir);
  return fixed;
}

/**
 * mkdir -p, one level at a time: Node's own recursive mkdir never settles for
 * a path under /proc (it retries ENOENT forever).
 */
async function mkdirs(path: string): Promise<void> {
  try {
    await mkdir(path, { mode: 0o700 });
  } catch (e) {
    if (isCode(e, 'EEXIST')) return;
    const parent = dirname(path);
    if (!isCode(e, 'ENOENT') || parent === path) throw e;
    await mkdirs(parent);
    try {
      await mkdir(path, { mode: 0o700 });
    } catch (e2) {
      if (!isCode(e2, 'EEXIST')) throw e2;
    }
  }
}

/** Create the datadir (0700) if needed and check that we can write there. Throws with a clear message. */
export async function prepareDatadir(datadir: string): Promise<void> {
  try {
    await mkdirs(datadir);
  } catch (e) {
    throw new Error(`cannot create datadir ${datadir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let st;
  try {
    st = await stat(datadir); // the datadir itself may be a symlink (e.g. to another disk)
  } catch (e) {
    throw new Error(`datadir ${datadir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!st.isDirectory()) throw new Error(`datadir ${datadir} is not a directory`);
  const probe = join(datadir, `.probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeNewFile(probe, new Uint8Array(0), false);
    await unlink(probe);
  } catch (e) {
    throw new Error(`datadir ${datadir} is not writable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The oracle's MAC key `<datadir>/key`: read it, or make it (32 random bytes, 0600) on first use. */
export async function loadMacKey(datadir: string): Promise<Uint8Array> {
  const path = join(datadir, 'key');
  let key = await readOrNull(path);
  if (key === null) {
    const tmp = join(datadir, `.key.${process.pid}.tmp`);
    await rm(tmp, { force: true });
    await writeNewFile(tmp, randomBytes(KEY_SIZE), true);
    try {
      await link(tmp, path); // never overwrites a key another process just made
    } catch (e) {
      if (!isCode(e, 'EEXIST')) throw e;
    } finally {
      await unlink(tmp);
    }
    await fsyncPath(datadir);
    key = await readOrNull(path);
  }
  if (key === null || key.length !== KEY_SIZE) throw new Error(`MAC key ${path} must be ${KEY_SIZE} bytes`);
  return key;
}
