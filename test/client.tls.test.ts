// TLS to the oracle: pinning (self-signed and CA-issued leaves), refusal
// before any byte is written, the CA path, session resumption, error lines.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as netServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import selfsigned from 'selfsigned';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConnectionError, ClientError } from '../client/errors.js';
import { checkPin, Connector, loadPinned, parsePemCertificates } from '../client/tls.js';

interface Pem {
  key: string;
  cert: string;
}

const san = { name: 'subjectAltName' as const, altNames: [{ type: 2 as const, value: 'localhost' }, { type: 7 as const, ip: '127.0.0.1' }] };
async function selfSigned(cn: string): Promise<Pem> {
  const r = await selfsigned.generate([{ name: 'commonName', value: cn }], { keyType: 'ec', algorithm: 'sha256', extensions: [san] });
  return { key: r.private, cert: r.cert };
}

let A: Pem, B: Pem, CA: Pem, LEAF: Pem;
const dir = mkdtempSync(join(tmpdir(), 'sphinx-client-tls-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

interface TestServer {
  server: Server;
  port: number;
  received: number;
  connections: number;
}

/** Echoes whatever arrives; counts the application bytes received. */
async function startServer(pem: Pem, chain = ''): Promise<TestServer> {
  const s: TestServer = { server: null as unknown as Server, port: 0, received: 0, connections: 0 };
  s.server = createServer({ key: pem.key, cert: pem.cert + '\n' + chain }, (sock: TLSSocket) => {
    s.connections++;
    sock.on('data', (d: Buffer) => {
      s.received += d.length;
      sock.write(d);
    });
    sock.on('error', () => undefined);
  });
  s.server.listen(0, '127.0.0.1');
  await once(s.server, 'listening');
  s.port = (s.server.address() as AddressInfo).port;
  return s;
}

const stop = (s: TestServer): Promise<void> => new Promise((r) => s.server.close(() => r()));

test.before(async () => {
  [A, B] = await Promise.all([selfSigned('oracle-a'), selfSigned('oracle-b')]);
  const ca = await selfsigned.generate([{ name: 'commonName', value: 'Test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }],
  });
  CA = { key: ca.private, cert: ca.cert };
  const leaf = await selfsigned.generate([{ name: 'commonName', value: 'oracle.example' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: CA.key, cert: CA.cert },
    extensions: [{ name: 'basicConstraints', cA: false }, san],
  });
  LEAF = { key: leaf.private, cert: leaf.cert };
});

async function roundTrip(c: Connector): Promise<string> {
  const conn = await c.connect();
  conn.write(new TextEncoder().encode('ping'));
  const got = await conn.read(4);
  conn.close();
  return new TextDecoder().decode(got);
}

async function refused(c: Connector, re: RegExp): Promise<ClientError> {
  try {
    await c.connect();
  } catch (e) {
    assert.instance(e, ConnectionError);
    assert.is((e as ClientError).exitCode, 1);
    assert.match((e as Error).message, re);
    assert.not.match((e as Error).message, /\n/);
    return e as ClientError;
  }
  assert.unreachable('connection should have been refused');
  throw new Error();
}

test('checkPin is an exact DER comparison', () => {
  const [a] = parsePemCertificates(A.cert);
  const [b] = parsePemCertificates(B.cert);
  assert.ok(checkPin(a, [a!]).ok);
  assert.ok(checkPin(a, [b!, a!]).ok);
  assert.not.ok(checkPin(a, [b!]).ok);
  assert.not.ok(checkPin(undefined, [a!]).ok);
  const flipped = Buffer.from(a!);
  flipped[flipped.length - 1]! ^= 1;
  assert.not.ok(checkPin(flipped, [a!]).ok);
  assert.not.ok(checkPin(a!.subarray(0, a!.length - 1), [a!]).ok);
});

test('parsePemCertificates reads every certificate of a file', () => {
  assert.is(parsePemCertificates(LEAF.cert + '\n' + CA.cert).length, 2);
  assert.is(parsePemCertificates('garbage').length, 0);
});

test('loadPinned: clear errors for a missing or empty file', () => {
  try {
    loadPinned(join(dir, 'nope.pem'));
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /cannot read ssl_cert .*nope\.pem \(ENOENT\)/);
  }
  try {
    loadPinned(file('empty.pem', 'hello'));
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /holds no PEM certificate/);
  }
});

test('pinned self-signed certificate: connects (no host name check), resumes the session', async () => {
  const s = await startServer(A);
  try {
    // host name 127.0.0.1 is not checked against anything when pinned
    const c = new Connector({ host: '127.0.0.1', port: s.port, pinned: loadPinned(file('a.pem', A.cert)) });
    assert.is(await roundTrip(c), 'ping');
    assert.is(await roundTrip(c), 'ping');
    assert.is(c.opened, 2);
    assert.is(c.resumed, 1, 'second connection resumed the first TLS session');
  } finally {
    await stop(s);
  }
});

test('pinned certificate mismatch: refused before a single byte is written', async () => {
  const s = await startServer(A);
  try {
    const c = new Connector({ host: '127.0.0.1', port: s.port, pinned: loadPinned(file('b.pem', B.cert)), sslCertPath: join(dir, 'b.pem') });
    await refused(c, /certificate mismatch: .*SHA-256 [0-9A-F:]+.*b\.pem/);
    await new Promise((r) => setTimeout(r, 100));
    assert.is(s.received, 0, 'no application data reached the server');
  } finally {
    await stop(s);
  }
});

test('a leaf issued by a CA can be pinned; pinning the CA does not trust its leaves', async () => {
  const s = await startServer(LEAF, CA.cert);
  try {
    const ok = new Connector({ host: 'localhost', port: s.port, pinned: loadPinned(file('leaf.pem', LEAF.cert)) });
    assert.is(await roundTrip(ok), 'ping');
    const caOnly = new Connector({ host: 'localhost', port: s.port, pinned: loadPinned(file('ca.pem', CA.cert)) });
    await refused(caOnly, /certificate mismatch/);
  } finally {
    await stop(s);
  }
});

test('no ssl_cert: a self-signed oracle is not trusted', async () => {
  const s = await startServer(A);
  try {
    const c = new Connector({ host: 'localhost', port: s.port });
    await refused(c, /not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\).*set ssl_cert/);
    assert.is(s.received, 0);
  } finally {
    await stop(s);
  }
});

