// The oracle under load, on loopback, the oracle as a child process (the
// built dist/oracle/main.js, via test/helpers/oracle-process.ts):
// 1. the full GET flow (connection 1: challenge; the client solves the
//    Equihash puzzle in worker threads; connection 2: verify + GET, over TLS)
//    at concurrency 1, 4 and 16: GET/s, latency p50/p99, p99 without the
//    client's solving time, and the oracle's own CPU time per GET (utime +
//    stime of the oracle process from /proc/<pid>/stat, before/after);
// 2. GET latency with 1k and with 100k records in the datadir (record
//    directories made directly on disk in the reference layout, hard links
//    of one real record's files).
// Records are GET'd round-robin, one per concurrent client, and rl_threshold is
// set out of reach so the puzzle stays at level 0 (n=60): the bench measures
// the oracle, not the difficulty climb. Everything else is the default config
// (max_kids 5, timeout 3 s). Bounded to well under 3 minutes on 2 cores.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { toHex } from '../shared/bytes.js';
import { WorkerSolver } from '../client/puzzle.js';
import { startOracle } from '../test/helpers/oracle-process.js';
import { FAILED, Wire, newGen, newUserList, randomAlpha, type Gen, type Solve } from '../test/helpers/wire.js';

const FLAT = { rl_threshold: 4294967295 };
const CLK_TCK = 100; // getconf CLK_TCK on Linux

/** utime + stime of a process, in milliseconds. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields after "(comm) ": state=0 ... utime=11, stime=12 (1-based fields 14 and 15)
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Solvers in worker threads; each puzzle goes to the least busy one. */
class SolverPool {
  private readonly workers: Array<{ s: WorkerSolver; busy: number }>;
  constructor(n: number) {
    this.workers = Array.from({ length: n }, () => ({ s: new WorkerSolver(), busy: 0 }));
  }
  solve: Solve = async (n, k, seed) => {
    const w = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    w.busy++;
    try {
      return await w.s.solve(n, k, seed);
    } finally {
      w.busy--;
    }
  };
  close(): void {
    for (const w of this.workers) w.s.close();
  }
}

interface Sample {
  /** the whole GET flow */
  total: number;
  /** from the challenge to the solution (queueing for a solver included) */
  solve: number;
  /** connection 2 after its handshake: verify packet sent → GET reply */
  exchange: number;
}

interface Target {
  id: Uint8Array;
  gen: Gen;
}

/** One client: a Wire of its own (own TLS session, like a real client), GETs in a loop until the deadline. */
async function client(o: { port: number; certPath: string }, solve: Solve, targets: Target[], until: () => boolean, out: Sample[], errors: string[]): Promise<void> {
  let tChallenge = 0;
  let tSolved = 0;
  let tConnected = 0;
  const w = new Wire(o, {
    solve,
    readTimeoutMs: 20000,
    mark: (phase) => {
      if (phase === 'challenge') tChallenge = performance.now();
      else if (phase === 'solved') tSolved = performance.now();
      else if (phase === 'connected') tConnected = performance.now();
    },
  });
  let i = Math.floor(Math.random() * targets.length);
  while (!until()) {
    const t = targets[i++ % targets.length]!;
    const t0 = performance.now();
    try {
      const r = await w.get(t.id, randomAlpha());
      const t1 = performance.now();
      if (r === FAILED) errors.push('GET answered fail');
      else if (toHex(r.rules) !== toHex(t.gen.rules)) errors.push('GET returned other rules');
      else out.push({ total: t1 - t0, solve: tSolved - tChallenge, exchange: t1 - tConnected });
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
}

interface Level {
  gets: number;
  seconds: number;
  samples: Sample[];
  errors: string[];
  cpuMs: number;
}

async function load(o: { port: number; certPath: string; pid: number }, solve: Solve, targets: Target[], concurrency: number, ms: number, maxGets = Infinity): Promise<Level> {
  const samples: Sample[] = [];
  const errors: string[] = [];
  const cpu0 = cpuMs(o.pid);
  const t0 = performance.now();
  const deadline = t0 + ms;
  const until = (): boolean => performance.now() >= deadline || samples.length + errors.length >= maxGets;
  await Promise.all(Array.from({ length: concurrency }, (_, c) => client(o, solve, targets.slice(c % targets.length).concat(targets.slice(0, c % targets.length)), until, samples, errors)));
  const seconds = (performance.now() - t0) / 1000;
  return { gets: samples.length, seconds, samples, errors, cpuMs: cpuMs(o.pid) - cpu0 };
}

async function makeTargets(o: { port: number; certPath: string }, n: number): Promise<Target[]> {
  const w = new Wire(o);
  const out: Target[] = [];
  for (let i = 0; i < n; i++) {
    const id = new Uint8Array(randomBytes(32));
    const gen = newGen();
    if (!(await w.create(id, gen, newUserList()))) throw new Error('bench: CREATE failed');
    out.push({ id, gen });
  }
  return out;
}

/**
 * `count` record directories, hard links of the template record's files (the
 * reference layout). A file takes at most 65000 links on ext4: the sources
 * are fresh copies (in `scratch`, same file system) every 60000 records.
 */
function fillDatadir(datadir: string, template: string, count: number, scratch: string): void {
  let sources: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 60000 === 0) {
      const dir = mkdtempSync(join(scratch, 'src-'));
      sources = ['key', 'pub', 'rules'].map((f) => {
        const to = join(dir, f);
        copyFileSync(join(datadir, template, f), to);
        return to;
      });
    }
    const dir = join(datadir, randomBytes(32).toString('hex'));
    mkdirSync(dir, { mode: 0o700 });
    linkSync(sources[0]!, join(dir, 'key'));
    linkSync(sources[1]!, join(dir, 'pub'));
    linkSync(sources[2]!, join(dir, 'rules'));
  }
}

