// The extension's builds (npm run build:extension): what the manifests say,
// the zips the stores take, Mozilla's own linter (addons-linter, what
// `web-ext lint` runs) on the Firefox zip, and the host protocol's pure parts
// (extension/protocol.ts). The Chromium build is loaded by a real chromium in
// extension.browser.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync, zipSync } from 'fflate';
import { buildTarget, zipTarget } from '../build/extension.js';
import { CHROME_EXTENSION_ID, FILES, FIREFOX_EXTENSION_ID, manifestFor, SHORTCUT, TARGETS, WEBSPHINX_KEY } from '../extension/manifest.js';
import { changeRequest, createRequest, listRequest, loginRequest, readReply, siteOf } from '../extension/protocol.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/test
const OUT = resolve(here, '../extension');
const version = (JSON.parse(readFileSync(resolve(here, '../../package.json'), 'utf8')) as { version: string }).version;

/** Chromium's id of an extension with this manifest key: the SHA-256 of the key, first 32 hex digits written a-p. */
const chromiumId = (key: string): string =>
  [...createHash('sha256').update(Buffer.from(key, 'base64')).digest('hex').slice(0, 32)].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join('');

async function lint(file: string): Promise<{ errors: Array<{ code: string }>; warnings: Array<{ code: string }> }> {
  const linter = (await import('addons-linter' as string)) as { createInstance(o: unknown): { run(): Promise<any> } };
  const config = { _: [file], logLevel: 'fatal', stack: true, pretty: false, warningsAsErrors: true, metadata: false, output: 'none', boring: true, selfHosted: false, minManifestVersion: 3, maxManifestVersion: 3 };
  return linter.createInstance({ config, runAsBinary: false }).run();
}

test('both builds: MV3, the same files, activeTab + scripting + nativeMessaging and no host permission', () => {
  for (const t of TARGETS) {
    const m = JSON.parse(readFileSync(join(OUT, t, 'manifest.json'), 'utf8'));
    assert.equal(m, manifestFor(t, version));
    assert.is(m.manifest_version, 3);
    assert.equal(m.permissions, ['activeTab', 'scripting', 'nativeMessaging']);
    for (const k of ['host_permissions', 'optional_host_permissions', 'content_scripts', 'web_accessible_resources', 'externally_connectable']) assert.is(m[k], undefined, k);
    assert.equal(m.commands._execute_action.suggested_key, { default: SHORTCUT });
    assert.equal(readdirSync(join(OUT, t)).sort(), ['manifest.json', ...FILES].sort());
  }
});

test('chromium: the websphinx key, so the id is the one installed hosts allow', () => {
  const m = JSON.parse(readFileSync(join(OUT, 'chromium', 'manifest.json'), 'utf8'));
  assert.is(m.key, WEBSPHINX_KEY);
  assert.is(chromiumId(m.key), CHROME_EXTENSION_ID);
  assert.equal(m.background, { service_worker: 'background.js' });
});

test('firefox: gecko id sphinx@ctrlc.hu, an event page, no data collection', () => {
  const m = JSON.parse(readFileSync(join(OUT, 'firefox', 'manifest.json'), 'utf8'));
  assert.is(m.browser_specific_settings.gecko.id, FIREFOX_EXTENSION_ID);
  assert.is(FIREFOX_EXTENSION_ID, 'sphinx@ctrlc.hu');
  assert.equal(m.browser_specific_settings.gecko.data_collection_permissions, { required: ['none'] });
  assert.equal(m.background, { scripts: ['background.js'] });
  assert.is(m.key, undefined);
});

