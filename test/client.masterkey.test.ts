// client/masterkey: permissions of the client's only long-term secret.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initMasterkey, permissionWarning, readMasterkey } from '../client/masterkey.js';

/** Runs fn with process.stderr.write captured. */
function captureStderr<T>(fn: () => T): { value: T; err: string } {
  const orig = process.stderr.write.bind(process.stderr);
  let err = '';
  process.stderr.write = ((chunk: string | Uint8Array): boolean => {
    err += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    return { value: fn(), err };
  } finally {
    process.stderr.write = orig;
  }
}

test('init creates 0600 in 0700; reading a private masterkey warns about nothing', () => {
  const home = mkdtempSync(join(tmpdir(), 'sphinx-mk-'));
  try {
    const dir = join(home, 'sphinx');
    const path = initMasterkey(dir);
    assert.is(statSync(path).mode & 0o777, 0o600);
    assert.is(statSync(dir).mode & 0o777, 0o700);
    const { value, err } = captureStderr(() => readMasterkey(dir));
    assert.is(value.length, 32);
    assert.is(err, '');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('a masterkey or datadir open to others is used but warned about, with the chmod to run', () => {
  const home = mkdtempSync(join(tmpdir(), 'sphinx-mk-'));
  try {
    const dir = join(home, 'sphinx');
    const path = initMasterkey(dir);
    chmodSync(path, 0o644);
    chmodSync(dir, 0o755);
    const { value, err } = captureStderr(() => readMasterkey(dir));
    assert.is(value.length, 32);
    assert.match(err, /the masterkey .*\(mode 0644\); run: chmod 600/);
    assert.match(err, /the datadir .*\(mode 0755\); run: chmod 700/);
    assert.is(permissionWarning(join(home, 'missing'), 'x', '600'), null);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test.run();
