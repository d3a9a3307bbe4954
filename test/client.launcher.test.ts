// The `sphinx` bin loads the client bundle through V8's code cache
// (build/launcher.ts, build/codecache.ts): the build's cache must be one
// this Node accepts, and a missing or damaged cache must only cost time.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cacheFile, compileCommonJs, MAIN_BUNDLE, readCache } from '../build/codecache.js';
import { CLIENT_BIN, cleanEnv } from './helpers/cli.js';

const BIN = dirname(CLIENT_BIN);
const BUNDLE = join(BIN, MAIN_BUNDLE);

test('the build wrote a code cache for the client bundle, and this Node accepts it', () => {
  const cache = readCache(BUNDLE);
  assert.ok(cache && cache.length > 1000, `no code cache at ${cacheFile(BUNDLE)}: run npm run build`);
  const script = compileCommonJs(BUNDLE, cache);
  assert.is(script.cachedDataRejected, false, 'V8 rejected the code cache');
  // a cache for other source is rejected, not used (V8 checks the source)
  const other = compileCommonJs(join(BIN, 'puzzle-worker.js'), cache);
  assert.is(other.cachedDataRejected, true);
});

/** `sphinx init` from a copy of bin/ (init needs no package from node_modules). */
function initFrom(bin: string): { code: number | null; stderr: string; masterkey: boolean } {
  const home = mkdtempSync(join(tmpdir(), 'sphinx-launcher-'));
  const datadir = join(home, 'data');
  const cfg = join(home, 'client.cfg');
  writeFileSync(cfg, `[client]\ndatadir = ${datadir}\n`);
  const r = spawnSync(process.execPath, [join(bin, 'sphinx.js'), '--config', cfg, 'init'], { cwd: home, env: cleanEnv({ HOME: home }), encoding: 'utf8' });
  const masterkey = existsSync(join(datadir, 'masterkey')) && statSync(join(datadir, 'masterkey')).size === 32;
  rmSync(home, { recursive: true, force: true });
  return { code: r.status, stderr: r.stderr, masterkey };
}

test('a damaged or missing code cache only costs time: the bin still runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sphinx-bin-'));
  try {
    cpSync(BIN, dir, { recursive: true });
    const ok = initFrom(dir);
    assert.is(ok.code, 0, ok.stderr);
    assert.ok(ok.masterkey);
    writeFileSync(cacheFile(join(dir, MAIN_BUNDLE)), Buffer.alloc(4096, 0xa5));
    const damaged = initFrom(dir);
    assert.is(damaged.code, 0, damaged.stderr);
    assert.ok(damaged.masterkey);
    assert.is(damaged.stderr.includes('Error'), false, damaged.stderr);
    rmSync(cacheFile(join(dir, MAIN_BUNDLE)));
    const missing = initFrom(dir);
    assert.is(missing.code, 0, missing.stderr);
    assert.ok(missing.masterkey);
    // without the bundle itself: one line that says what to do, exit 3, no stack trace
    rmSync(join(dir, MAIN_BUNDLE));
    const broken = initFrom(dir);
    assert.is(broken.code, 3);
    assert.match(broken.stderr, /^error: cannot load .*sphinx-main\.js .*npm run build\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bin/sphinx runs node on sphinx.js next to its real path, with the huge-pages tunable added to GLIBC_TUNABLES and the arguments unchanged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sphinx-wrapper-'));
  try {
    // a `node` that reports what it was given
    const fake = join(dir, 'fake');
    mkdirSync(fake);
    writeFileSync(join(fake, 'node'), '#!/bin/sh\nprintf "%s\\n" "GLIBC_TUNABLES=$GLIBC_TUNABLES" "$@"\n', { mode: 0o755 });
    // reached through a symlink, as npm link installs it
    const link = join(dir, 'sphinx');
    symlinkSync(CLIENT_BIN, link);
    const args = ['get', 'a user', "it's", '--', '-x', '$HOME', ''];
    const run = (tunables?: string): string[] => {
      const env = cleanEnv({ PATH: `${fake}:/usr/bin:/bin`, GLIBC_TUNABLES: tunables });
      const r = spawnSync(link, args, { env, encoding: 'utf8' });
      assert.is(r.status, 0, r.stderr);
      return r.stdout.split('\n').slice(0, -1);
    };
    assert.equal(run(), ['GLIBC_TUNABLES=glibc.malloc.hugetlb=1', join(BIN, 'sphinx.js'), ...args]);
    assert.equal(run('glibc.malloc.check=0'), ['GLIBC_TUNABLES=glibc.malloc.check=0:glibc.malloc.hugetlb=1', join(BIN, 'sphinx.js'), ...args]);
    // started directly (no symlink: no readlink), and as `sh sphinx` from its own directory ($0 without a slash)
    const env = cleanEnv({ PATH: `${fake}:/usr/bin:/bin` });
    const direct = spawnSync(CLIENT_BIN, ['x'], { env, encoding: 'utf8' });
    assert.equal(direct.stdout.split('\n').slice(1, -1), [join(BIN, 'sphinx.js'), 'x'], direct.stderr);
    const bare = spawnSync('sh', ['sphinx', 'y'], { env, cwd: BIN, encoding: 'utf8' });
    assert.equal(bare.stdout.split('\n').slice(1, -1), ['./sphinx.js', 'y'], bare.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
