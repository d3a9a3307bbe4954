// Development certificate: with no ssl_cert/ssl_key configured, the oracle
// generates a self-signed ECDSA P-256 certificate for localhost/127.0.0.1/::1
// into its datadir on first start and reuses it afterwards. Clients pin it
// with `ssl_cert = <datadir>/dev-cert.pem`. Phones (androsphinx) refuse it:
// production needs a CA-signed certificate.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { writeFileAtomic } from './storage.js';

export const DEV_CERT_FILE = 'dev-cert.pem';
export const DEV_KEY_FILE = 'dev-key.pem';

const writeAtomic = (path: string, text: string, mode: number): Promise<void> => writeFileAtomic(path, text, mode, `${path}.${process.pid}.tmp`);

async function usable(certPath: string, keyPath: string): Promise<boolean> {
  try {
    const [cert, key] = await Promise.all([readFile(certPath, 'latin1'), readFile(keyPath, 'latin1')]);
    const x = new X509Certificate(cert);
    return key.includes('PRIVATE KEY') && new Date(x.validTo).getTime() > Date.now() + 86400_000;
  } catch {
    return false;
  }
}

/** Paths of the development certificate and key in `datadir`, generated if missing, unreadable or about to expire. */
export async function ensureDevCert(datadir: string): Promise<{ certPath: string; keyPath: string; generated: boolean }> {
  const certPath = join(datadir, DEV_CERT_FILE);
  const keyPath = join(datadir, DEV_KEY_FILE);
  if (await usable(certPath, keyPath)) return { certPath, keyPath, generated: false };
  const notBeforeDate = new Date(Date.now() - 3600_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 825 * 86400_000);
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  await writeAtomic(keyPath, pems.private, 0o600);
  await writeAtomic(certPath, pems.cert, 0o644);
  return { certPath, keyPath, generated: true };
}
