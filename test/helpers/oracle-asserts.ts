// Assertions on a running oracle shared by the oracle test files (uvu assert;
// not a test file itself).
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { toHex } from '../../shared/bytes.js';
import { FAILED, Wire, newGen, newUserList, randomAlpha, readRecord, type Gen, type UserList } from './wire.js';
import { respond } from '../../oracle/crypto.js';

/** A record made over the protocol (in `list`, default a new one); returns its id and generation. */
export async function makeRecord(w: Wire, list: UserList = newUserList()): Promise<{ id: Uint8Array; gen: Gen }> {
  const id = new Uint8Array(randomBytes(32));
  const gen = newGen();
  assert.ok(await w.create(id, gen, list), 'CREATE');
  return { id, gen };
}

/** A full GET (challenge, puzzle, verify + GET) answered with the stored rules and k·alpha of the stored key. */
export async function assertGet(o: { datadir: string }, w: Wire, id: Uint8Array, gen: Gen, what: string): Promise<void> {
  const alpha = randomAlpha();
  const r = await w.get(id, alpha);
  assert.ok(r !== FAILED, `${what}: GET answered fail`);
  assert.is(toHex(r.rules), toHex(gen.rules), `${what}: GET returns the stored rules`);
  const key = readRecord(o.datadir, id)!.get('key')!;
  assert.is(toHex(r.beta), toHex(respond(alpha, key)), `${what}: beta = k·alpha`);
}
