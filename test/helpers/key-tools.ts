// Checks a converter's output (client/converters.ts) with the real tools:
// OpenSSH's ssh-keygen, age / age-keygen, minisign, oathtool (Debian
// packages openssh-client, age, minisign, oathtool). Secret keys are written
// 0600 into a fresh 0700 temp dir, removed afterwards. Each check also makes
// sure a wrong input fails, so that a tool that accepts anything would show.
import * as assert from 'uvu/assert';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTools, run, tempDir } from './x11-env.js';

async function withDir<T>(tag: string, f: (dir: string) => Promise<T>): Promise<T> {
  const dir = tempDir(tag); // mkdtemp: 0700
  try {
    return await f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const secretFile = (dir: string, name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text.endsWith('\n') ? text : text + '\n', { mode: 0o600 });
  return p;
};

/** ssh-keygen -y of the private key gives exactly `publicLine`; -Y sign / -Y verify round trip; a changed message fails. */
export async function checkSsh(publicLine: string, privateKey: string): Promise<void> {
  requireTools('ssh-keygen');
  await withDir('ssh', async (dir) => {
    const key = secretFile(dir, 'id_ed25519', privateKey);
    const y = await run('ssh-keygen', ['-y', '-f', key]);
    assert.is(y.code, 0, `ssh-keygen -y: ${y.stderr}`);
    assert.is(y.stdout.toString(), publicLine + '\n', 'ssh-keygen -y gives the printed public key');
    const msg = join(dir, 'msg');
    writeFileSync(msg, 'signed by a SPHINX-derived key\n');
    const s = await run('ssh-keygen', ['-Y', 'sign', '-f', key, '-n', 'file', msg]);
    assert.is(s.code, 0, `ssh-keygen -Y sign: ${s.stderr}`);
    const allowed = join(dir, 'allowed_signers');
    writeFileSync(allowed, `signer ${publicLine}\n`);
    const verify = (input: string) =>
      run('ssh-keygen', ['-Y', 'verify', '-f', allowed, '-I', 'signer', '-n', 'file', '-s', `${msg}.sig`], { input });
    const v = await verify(readFileSync(msg, 'utf8'));
    assert.is(v.code, 0, `ssh-keygen -Y verify: ${v.stderr}`);
    assert.is.not((await verify('another message\n')).code, 0, 'ssh-keygen -Y verify refuses another message');
  });
}

/** age-keygen -y of the identity gives `recipient`; age -r encrypts, age -d -i decrypts. */
export async function checkAge(recipient: string, identity: string): Promise<void> {
  requireTools('age', 'age-keygen');
  await withDir('age', async (dir) => {
    const id = secretFile(dir, 'identity', identity);
    const y = await run('age-keygen', ['-y', id]);
    assert.is(y.code, 0, `age-keygen -y: ${y.stderr}`);
    assert.is(y.stdout.toString(), recipient + '\n', 'age-keygen -y gives the printed recipient');
    const ct = join(dir, 'ct.age');
    const e = await run('age', ['-r', recipient, '-o', ct], { input: 'for a SPHINX age identity\n' });
    assert.is(e.code, 0, `age -r: ${e.stderr}`);
    const d = await run('age', ['-d', '-i', id, ct]);
    assert.is(d.code, 0, `age -d: ${d.stderr}`);
    assert.is(d.stdout.toString(), 'for a SPHINX age identity\n');
  });
}

/** minisign -S with the secret key, -V with the public key; a changed file fails. */
export async function checkMinisign(publicKey: string, secretKey: string): Promise<void> {
  requireTools('minisign');
  await withDir('minisign', async (dir) => {
    const sk = secretFile(dir, 'minisign.key', secretKey);
    const pk = join(dir, 'minisign.pub');
    writeFileSync(pk, publicKey + '\n');
    const msg = join(dir, 'msg');
    writeFileSync(msg, 'a release\n');
    const s = await run('minisign', ['-S', '-s', sk, '-m', msg]); // unencrypted key: no passphrase read
    assert.is(s.code, 0, `minisign -S: ${s.stderr}`);
    const v = await run('minisign', ['-V', '-p', pk, '-m', msg]);
    assert.is(v.code, 0, `minisign -V: ${v.stderr}`);
    writeFileSync(msg, 'another release\n');
    assert.is.not((await run('minisign', ['-V', '-p', pk, '-m', msg])).code, 0, 'minisign -V refuses a changed file');
  });
}

/** oathtool's TOTP code of a base32 secret at `unixSeconds` (a 30 s step). */
export async function oathtoolCode(secret: string, unixSeconds: number): Promise<string> {
  requireTools('oathtool');
  const r = await run('oathtool', ['--totp', '-b', '--now', `@${Math.floor(unixSeconds)}`, '-'], { input: secret });
  assert.is(r.code, 0, `oathtool: ${r.stderr}`);
  return r.stdout.toString().trim();
}
