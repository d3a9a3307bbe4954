// `websphinx install` / `uninstall` / --help / --version as commands (the
// BUILT host, a scratch HOME): exactly which files are written and removed,
// and what they hold.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { cleanEnv } from './helpers/cli.js';
import { HOST_MAIN } from './helpers/websphinx.js';

const run = (home: string, ...args: string[]) => spawnSync(process.execPath, [HOST_MAIN, ...args], { env: cleanEnv({ HOME: home }), cwd: home, encoding: 'utf8' });

/** Every file under dir (relative paths, sorted). */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) (e.isDirectory() ? walk : (p: string) => out.push(relative(dir, p)))(join(d, e.name));
  };
  walk(dir);
  return out.sort();
}

const FF = '.mozilla/native-messaging-hosts/websphinx.json';
const CR = '.config/chromium/NativeMessagingHosts/websphinx.json';
const GC = '.config/google-chrome/NativeMessagingHosts/websphinx.json';
const CHROME_ORIGIN = 'chrome-extension://ojbhlhidchjkmjmpeonendekpoacahni/';

test('install --browser chromium writes one manifest with the host\'s absolute path; uninstall removes exactly it', () => {
  const home = mkdtempSync(join(tmpdir(), 'websphinx-inst-'));
  const r = run(home, 'install', '--browser', 'chromium');
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, `wrote ${join(home, CR)}\n`);
  assert.equal(files(home), [CR]);
  const m = JSON.parse(readFileSync(join(home, CR), 'utf8'));
  assert.equal(m, { name: 'websphinx', description: m.description, path: HOST_MAIN, type: 'stdio', allowed_origins: [CHROME_ORIGIN] });
  assert.is(statSync(join(home, CR)).mode & 0o777, 0o644);
  const u = run(home, 'uninstall');
  assert.is(u.status, 0, u.stderr);
  assert.is(u.stdout, `removed ${join(home, CR)}\n`);
  assert.equal(files(home), []);
  const again = run(home, 'uninstall');
  assert.is(again.status, 0);
  assert.match(again.stderr, /no host manifest was installed/);
});

test('install --browser all: firefox (allowed_extensions), chromium, chrome; uninstall --browser firefox removes only that one', () => {
  const home = mkdtempSync(join(tmpdir(), 'websphinx-inst-'));
  assert.is(run(home, 'install', '--browser', 'all').status, 0);
  assert.equal(files(home), [GC, CR, FF].sort());
  const ff = JSON.parse(readFileSync(join(home, FF), 'utf8'));
  assert.equal(ff.allowed_extensions, ['sphinx@ctrlc.hu']);
  assert.is(ff.allowed_origins, undefined);
  assert.equal(JSON.parse(readFileSync(join(home, GC), 'utf8')).allowed_origins, [CHROME_ORIGIN]);
  const u = run(home, 'uninstall', '--browser', 'firefox');
  assert.is(u.stdout, `removed ${join(home, FF)}\n`);
  assert.equal(files(home), [GC, CR].sort());
});

test('install without --browser: only the browsers with a profile; none: an error naming --browser, nothing written', () => {
  const home = mkdtempSync(join(tmpdir(), 'websphinx-inst-'));
  const none = run(home, 'install');
  assert.is(none.status, 1);
  assert.match(none.stderr, /^websphinx: error: no Firefox, Chromium or Chrome profile found under .*--browser/);
  assert.equal(files(home), []);
  mkdirSync(join(home, '.mozilla', 'firefox'), { recursive: true });
  assert.is(run(home, 'install').status, 0);
  assert.equal(files(home), [FF]);
});

test('usage errors exit 100 with the usage text; --help and --version exit 0', () => {
  const home = mkdtempSync(join(tmpdir(), 'websphinx-inst-'));
  for (const args of [['install', '--browser', 'opera'], ['install', '--bogus'], ['install', 'extra'], ['--frob']]) {
    const r = run(home, ...args);
    assert.is(r.status, 100, args.join(' '));
    assert.match(r.stderr, /^websphinx: error: .*\n\nusage:/);
    assert.is(r.stdout, '');
  }
  assert.equal(files(home), []);
  const h = run(home, '--help');
  assert.is(h.status, 0);
  assert.match(h.stdout, /websphinx install \[--browser firefox\|chromium\|chrome\|all\] \[--system\]/);
  const v = run(home, '--version');
  assert.is(v.status, 0);
  const pkg = JSON.parse(readFileSync(join(HOST_MAIN, '../../../package.json'), 'utf8')) as { version: string };
  assert.is(v.stdout, `websphinx (sphinx-ts) ${pkg.version}\n`);
});

test('a host that is not executable is refused with what to do', () => {
  const home = mkdtempSync(join(tmpdir(), 'websphinx-inst-'));
  const mode = statSync(HOST_MAIN).mode & 0o777;
  chmodSync(HOST_MAIN, 0o644);
  try {
    const r = run(home, 'install', '--browser', 'chrome');
    assert.is(r.status, 1);
    assert.match(r.stderr, /is not executable: run `npm run build`/);
    assert.equal(files(home), []);
  } finally {
    chmodSync(HOST_MAIN, mode);
  }
});

test.run();
