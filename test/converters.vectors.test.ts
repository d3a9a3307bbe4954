// test/vectors/converters.json: the converters' derivation (client/converters.ts)
// gives the recorded texts, and the recorded texts are what the real tools
// accept: the seed is recomputed with Python's hashlib (keyed BLAKE2b), the
// keys checked with ssh-keygen, age-keygen/age and minisign, the TOTP codes
// with oathtool. Also the pure parts of the CLI's converter handling.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { base64 } from '@scure/base';
import { converterOf, converterRun, KEY_KINDS, keySeed, keyTexts, totp, totpKey, type KeyKind } from '../client/converters.js';
import { ClientError } from '../client/errors.js';
import { checkAge, checkMinisign, checkSsh, oathtoolCode } from './helpers/key-tools.js';
import { hex, loadVectors, toHex } from './helpers/vectors.js';
import { requireTools, run } from './helpers/x11-env.js';

interface KeyCase {
  recordSecret: string;
  comment: string;
  [kind: string]: string | { seed: string; public: string; secret: string };
}
const V = loadVectors('converters') as { keys: KeyCase[]; totp: { secret: string; time: number; code: string }[] };
const kinds = (c: KeyCase) => KEY_KINDS.map((k) => [k, c[k] as { seed: string; public: string; secret: string }] as const);

test('vectors: seeds, public and secret texts of every key kind', () => {
  assert.ok(V.keys.length >= 2);
  for (const c of V.keys) {
    for (const [k, want] of kinds(c)) {
      assert.is(toHex(keySeed(k, hex(c.recordSecret))), want.seed, `${k} seed`);
      const t = keyTexts(k, hex(c.recordSecret), c.comment);
      assert.is(t.publicText, want.public, `${k} public`);
      assert.is(t.secretText, want.secret, `${k} secret`);
    }
  }
});

test('vectors: the seed is keyed BLAKE2b-256 of "sphinx-ts KIND v1" (Python hashlib)', async () => {
  requireTools('python3');
  for (const c of V.keys) {
    for (const [k, want] of kinds(c)) {
      const py = `import hashlib,sys;print(hashlib.blake2b(b"sphinx-ts ${k} v1",key=bytes.fromhex(sys.argv[1]),digest_size=32).hexdigest())`;
      const r = await run('python3', ['-c', py, c.recordSecret]);
      assert.is(r.stdout.toString().trim(), want.seed, `${k}`);
    }
  }
});

test('vectors: the secret keys hold the seed (OpenSSH private section, age identity, minisign sk)', () => {
  for (const c of V.keys) {
    for (const [k, want] of kinds(c)) {
      let bytes: Uint8Array;
      if (k === 'ssh-ed25519') bytes = base64.decode(want.secret.split('\n').slice(1, -1).join(''));
      else if (k === 'minisig') bytes = base64.decode(want.secret.split('\n')[1]!);
      else bytes = new Uint8Array(0);
      if (k === 'age') assert.ok(want.secret.startsWith('AGE-SECRET-KEY-1') && want.public.startsWith('age1'));
      else assert.ok(toHex(bytes).includes(want.seed), `${k}: the seed is in the secret key`);
    }
  }
});

test('vectors: ssh-keygen -y / -Y sign / -Y verify accept the ssh-ed25519 keys', async () => {
  for (const c of V.keys) {
    const k = c['ssh-ed25519'] as { public: string; secret: string };
    await checkSsh(k.public, k.secret);
  }
});

test('vectors: age-keygen -y and age -r / -d accept the age keys', async () => {
  for (const c of V.keys) {
    const a = c['age'] as { public: string; secret: string };
    await checkAge(a.public, a.secret);
  }
});

test('vectors: minisign -S / -V accept the minisig keys', async () => {
  for (const c of V.keys) {
    const m = c['minisig'] as { public: string; secret: string };
    await checkMinisign(m.public, m.secret);
  }
});