function rmrf(path: string): Promise<void> {
  return new Promise((res) => spawn('rm', ['-rf', path], { stdio: 'ignore' }).on('close', () => res()));
}

/**
 * The floor under the oracle's CPU per GET: a bare node:tls server (same
 * certificate, same TLS settings) that reads one message and answers 42 bytes
 * per connection, like the oracle's challenge step. A GET needs two such
 * connections (protocol.md §4).
 */
async function tlsFloor(certPath: string, keyPath: string): Promise<{ full: number; resumed: number }> {
  const code = `
    import { createServer } from 'node:tls';
    import { readFileSync } from 'node:fs';
    const s = createServer({ cert: readFileSync(${JSON.stringify(certPath)}), key: readFileSync(${JSON.stringify(keyPath)}), minVersion: 'TLSv1.2', noDelay: true }, (sock) => {
      sock.on('error', () => {});
      sock.once('data', () => sock.end(Buffer.alloc(42)));
    });
    s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((res, rej) => {
      child.stdout!.setEncoding('utf8').once('data', (d: string) => res(Number(d.trim())));
      child.once('exit', (c) => rej(new Error(`TLS floor server exited (${c})`)));
    });
    const { connect } = await import('node:tls');
    const out = { full: 0, resumed: 0 };
    for (const resume of [false, true]) {
      let session: Buffer | undefined;
      const one = (): Promise<void> =>
        new Promise((res, rej) => {
          const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(resume && session ? { session } : {}) }, () => s.write(Buffer.alloc(66)));
          s.on('session', (x: Buffer) => (session = x));
          s.on('data', () => undefined);
          s.on('end', () => {
            s.end();
            res();
          });
          s.on('error', rej);
        });
      for (let i = 0; i < 30; i++) await one();
      const c0 = cpuMs(child.pid!);
      const n = 200;
      await Promise.all([0, 1, 2, 3].map(async () => {
        for (let i = 0; i < n / 4; i++) await one();
      }));
      out[resume ? 'resumed' : 'full'] = (cpuMs(child.pid!) - c0) / n;
    }
    return out;
  } finally {
    child.kill();
  }
}

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '–');

export async function main(): Promise<void> {
  const tAll = performance.now();
  console.log(`Load average at the start: ${loadavg().map((x) => x.toFixed(1)).join(' ')} (the client, its puzzle solvers and the oracle share ${cpus().length} cores).\n`);
  const pool = new SolverPool(Math.max(1, Math.min(2, cpus().length)));
  const problems: string[] = [];
  try {
    // ---------------------------------------------------------------- concurrency
    const o = await startOracle({ server: FLAT });
    try {
      const targets = await makeTargets(o, 16);
      await load(o, pool.solve, targets, 2, 3000, 20); // warm-up (JIT, TLS sessions, solver workers)
      console.log('Full GET flow over TLS on loopback (challenge, Equihash n=60 k=4 solved by the client in 2 worker threads, verify + GET).');
      console.log('Oracle defaults (max_kids 5, timeout 3 s) except rl_threshold (difficulty held at level 0).\n');
      console.log('| concurrency | GETs | GET/s | p50 ms | p99 ms | p50 excl. solve ms | p99 excl. solve ms | verify+GET exchange p50 / p99 ms | solve p50 ms | oracle CPU ms/GET |');
      console.log('|---|---|---|---|---|---|---|---|---|---|');
      for (const [c, ms] of [
        [1, 5000],
        [4, 5000],
        [16, 7000],
      ] as const) {
        const r = await load(o, pool.solve, targets, c, ms);
        const total = r.samples.map((s) => s.total);
        const excl = r.samples.map((s) => s.total - s.solve);
        const solve = r.samples.map((s) => s.solve);
        const exch = r.samples.map((s) => s.exchange);
        console.log(
          `| ${c} | ${r.gets} | ${f1(r.gets / r.seconds)} | ${f1(pct(total, 50))} | ${f1(pct(total, 99))} | ${f1(pct(excl, 50))} | ${f1(pct(excl, 99))} | ${f1(pct(exch, 50))} / ${f1(pct(exch, 99))} | ${f1(pct(solve, 50))} | ${f2(r.cpuMs / Math.max(1, r.gets))} |`,
        );
        if (r.errors.length) problems.push(`c=${c}: ${r.errors.length} failed GETs (${[...new Set(r.errors)].slice(0, 3).join('; ')})`);
      }
      const floor = await tlsFloor(o.certPath, o.keyPath);
      console.log(
        `\nFloor: a bare node:tls server (same certificate) answering one 42-byte message per connection uses ${f2(floor.full)} ms CPU per connection ` +
          `(${f2(floor.resumed)} ms with session resumption); a GET takes two connections.`,
      );
    } finally {
      await o.stop();
    }
    // The oracle's own view at c=16: its verbose log times each connection
    // from the end of the TLS handshake to its reply (queueing for the event
    // loop and for max_kids included, the client's solving and TLS excluded).
    const ov = await startOracle({ server: { ...FLAT, verbose: true } });
    try {
      const targets = await makeTargets(ov, 16);
      await load(ov, pool.solve, targets, 4, 2000, 20);
      const from = ov.stderr().length;
      const r = await load(ov, pool.solve, targets, 16, 6000);
      const times = (re: RegExp): number[] => [...ov.stderr().slice(from).matchAll(re)].map((m) => Number(m[1]));
      const ch = times(/ debug CHALLENGE\(GET\) ok(?: \([^)]*\))? ([\d.]+) ms/g);
      const get = times(/ debug GET ok(?: \([^)]*\))? ([\d.]+) ms/g);
      console.log(
        `\nOracle-side time per connection at c=16 (verbose log, TLS handshake done → reply sent; ${r.gets} GETs in ${f1(r.seconds)} s): ` +
          `challenge p50 ${f1(pct(ch, 50))} / p99 ${f1(pct(ch, 99))} ms, verify + GET p50 ${f1(pct(get, 50))} / p99 ${f1(pct(get, 99))} ms.`,
      );
      if (get.length === 0) problems.push('no GET lines in the verbose log (log format changed?)');
    } finally {
      await ov.stop();
    }
    console.log('\nReference oracle (pwdsphinx 1.0.16) on this machine kind: 31 ms CPU/GET, ~36 GET/s at c=16, p99 711 ms.');
    console.log('Goal: <= 1.5 ms CPU/GET, p99 < 50 ms at c=16 excluding the solve.');

    // ---------------------------------------------------------------- datadir size
    const scratch = mkdtempSync(join(tmpdir(), 'sphinx-bench-records-'));
    const datadir = join(scratch, 'data');
    try {
      const first = await startOracle({ datadir, server: FLAT });
      let targets: Target[];
      try {
        targets = await makeTargets(first, 4);
      } finally {
        await first.stop();
      }
      const template = toHex(targets[0]!.id);
      console.log('\nGET latency against the size of the datadir (c=1; oracle restarted after adding records, startup time included).\n');
      console.log('| records | create dirs s | oracle start ms | GETs | p50 ms | p99 ms | p50 excl. solve ms | p99 excl. solve ms | oracle CPU ms/GET |');
      console.log('|---|---|---|---|---|---|---|---|---|');
      let have = targets.length;
      for (const want of [1000, 100000]) {
        const tf = performance.now();
        fillDatadir(datadir, template, want - have, scratch);
        spawnSync('sync'); // write the new directories back now, not during the measurement
        const fillS = (performance.now() - tf) / 1000;
        have = want;
        const ts = performance.now();
        const o2 = await startOracle({ datadir, server: FLAT, startTimeoutMs: 60000 });
        const startMs = performance.now() - ts;
        try {
          await load(o2, pool.solve, targets, 1, 2000, 5); // warm-up
          const r = await load(o2, pool.solve, targets, 1, 5000, 80);
          const total = r.samples.map((s) => s.total);
          const excl = r.samples.map((s) => s.total - s.solve);
          console.log(
            `| ${want} | ${f1(fillS)} | ${f1(startMs)} | ${r.gets} | ${f1(pct(total, 50))} | ${f1(pct(total, 99))} | ${f1(pct(excl, 50))} | ${f1(pct(excl, 99))} | ${f2(r.cpuMs / Math.max(1, r.gets))} |`,
          );
          if (r.errors.length) problems.push(`${want} records: ${r.errors.length} failed GETs (${[...new Set(r.errors)].slice(0, 3).join('; ')})`);
        } finally {
          await o2.stop();
        }
      }
    } finally {
      await rmrf(scratch);
    }
  } finally {
    pool.close();
  }
  if (problems.length) console.log(`\nProblems: ${problems.join(' | ')}`);
  console.log(`\n(oracle bench: ${((performance.now() - tAll) / 1000).toFixed(0)} s; load average at the end ${loadavg().map((x) => x.toFixed(1)).join(' ')})`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
