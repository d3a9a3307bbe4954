// The oracle's datadir (oracle/storage.ts): reference layout, compare-and-set
// mutations, crash atomicity (a crash injected at every step of a multi-file
// change leaves the record wholly old or wholly new, for readers and after
// recover()), no cache (operator deletes/restores), per-record serialization.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { toHex } from '../shared/bytes.js';
import { FsStorage, loadMacKey, prepareDatadir, recover } from '../oracle/storage.js';

let root = '';
test.before(() => {
  root = mkdtempSync(join(tmpdir(), 'oracle-storage-'));
});
test.after(() => rmSync(root, { recursive: true, force: true }));

const fresh = (): string => mkdtempSync(join(root, 'dd-'));
const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const hexId = (): string => toHex(rnd(32));
const show = (r: Record<string, Uint8Array> | null): string | null =>
  r === null ? null : Object.keys(r).sort().map((k) => `${k}=${toHex(r[k]!)}`).join(',');

class Crash extends Error {}

test('create, read, compare-and-set, remove; files 0600 in 0700 dirs', async () => {
  const dd = fresh();
  const s = new FsStorage(dd);
  const id = hexId();
  assert.is(await s.read(id, ['key']), null);
  const key = rnd(32);
  assert.ok(await s.commit(id, { exists: false, set: { key, pub: rnd(32), rules: rnd(79) } }));
  assert.not.ok(await s.commit(id, { exists: false, set: { key: rnd(32) } }), 'create of an existing record refused');
  assert.is(statSync(join(dd, id)).mode & 0o777, 0o700);
  for (const f of ['key', 'pub', 'rules']) assert.is(statSync(join(dd, id, f)).mode & 0o777, 0o600);
  const r = (await s.read(id, ['key', 'new']))!;
  assert.is(toHex(r['key']!), toHex(key));
  assert.is(r['new'], undefined);
  assert.not.ok(await s.commit(id, { exists: true, expect: { key: rnd(32) }, set: { new: rnd(32) } }), 'stale expectation refused');
  assert.not.ok(await s.commit(id, { exists: true, expect: { new: rnd(32) }, set: { new: rnd(32) } }), 'expected file absent');
  const n = rnd(32);
  assert.ok(await s.commit(id, { exists: true, expect: { key, new: null }, set: { new: n, key: null } }));
  assert.equal(readdirSync(join(dd, id)).sort(), ['new', 'pub', 'rules']);
  assert.not.ok(await s.remove(id, { new: rnd(32) }), 'remove with a stale expectation refused');
  assert.ok(await s.remove(id, { new: n }));
  assert.is(await s.read(id, []), null);
  assert.equal(readdirSync(dd), [], 'nothing left over');
});

test('difficulty: only for existing records; in place when it exists; replaced when damaged', async () => {
  const dd = fresh();
  const s = new FsStorage(dd);
  const id = hexId();
  let called = false;
  assert.is(await s.updateDifficulty(id, () => ((called = true), new Uint8Array(9))), null);
  assert.not.ok(called, 'no state for a record that does not exist');
  assert.not.ok(existsSync(join(dd, id)));
  await s.commit(id, { exists: false, set: { pub: rnd(32) } });
  const seen: Array<string | null> = [];
  for (const v of [1, 2, 3]) {
    await s.updateDifficulty(id, (prev) => {
      seen.push(prev ? toHex(prev) : null);
      return new Uint8Array(9).fill(v);
    });
  }
  assert.equal(seen, [null, '01'.repeat(9), '02'.repeat(9)]);
  assert.is(statSync(join(dd, id, 'difficulty')).mode & 0o777, 0o600);
  // a damaged (short) state is handed over as is and replaced whole
  await s.commit(id, { set: { difficulty: Uint8Array.of(7) } });
  await s.updateDifficulty(id, (prev) => {
    assert.is(toHex(prev!), '07');
    return new Uint8Array(9).fill(4);
  });
  assert.is(toHex((await s.read(id, ['difficulty']))!['difficulty']!), '04'.repeat(9));
});

const STEPS = ['new-written', 'old-moved', 'swapped'];