test('vectors: TOTP codes (RFC 6238 appendix B secret), equal to oathtool', async () => {
  for (const v of V.totp) {
    assert.is(totp(v.secret, v.time), v.code, `t=${v.time}`);
    assert.is(await oathtoolCode(v.secret, v.time), v.code, `oathtool t=${v.time}`);
  }
  // the code changes at the step boundary, not inside a step
  assert.is(totp(V.totp[0]!.secret, 30), totp(V.totp[0]!.secret, 59));
  assert.is.not(totp(V.totp[0]!.secret, 59), totp(V.totp[0]!.secret, 60));
});

test('totpKey: lower case, spaces and padding are accepted; other text is refused', () => {
  assert.equal(totpKey('jbsw y3dp ehpk 3pxp'), totpKey('JBSWY3DPEHPK3PXP'));
  assert.equal(totpKey('JBSWY3DPEHPK3PXP======'), totpKey('JBSWY3DPEHPK3PXP'));
  assert.throws(() => totpKey('JBSWY3DPEHPK3PX1'), /not base32/);
  assert.throws(() => totpKey(''), /not base32/);
  assert.throws(() => totpKey('A'), /not valid base32/);
});

test('converterOf: the four prefixes; other user names are plain records', () => {
  assert.equal(converterOf('otp://alice'), { kind: 'otp', name: 'alice' });
  assert.equal(converterOf('ssh-ed25519://deploy'), { kind: 'ssh-ed25519', name: 'deploy' });
  assert.equal(converterOf('age://backup'), { kind: 'age', name: 'backup' });
  assert.equal(converterOf('minisig://release'), { kind: 'minisig', name: 'release' });
  for (const u of ['alice', 'https://x', 'OTP://a', ' otp://a', 'otp:/a']) assert.is(converterOf(u), null, u);
});

test('converterRun: refusals before anything is sent', () => {
  const refuses = (c: Parameters<typeof converterRun>[0], re: RegExp): void => {
    try {
      converterRun(c);
    } catch (e) {
      assert.instance(e, ClientError);
      assert.match((e as Error).message, re);
      return;
    }
    assert.unreachable(`${JSON.stringify(c)} was accepted`);
  };
  refuses({ cmd: 'create', user: 'otp://a', site: 's', rule: {} }, /--target/);
  refuses({ cmd: 'create', user: 'otp://a', site: 's', rule: { target: 'not base32!' } }, /not base32/);
  refuses({ cmd: 'get', user: 'alice', site: 's', raw: true }, /--raw only applies to otp/);
  refuses({ cmd: 'get', user: 'age://a', site: 's', raw: true }, /--raw only applies to otp/);
  refuses({ cmd: 'create', user: 'ssh-ed25519://a', site: 's', rule: { target: 'x' } }, /no target password/);
  assert.is(converterRun({ cmd: 'get', user: 'alice', site: 's' }), null);
  const otp = converterRun({ cmd: 'get', user: 'otp://a', site: 's' })!;
  assert.is(otp.render, undefined, 'otp:// uses the stored password');
  assert.is(otp.finish('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 59), '287082');
  assert.is(converterRun({ cmd: 'get', user: 'otp://a', site: 's', raw: true })!.finish('GEZD', 59), 'GEZD');
  assert.throws(() => otp.finish('hunter2!', 59), (e: unknown) => e instanceof ClientError && /does not hold a TOTP secret/.test((e as Error).message));
});

test('converterRun: keys print the public text on create/change, the secret on get; comment NAME@SITE', () => {
  const c = V.keys[0]!;
  const [name, site] = c.comment.split('@') as [string, string];
  for (const k of KEY_KINDS as readonly KeyKind[]) {
    const want = c[k] as { public: string; secret: string };
    for (const cmd of ['create', 'change', 'get'] as const) {
      const r = converterRun({ cmd, user: `${k}://${name}`, site, rule: {} })!;
      assert.is(r.render!(hex(c.recordSecret)), cmd === 'get' ? want.secret : want.public, `${k} ${cmd}`);
    }
  }
});

test.run();
