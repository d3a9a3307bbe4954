// websphinx in a real browser (websphinx.md §7): Debian's chromium, headless,
// loads a small MV3 test extension that carries the websphinx manifest key
// (so its id is ojbhlhidchjkmjmpeonendekpoacahni). The host manifest is the
// one `websphinx install --browser chromium` writes under a scratch HOME. The
// extension's service worker connects with connectNative("websphinx"), sends
// what the websphinx extensions send (list, login, the automatic change,
// commit) and posts the replies to a server of this test on 127.0.0.1. The
// passwords must equal `sphinx get`'s.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { startOracle, type RunningOracle } from './helpers/oracle-process.js';
import { cleanEnv } from './helpers/cli.js';
import { HOST_MAIN, scriptedPinentry, userHome } from './helpers/websphinx.js';
import { startChromium } from './helpers/chromium.js';
import { CHROME_EXTENSION_ID, WEBSPHINX_KEY as KEY } from '../extension/manifest.js';

const MANIFEST = {
  manifest_version: 3,
  name: 'websphinx host test',
  version: '1.0',
  key: KEY,
  permissions: ['nativeMessaging'],
  host_permissions: ['http://127.0.0.1/*'],
  background: { service_worker: 'sw.js' },
};

// The service worker: the message sequence of the websphinx extensions,
// including their automatic change (the login reply, cmd = "change", minus
// password, sent back as the request).
const SERVICE_WORKER = String.raw`
(async () => {
  const cfg = await (await fetch(chrome.runtime.getURL('config.json'))).json();
  const report = (o) => fetch('http://127.0.0.1:' + cfg.port + '/report', { method: 'POST', body: JSON.stringify(o) });
  const replies = [];
  let port;
  try {
    port = chrome.runtime.connectNative('websphinx');
  } catch (e) {
    await report({ error: String(e), replies });
    return;
  }
  port.onDisconnect.addListener(() => report({ error: 'disconnected: ' + (chrome.runtime.lastError ? chrome.runtime.lastError.message : ''), replies }));
  port.onMessage.addListener((m) => {
    replies.push(m);
    const r = m.results;
    if (replies.length === 1) port.postMessage({ cmd: 'login', mode: 'insert', site: cfg.site, name: r.names[0] });
    else if (replies.length === 2) {
      const req = Object.assign({}, r);
      req.cmd = 'change';
      delete req.password;
      port.postMessage(req);
    } else if (replies.length === 3) port.postMessage({ cmd: 'commit', mode: 'insert', site: cfg.site, name: r.name });
    else report({ id: chrome.runtime.id, replies }).then(() => port.disconnect());
  });
  port.postMessage({ cmd: 'list', mode: 'init', site: cfg.site });
})();
`;

const MASTER = 'browser master % password';
const MASTER2 = 'the new one, for the change';
const SITE = 'shop.example.net';
const USER = 'carol';

let oracle: RunningOracle | null = null;
let server: Server | null = null;

test('chromium + test extension + `websphinx install --browser chromium`: the passwords equal sphinx get\'s', async () => {
  oracle = await startOracle();
  const pin = scriptedPinentry(mkdtempSync(join(tmpdir(), 'websphinx-pin-')));
  const u = await userHome(oracle, {}, { pinentry: pin.path });
  const created = await u.sphinx(['create', USER, SITE, 'uld', '16'], MASTER);
  assert.is(created.code, 0, created.stderr);

  const env = cleanEnv({ HOME: u.home, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` });
  const inst = spawnSync(process.execPath, [HOST_MAIN, 'install', '--browser', 'chromium'], { env, encoding: 'utf8' });
  assert.is(inst.status, 0, inst.stderr);
  const manifestFile = join(u.home, '.config/chromium/NativeMessagingHosts/websphinx.json');
  assert.is(inst.stdout, `wrote ${manifestFile}\n`);

  let report: (v: any) => void = () => undefined;
  const reported = new Promise<any>((r) => (report = r));
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      res.writeHead(200, { 'access-control-allow-origin': '*' }).end('ok');
      if (req.url === '/report') report(JSON.parse(body));
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;

  const ext = join(u.home, 'extension');
  mkdirSync(ext);
  writeFileSync(join(ext, 'manifest.json'), JSON.stringify(MANIFEST));
  writeFileSync(join(ext, 'sw.js'), SERVICE_WORKER);
  writeFileSync(join(ext, 'config.json'), JSON.stringify({ port, site: SITE }));

  pin.answer({ pin: MASTER }, { pin: MASTER2 }, { pin: MASTER2 }, { confirm: true });
  const browser = startChromium({ home: u.home, env, args: [`--load-extension=${ext}`, 'about:blank'] });
  let got: any;
  let timer: NodeJS.Timeout | undefined;
  try {
    got = await Promise.race([
      reported,
      new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`no report from the extension within 120 s; chromium's stderr:\n${browser.stderr().slice(-4000)}`)), 120_000))),
    ]);
  } finally {
    clearTimeout(timer); // else it keeps the test runner alive for two minutes after the last test
    await browser.stop();
  }
  assert.is(got.error, undefined, `${got.error}\n${JSON.stringify(got.replies)}\n${browser.stderr().slice(-4000)}`);
  assert.is(got.id, CHROME_EXTENSION_ID);
  const [list, login, change, commit] = got.replies;
  assert.equal(list, { results: { names: [USER], cmd: 'list', mode: 'init', site: SITE } });
  assert.is(login.results.password, created.stdout.replace(/\n$/, ''));
  assert.match(change.results.password, /^[A-Za-z0-9]{16}$/);
  assert.equal(commit, { results: { result: true, name: USER, site: SITE, cmd: 'commit', mode: 'insert' } });
  assert.is(await u.expected(MASTER2, USER, SITE), change.results.password);
  assert.equal(pin.left(), []);
  assert.equal(JSON.parse(readFileSync(manifestFile, 'utf8')).path, HOST_MAIN);
});

test.after(async () => {
  server?.close();
  server?.closeAllConnections(); // a connection chromium left half-closed must not keep the test runner alive
  await oracle?.stop();
});

test.run();
