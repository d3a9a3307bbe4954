// <datadir>/masterkey: 32 random bytes, the client's only long-term secret
// (protocol.md §3). Created 0600 in a 0700 directory, never overwritten.
import { randomFillSync } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, writeSync, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { KEY_SIZE } from '../shared/constants.js';
import { ClientError } from './errors.js';

export const MASTERKEY_FILE = 'masterkey';

export const masterkeyPath = (datadir: string): string => join(datadir, MASTERKEY_FILE);

/**
 * A warning line when `path` is open to group or others (as ssh does for its
 * keys), or null. The masterkey is the client's only long-term secret.
 */
export function permissionWarning(path: string, what: string, fix: string): string | null {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    return null;
  }
  if ((mode & 0o077) === 0) return null;
  return `warning: ${what} ${path} is accessible to other users (mode ${mode.toString(8).padStart(4, '0')}); run: chmod ${fix} ${JSON.stringify(path)}`;
}

/** Reads the masterkey; a clear error when it is missing or not 32 bytes. */
export function readMasterkey(datadir: string): Uint8Array {
  const path = masterkeyPath(datadir);
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ClientError(
        `no masterkey at ${path}: on a fresh install run \`sphinx init\`; if sphinx worked before, the masterkey is lost or datadir in your config is wrong`,
      );
    }
    throw new ClientError(`cannot read the masterkey ${path} (${code ?? (e as Error).message}): check its permissions`);
  }
  if (buf.length !== KEY_SIZE) {
    buf.fill(0);
    throw new ClientError(`the masterkey ${path} is ${buf.length} bytes, not ${KEY_SIZE}: it is damaged; restore it from your backup`);
  }
  for (const w of [permissionWarning(datadir, 'the datadir', '700'), permissionWarning(path, 'the masterkey', '600')]) {
    if (w) process.stderr.write(w + '\n');
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/**
 * `sphinx init`: creates datadir (0700) if needed and a new masterkey (0600).
 * Refuses to overwrite an existing masterkey (O_EXCL, so no race either).
 */
export function initMasterkey(datadir: string): string {
  const path = masterkeyPath(datadir);
  try {
    mkdirSync(datadir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new ClientError(`cannot create the directory ${datadir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const w = permissionWarning(datadir, 'the datadir', '700');
  if (w) process.stderr.write(w + '\n');
  let fd: number;
  try {
    fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new ClientError(`already initialized: ${path} exists; refusing to overwrite it (that would make every stored password unrecoverable)`);
    }
    throw new ClientError(`cannot create ${path} (${code ?? (e as Error).message})`);
  }
  const mk = new Uint8Array(KEY_SIZE);
  try {
    fchmodSync(fd, 0o600);
    randomFillSync(mk);
    let off = 0;
    while (off < mk.length) off += writeSync(fd, mk, off, mk.length - off);
    fsyncSync(fd);
  } catch (e) {
    throw new ClientError(`failed to write the masterkey ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); delete it and run init again`);
  } finally {
    mk.fill(0);
    closeSync(fd);
  }
  return path;
}
