// Fuzzing the real oracle (issue 14, "the audit figures hold"): the built
// oracle as a child process on 127.0.0.1, fed malformed messages over real
// TLS by 8 concurrent senders: random bytes, every valid message of the
// protocol truncated, extended or with flipped bits (CREATE, CHALLENGE_CREATE,
// CHALLENGE_VERIFY with a solved puzzle, the auth and user-list steps),
// unknown op codes, and resets mid-message. Afterwards the oracle must still
// be running, every record's files must be byte for byte as before, and a GET
// of each record must be answered. Prints the counts.
//
//   node dist/bench/oracle-fuzz.js [messages]      (default 3000)
// or as a bench area: node dist/bench/run.js oracle-fuzz
import { randomBytes, randomInt } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Op } from '../shared/constants.js';
import * as msg from '../shared/messages.js';
import { solve } from '../shared/equihash.js';
import { startOracle } from '../test/helpers/oracle-process.js';
import { FAILED, Wire, newGen, newUserList, randomAlpha, readRecord, type Gen } from '../test/helpers/wire.js';
import { signDetached } from '../client/crypto.js';

const SERVER = { rl_threshold: 4294967295, create_rate: 0, timeout: 2, max_kids: 8 };

/** Record files that must never change under fuzzing (difficulty may). */
const snapshot = (datadir: string, id: Uint8Array): string => {
  const files = readRecord(datadir, id);
  if (!files) return 'missing';
  return [...files.entries()]
    .filter(([n]) => n !== 'difficulty')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([n, b]) => `${n}=${b.toString('hex')}`)
    .join(',');
};

function mutate(m: Uint8Array): Uint8Array {
  const b = new Uint8Array(m);
  switch (randomInt(5)) {
    case 0: // truncate
      return b.subarray(0, randomInt(Math.max(1, b.length)));
    case 1: // extend with junk
      return Uint8Array.from([...b, ...randomBytes(1 + randomInt(200))]);
    case 2: // flip bits
      for (let i = 0, n = 1 + randomInt(4); i < n; i++) b[randomInt(b.length)]! ^= 1 << randomInt(8);
      return b;
    case 3: // a random byte replaced
      b[randomInt(b.length)] = randomInt(256);
      return b;
    default: // the op byte replaced
      b[0] = randomInt(256);
      return b;
  }
}

export async function main(): Promise<void> {
  const total = Number(process.argv[2] && /^\d+$/.test(process.argv[2]) ? process.argv[2] : 3000);
  const o = await startOracle({ server: SERVER });
  const w = new Wire(o, { readTimeoutMs: 5000 });
  const recs: Array<{ id: Uint8Array; gen: Gen; list: ReturnType<typeof newUserList> }> = [];
  for (let i = 0; i < 4; i++) {
    const id = new Uint8Array(randomBytes(32));
    const gen = newGen();
    const list = newUserList();
    if (!(await w.create(id, gen, list))) throw new Error('CREATE failed');
    recs.push({ id, gen, list });
  }
  const before = recs.map((r) => snapshot(o.datadir, r.id));

  // Valid messages to start from (a solved verify packet per rate-limited op).
  const seeds: Uint8Array[] = [];
  for (const r of recs) {
    seeds.push(msg.createRequest(r.id, randomAlpha()));
    seeds.push(msg.createRequest(new Uint8Array(randomBytes(32)), randomAlpha()));
    for (const op of [Op.GET, Op.CHANGE, Op.COMMIT, Op.UNDO, Op.DELETE]) {
      const req = msg.buildRequest(op, r.id, randomAlpha());
      seeds.push(msg.challengeCreatePacket(req));
      const ch = await w.challenge(req);
      if (ch === FAILED) throw new Error('challenge refused');
      const sol = await solve(ch.n, ch.k, msg.puzzleSeed(ch.bytes, req));
      // verify packet followed by a forged auth signature / user-list step
      const pkt = msg.challengeVerifyPacket(ch.bytes, req, sol);
      seeds.push(pkt);
      seeds.push(Uint8Array.from([...pkt, ...randomBytes(64), ...msg.userListRequest(r.list.uid, (m) => signDetached(r.gen.kp.privateKey, m))]));
    }
    const readReq = msg.buildRequest(Op.READ, r.list.uid);
    seeds.push(msg.challengeCreatePacket(readReq));
  }

  const counts = { sent: 0, failPacket: 0, closedSilently: 0, otherReply: 0, resets: 0 };
  let next = 0;
  const sender = async (): Promise<void> => {
    while (next < total) {
      next++;
      const kind = randomInt(10);
      const data = kind === 0 ? new Uint8Array(randomBytes(1 + randomInt(400))) : mutate(seeds[randomInt(seeds.length)]!);
      let c;
      try {
        c = await w.connect();
      } catch {
        counts.resets++;
        continue;
      }
      counts.sent++;
      try {
        c.write(data);
        if (kind === 1) {
          c.close(); // reset mid-message
          counts.resets++;
          continue;
        }
        const b = await c.read(64).catch(() => new Uint8Array(0));
        if (b.length === 0) counts.closedSilently++;
        else if (msg.isFail(b.subarray(0, 6))) counts.failPacket++;
        else counts.otherReply++; // a challenge, a beta or an auth nonce for a still-valid prefix
      } finally {
        c.close();
      }
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 8 }, sender));
  const secs = (Date.now() - t0) / 1000;

  let alive = true;
  try {
    process.kill(o.pid, 0);
  } catch {
    alive = false;
  }
  const after = recs.map((r) => snapshot(o.datadir, r.id));
  const changed = after.filter((s, i) => s !== before[i]).length;
  let gets = 0;
  for (const r of recs) if ((await w.get(r.id, randomAlpha())) !== FAILED) gets++;
  const errors = o.stderr().split('\n').filter((l) => / error /.test(l)).length;
  await o.stop();
  console.log('| messages | seconds | fail packet | closed silently | partial reply | resets | oracle alive | records changed | GETs after | error log lines |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  console.log(`| ${counts.sent} | ${secs.toFixed(1)} | ${counts.failPacket} | ${counts.closedSilently} | ${counts.otherReply} | ${counts.resets} | ${alive ? 'yes' : 'NO'} | ${changed} of ${recs.length} | ${gets} of ${recs.length} | ${errors} |`);
  if (!alive || changed > 0 || gets !== recs.length) {
    console.log(`FAILED: oracle ${alive ? 'alive' : 'dead'}, ${changed} record(s) changed, ${gets} GETs answered`);
    process.exitCode = 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
