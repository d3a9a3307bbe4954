// Whole-process wall time of `sphinx get` against a local oracle child (the
// issue's figure: pwdsphinx takes 469 ms on this machine kind), median of
// RUNS runs, with the client's own phase marks (SPHINX_TIMING=1: times only,
// never data). Run with NODE_EXTRA_CA_CERTS unset: it adds ~70 ms to every
// node start and the pinned-certificate client does not need it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { clientHome, CLIENT_BIN, cleanEnv } from '../test/helpers/cli.js';
import { startOracle } from '../test/helpers/oracle-process.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 15);

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

export interface Run {
  wall: number;
  marks: Record<string, number>;
}

export function timedGet(config: string, home: string, bin = CLIENT_BIN): Promise<Run> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const p = spawn(bin, ['--config', config, 'get', 'alice', 'bench.example'], {
      cwd: home,
      env: cleanEnv({ HOME: home, SPHINX_TIMING: '1' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let err = '';
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.stdin.end('bench master password');
    p.on('error', rej);
    p.on('close', (code) => {
      const wall = performance.now() - t0;
      if (code !== 0 || !out.trim()) return rej(new Error(`sphinx get exited ${code}: ${err}`));
      const m = /SPHINX_TIMING (\{.*\})/.exec(err);
      res({ wall, marks: m ? (JSON.parse(m[1]!) as Record<string, number>) : {} });
    });
  });
}

/** Which argon2 binary loads: node-gyp-build prefers build/Release (npm ci's AVX2 postinstall build) to the prebuilt SSE2 one. */
function argon2Build(): string {
  const dir = dirname(createRequire(import.meta.url).resolve('argon2/package.json'));
  const built = existsSync(join(dir, 'build', 'Release', 'argon2.node'));
  const avx2 = /\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  return `${built ? 'build/Release (built by npm ci)' : 'prebuilds/ (SSE2)'}; the CPU ${avx2 ? 'has' : 'lacks'} AVX2`;
}

/**
 * Calibration: the reference's Argon2id, libsodium's native crypto_pwhash
 * (INTERACTIVE, as pwdsphinx calls it), timed in a fresh python3 process via
 * ctypes, in this same run: the machine's speed drifts by 20-30 % over a day.
 * NaN when python3 or libsodium.so.23 (Debian libsodium23) is missing.
 */
function nativeArgon2Ms(): number {
  const py = [
    'import ctypes, time',
    "s = ctypes.CDLL('libsodium.so.23'); s.sodium_init()",
    "o = ctypes.create_string_buffer(32); pw = b'\\x01' * 32; salt = b'\\x02' * 16",
    't = time.perf_counter()',
    'r = s.crypto_pwhash(o, ctypes.c_ulonglong(32), pw, ctypes.c_ulonglong(32), salt, ctypes.c_ulonglong(2), ctypes.c_size_t(67108864), 2)',
    'print(-1 if r else (time.perf_counter() - t) * 1000)',
  ].join('\n');
  const r = spawnSync('python3', ['-c', py], { encoding: 'utf8' });
  const ms = Number(r.stdout.trim());
  return r.status === 0 && ms > 0 ? ms : NaN;
}

function nodeStart(): Promise<number> {
  return new Promise((res) => {
    const t0 = performance.now();
    spawn(process.execPath, ['-e', '0'], { env: cleanEnv() }).on('close', () => res(performance.now() - t0));
  });
}

export async function main(): Promise<void> {
  const oracle = await startOracle({ server: { rl_threshold: 1000000 } });
  try {
    const c = clientHome({ port: oracle.port, ssl_cert: oracle.certPath });
    const init = await c.run(['init']);
    if (init.code !== 0) throw new Error(`init: ${init.stderr}`);
    const cr = await c.run(['create', 'alice', 'bench.example'], { stdin: 'bench master password' });
    if (cr.code !== 0) throw new Error(`create: ${cr.stderr}`);
    await timedGet(c.config, c.home); // warm the page cache
    const runs: Run[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await timedGet(c.config, c.home));
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) starts.push(await nodeStart());
    const natives: number[] = [];
    for (let i = 0; i < 5; i++) natives.push(nativeArgon2Ms());
    const phase = (from: string, to: string): number => median(runs.map((r) => (r.marks[to] ?? NaN) - (r.marks[from] ?? NaN)));
    const at = (m: string): number => median(runs.map((r) => r.marks[m] ?? NaN));
    const rows: Array<[string, number]> = [
      ['**whole process `sphinx get` (wall)**', median(runs.map((r) => r.wall))],
      ['`node -e 0` on this machine (for reference)', median(starts)],
      ['native libsodium crypto_pwhash, fresh python3 process (the reference\'s argon2id; calibration)', median(natives)],
      ['startup: process start → main.ts running (sh, node, the CommonJS bundle)', at('main')],
      ['startup: → config, masterkey, TLS connect started, password read, get path loaded', at('flows')],
      ['record id + OPRF blinding (client/crypto.ts, noble)', phase('flows', 'blinded')],
      ['connection 1 ready (prefetched TLS connect) → challenge received', phase('blinded', 'challenge')],
      ['puzzle solve (level 0, inline: n ≤ 70 is not worth a worker)', phase('challenge', 'solved')],
      ['connection 2 (resumed TLS) → GET reply', phase('solved', 'reply')],
      ['unblind', phase('reply', 'argon2')],
      ['argon2id (the rule is opened meanwhile)', phase('argon2', 'argon2-done')],
      ['after argon2 → exit', phase('argon2-done', 'exit')],
    ];
    console.log(`sphinx get, median of ${RUNS} runs (NODE_EXTRA_CA_CERTS unset), level-0 puzzle, oracle child on 127.0.0.1, pinned self-signed cert`);
    console.log(`argon2 binding: ${argon2Build()}\n`);
    console.log('| phase | ms |\n|---|---|');
    for (const [name, ms] of rows) console.log(`| ${name} | ${ms.toFixed(1)} |`);
    console.log(`\nwall times (ms): ${runs.map((r) => r.wall.toFixed(0)).join(' ')}`);
  } finally {
    await oracle.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