test('no remote code: the scripts load nothing from anywhere, evaluate no strings, and name no URL', () => {
  for (const t of TARGETS)
    for (const f of ['background.js', 'popup.js', 'popup.html']) {
      const s = readFileSync(join(OUT, t, f), 'utf8');
      assert.not.match(s, /:\/\/|\beval\(|new Function|importScripts|fetch\(|XMLHttpRequest|WebSocket|sendBeacon/, `${t}/${f}`);
    }
});

test('the store zips hold exactly the unpacked builds, and building again gives the same bytes', () => {
  for (const t of TARGETS) {
    const file = join(OUT, `sphinx-${t}-${version}.zip`);
    const zipped = readFileSync(file);
    const files = unzipSync(zipped);
    assert.equal(Object.keys(files).sort(), readdirSync(join(OUT, t)).sort());
    for (const [name, bytes] of Object.entries(files)) assert.ok(Buffer.from(bytes).equals(readFileSync(join(OUT, t, name))), name);
    assert.ok(readFileSync(zipTarget(t, buildTarget(t))).equals(zipped), `${t}: rebuilt zip differs`);
  }
});

test('firefox zip: addons-linter (web-ext lint) finds no error and no warning', async () => {
  const r = await lint(join(OUT, `sphinx-firefox-${version}.zip`));
  assert.equal(r.errors, []);
  assert.equal(r.warnings, []);
});

test('addons-linter does fail a manifest Firefox would reject (so the check above can fail)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'extension-lint-'));
  const files = unzipSync(readFileSync(join(OUT, `sphinx-firefox-${version}.zip`)));
  const m = JSON.parse(Buffer.from(files['manifest.json']!).toString('utf8'));
  m.permissions = [...m.permissions, 'no-such-permission'];
  delete m.browser_specific_settings.gecko.id;
  files['manifest.json'] = Buffer.from(JSON.stringify(m));
  writeFileSync(join(dir, 'bad.zip'), zipSync(files));
  const r = await lint(join(dir, 'bad.zip'));
  assert.ok(r.errors.length + r.warnings.length >= 2, JSON.stringify(r.errors) + JSON.stringify(r.warnings));
});

test('protocol: the requests of websphinx.md §2 (change carries no rules and no size)', () => {
  assert.equal(listRequest('a.example'), { cmd: 'list', mode: 'init', site: 'a.example' });
  assert.equal(loginRequest('a.example', 'u'), { cmd: 'login', mode: 'insert', site: 'a.example', name: 'u' });
  assert.equal(changeRequest('a.example', 'u'), { cmd: 'change', mode: 'insert', site: 'a.example', name: 'u' });
  assert.equal(createRequest('a.example', 'u', ['s', 'u', 'd'], 0), { cmd: 'create', mode: 'insert', site: 'a.example', name: 'u', rules: 'uds', size: 0 });
  assert.type(createRequest('a.example', 'u', [], 12), 'string');
  assert.type(createRequest('a.example', ' ', ['u'], 12), 'string');
  assert.type(createRequest('a.example', 'u', ['u'], 128), 'string');
  assert.type(createRequest('a.example', 'u', ['u'], 1.5), 'string');
});

test('protocol: replies are read for the request they answer; anything else is a failure', () => {
  const login = loginRequest('a.example', 'u');
  assert.equal(readReply(login, { results: { password: 'pw', name: 'u', site: 'a.example', cmd: 'login', mode: 'insert' } }), { kind: 'password', password: 'pw', name: 'u' });
  assert.equal(readReply(login, { results: 'fail' }), { kind: 'fail' });
  assert.equal(readReply(login, { results: { password: 'pw', name: 'v', site: 'a.example', cmd: 'login' } }), { kind: 'fail' });
  assert.equal(readReply(login, { results: { password: 'pw', name: 'u', site: 'b.example', cmd: 'login' } }), { kind: 'fail' });
  assert.equal(readReply(login, { results: { password: '', name: 'u', site: 'a.example', cmd: 'login' } }), { kind: 'fail' });
  const list = listRequest('a.example');
  assert.equal(readReply(list, { results: { names: ['x', 'y'], cmd: 'list', mode: 'init', site: 'a.example' } }), { kind: 'names', names: ['x', 'y'] });
  assert.equal(readReply(list, { results: { names: ['no users found'], cmd: 'list', site: 'a.example' } }), { kind: 'names', names: [] });
  assert.equal(readReply(list, { results: { names: [1], cmd: 'list', site: 'a.example' } }), { kind: 'fail' });
  assert.equal(readReply({ cmd: 'commit', mode: 'insert', site: 'a.example', name: 'u' }, { results: { result: true, name: 'u', site: 'a.example', cmd: 'commit' } }), { kind: 'done' });
  assert.equal(readReply({ cmd: 'undo', mode: 'insert', site: 'a.example', name: 'u' }, { results: { result: false, name: 'u', site: 'a.example', cmd: 'undo' } }), { kind: 'fail' });
  assert.equal(readReply(login, null), { kind: 'fail' });
});

test('protocol: the site is the page\'s host name, web pages only', () => {
  assert.is(siteOf('https://Shop.Example.net:8443/login?x=1'), 'shop.example.net');
  assert.is(siteOf('http://127.0.0.1:3000/'), '127.0.0.1');
  assert.is(siteOf('chrome://extensions/'), null);
  assert.is(siteOf('file:///etc/passwd'), null);
  assert.is(siteOf(undefined), null);
  assert.is(siteOf('not a url'), null);
});

test.run();