test('a crash at every step of a multi-file change leaves the record wholly old or wholly new', async () => {
  for (const step of STEPS) {
    const dd = fresh();
    const id = hexId();
    const base = new FsStorage(dd);
    const old = { key: rnd(32), pub: rnd(32), rules: rnd(79), new: rnd(32), 'pub.new': rnd(32), 'rules.new': rnd(79) };
    await base.commit(id, { exists: false, set: old });
    const oldShow = show((await base.read(id, Object.keys(old)))!);
    // COMMIT-like swap of six files
    const set = { key: old.new, pub: old['pub.new'], rules: old['rules.new'], old: old.key, 'pub.old': old.pub, 'rules.old': old.rules, new: null, 'pub.new': null, 'rules.new': null };
    const crashing = new FsStorage(dd, {
      onStep: (s) => {
        if (s === step) throw new Crash(s);
      },
    });
    await crashing.commit(id, { exists: true, set }).then(
      () => assert.unreachable(`${step}: should have crashed`),
      (e) => assert.instance(e, Crash),
    );
    const names = ['key', 'pub', 'rules', 'new', 'pub.new', 'rules.new', 'old', 'pub.old', 'rules.old'];
    const newShow = show({ key: old.new, pub: old['pub.new'], rules: old['rules.new'], old: old.key, 'pub.old': old.pub, 'rules.old': old.rules });

    // a copy of the crashed datadir, recovered at startup
    const copy = fresh();
    cpSync(dd, copy, { recursive: true });
    await recover(copy);
    assert.equal(readdirSync(copy).filter((n) => n.startsWith('.')), [], `${step}: recover leaves no leftovers`);
    const afterRecover = show(await new FsStorage(copy).read(id, names));

    // the crashed datadir as a fresh process reads it (no recover)
    const afterRead = show(await new FsStorage(dd).read(id, names));
    const expected = step === 'swapped' ? newShow : oldShow;
    assert.is(afterRead, expected, `${step}: reader sees ${step === 'swapped' ? 'new' : 'old'}`);
    assert.is(afterRecover, expected, `${step}: recovered datadir holds ${step === 'swapped' ? 'new' : 'old'}`);

    // and the next change goes through cleanly
    const s2 = new FsStorage(dd);
    assert.ok(await s2.commit(id, { exists: true, set: { rules: rnd(79) } }));
    assert.ok(await s2.commit(id, { exists: true, set: { rules: rnd(79), pub: rnd(32) } }));
    assert.equal(readdirSync(dd).filter((n) => n.startsWith('.')), [], `${step}: no leftovers after the next change`);
  }
});

test('a crash while creating or removing: the record is wholly absent or wholly present', async () => {
  // create crashed before the rename: no record
  let dd = fresh();
  let id = hexId();
  const crashAt = (step: string): FsStorage =>
    new FsStorage(dd, {
      onStep: (s) => {
        if (s === step) throw new Crash(s);
      },
    });
  await crashAt('new-written').commit(id, { exists: false, set: { key: rnd(32), pub: rnd(32) } }).catch((e) => assert.instance(e, Crash));
  assert.is(await new FsStorage(dd).read(id, ['key']), null);
  await recover(dd);
  assert.equal(readdirSync(dd), []);
  // remove crashed after the rename: gone
  dd = fresh();
  id = hexId();
  await new FsStorage(dd).commit(id, { exists: false, set: { key: rnd(32) } });
  await crashAt('removed').remove(id, {}).catch((e) => assert.instance(e, Crash));
  assert.is(await new FsStorage(dd).read(id, ['key']), null);
  await recover(dd);
  assert.equal(readdirSync(dd), []);
});

test('no cache: a record directory deleted or restored by an operator is seen at once', async () => {
  const dd = fresh();
  const s = new FsStorage(dd);
  const id = hexId();
  const key = rnd(32);
  await s.commit(id, { exists: false, set: { key } });
  const backup = fresh();
  cpSync(join(dd, id), join(backup, id), { recursive: true });
  assert.ok(await s.read(id, ['key']));
  rmSync(join(dd, id), { recursive: true });
  assert.is(await s.read(id, ['key']), null);
  assert.is(await s.updateDifficulty(id, () => new Uint8Array(9)), null);
  cpSync(join(backup, id), join(dd, id), { recursive: true });
  assert.is(toHex((await s.read(id, ['key']))!['key']!), toHex(key));
});

test('requests on one record are serialized: of concurrent compare-and-sets on the same state, exactly one wins', async () => {
  const dd = fresh();
  const s = new FsStorage(dd);
  const id = hexId();
  const key = rnd(32);
  await s.commit(id, { exists: false, set: { key } });
  const results = await Promise.all(Array.from({ length: 8 }, () => s.commit(id, { exists: true, expect: { key }, set: { key: rnd(32), rules: rnd(79) } })));
  assert.is(results.filter(Boolean).length, 1);
  // different records proceed independently
  const ids = Array.from({ length: 8 }, hexId);
  const created = await Promise.all(ids.map((i) => s.commit(i, { exists: false, set: { key: rnd(32) } })));
  assert.ok(created.every(Boolean));
});

test('prepareDatadir and loadMacKey: 0700 datadir, a 32-byte 0600 key made once and kept', async () => {
  const dd = join(fresh(), 'sub', 'data');
  await prepareDatadir(dd);
  assert.is(statSync(dd).mode & 0o777, 0o700);
  const k1 = await loadMacKey(dd);
  assert.is(k1.length, 32);
  assert.is(statSync(join(dd, 'key')).mode & 0o777, 0o600);
  const k2 = await loadMacKey(dd);
  assert.is(toHex(k2), toHex(k1));
  assert.equal(readdirSync(dd), ['key']);
});

test.run();