test('connection refused and handshake timeout are explained', async () => {
  const tmp = netServer();
  tmp.listen(0, '127.0.0.1');
  await once(tmp, 'listening');
  const port = (tmp.address() as AddressInfo).port;
  await new Promise<void>((r) => tmp.close(() => r()));
  await refused(new Connector({ host: '127.0.0.1', port }), /cannot reach the oracle at 127\.0\.0\.1:\d+: connection refused/);

  // a server that accepts TCP but never speaks TLS
  const silent = netServer(() => undefined);
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  const sp = (silent.address() as AddressInfo).port;
  try {
    await refused(new Connector({ host: '127.0.0.1', port: sp, connectTimeoutMs: 300 }), /timed out connecting/);
  } finally {
    silent.close();
    // drop the accepted socket
  }
});

test.after(() => undefined);

/**
 * The unpinned path with a CA the process trusts (as a Let's Encrypt oracle is
 * trusted through the system store): a child node with NODE_EXTRA_CA_CERTS
 * connects through the client's Connector and reports what happened.
 */
async function viaTrustedCa(port: number, host: string): Promise<{ ok: boolean; text: string }> {
  const tlsModule = join(dirname(fileURLToPath(import.meta.url)), '../client/tls.js');
  const script = `
    const { Connector } = await import(${JSON.stringify(tlsModule)});
    const c = new Connector({ host: ${JSON.stringify(host)}, port: ${port} });
    try {
      const conn = await c.connect();
      conn.write(new TextEncoder().encode('ping'));
      const got = new TextDecoder().decode(await conn.read(4));
      conn.close();
      console.log(JSON.stringify({ ok: true, text: got }));
    } catch (e) {
      console.log(JSON.stringify({ ok: false, text: e.name + ': ' + e.message }));
    }`;
  // Asynchronously: the test servers run in this process's event loop.
  const { stdout: out } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: file('trusted-ca.pem', CA.cert) },
    encoding: 'utf8',
    timeout: 20000,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as { ok: boolean; text: string };
}

test('no ssl_cert, a CA the system trusts: its leaf is accepted for a name in the certificate, refused for another', async () => {
  const other = await selfsigned.generate([{ name: 'commonName', value: 'elsewhere.example' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: CA.key, cert: CA.cert },
    extensions: [{ name: 'basicConstraints', cA: false }, { name: 'subjectAltName', altNames: [{ type: 2, value: 'elsewhere.example' }] }],
  });
  const good = await startServer(LEAF, CA.cert);
  const wrongName = await startServer({ key: other.private, cert: other.cert }, CA.cert);
  try {
    const a = await viaTrustedCa(good.port, 'localhost');
    assert.equal(a, { ok: true, text: 'ping' }, 'CA-issued leaf for localhost, trusted CA');
    const b = await viaTrustedCa(wrongName.port, 'localhost');
    assert.not.ok(b.ok, 'a trusted CA but a certificate for another name');
    assert.match(b.text, /ConnectionError: the certificate of the oracle at localhost:\d+ is not trusted \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
    assert.is(wrongName.received, 0, 'nothing was sent to the wrong-name server');
  } finally {
    await stop(good);
    await stop(wrongName);
  }
});

test.run();
