// Equihash benchmark: solve time (median over SEEDS random seeds per level) and
// peak memory for n = 60..90, k = 4, ours against the native reference
// (Debian libequihash0 1.0.6) on the same seeds, each level in fresh processes
// run one after another (never in parallel).
//
// Memory: every child reads its VmHWM (peak RSS) from /proc/self/status after
// loading the code and before the first solve (baseline), and again at the
// end; we report the whole-process peak and the solver's own increment.
// Native: a tiny C program linked against libequihash.so.0 when gcc is there,
// else /usr/bin/python3 with the `equihash` module (python3-pyequihash).
//
// Cold first solve: what a short-lived `sphinx get` pays. Each of COLD_RUNS
// fresh node processes imports the solver module (timed: ES module loading,
// its WebAssembly compiled lazily on the first solve) and solves one puzzle
// on a random seed (timed: everything solve() does, the WebAssembly compile,
// instantiation and memory included); we report the medians at COLD_LEVELS,
// with V8's default flags and with each extra set in COLD_NODE_FLAGS (runs of
// the two interleaved, so they share the machine's load).
//
// Run alone: node <build>/bench/equihash.js   (bench/run.ts calls main()).
// Only the cold figure, for this build or another build's solver module:
//   node <build>/bench/equihash.js cold [<path to shared/equihash.js>]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { lastSolveStats, solve, verify } from '../shared/equihash.js';

const LEVELS = [60, 65, 70, 75, 80, 85, 90];
const K = 4;
const SEEDS = 9; // odd: a plain median
const SEED_LEN = 107; // seed = challenge(42) | req(65), as in protocol §4
const LIB = '/usr/lib/x86_64-linux-gnu/libequihash.so.0';
const PYTHON = '/usr/bin/python3';
const SELF = fileURLToPath(import.meta.url);
const WARMUP_N = 40; // as client/puzzle-worker.ts
/** Native seeds stop after the one that crosses this much time per level (at least MIN_NATIVE seeds). */
const NATIVE_BUDGET_MS = 15_000;
const MIN_NATIVE = 5;
const COLD_LEVELS = [60, 70];
const COLD_RUNS = 11; // fresh processes per level and node flags (odd: a plain median)
/**
 * Node flags of the cold runs: V8's defaults, and one background thread for
 * V8's WebAssembly compiler. By default V8 compiles the core's functions that
 * turn hot with its optimising compiler on up to 4 threads, which on a 2-core
 * machine take CPU from the solving thread during a first solve (whose own
 * calls mostly finish in baseline code before the optimised code is ready).
 */
const COLD_NODE_FLAGS: string[][] = [[], ['--wasm-num-compilation-tasks=1']];
const SOLVER = fileURLToPath(new URL('../shared/equihash.js', import.meta.url));

interface Run { ms: number; cpu: number; nonces?: number; hashMs?: number; collideMs?: number; bytes?: number; sol: string }
interface ChildOut { baseHwmKb: number; hwmKb: number; runs: Run[]; verifyUs?: number }

function statusKb(key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (kb: number): string => (kb / 1024).toFixed(1);
const ms = (x: number): string => (x < 10 ? x.toFixed(1) : x.toFixed(0));

/** Child: solve each seed at level n, print ChildOut as JSON. */
async function child(n: number, warmN: number, seeds: string[]): Promise<void> {
  // As client/puzzle-worker.ts does: warm up on a small puzzle (compiles the
  // WebAssembly kernel, starts the JIT) before the real one arrives.
  await solve(warmN, K, randomBytes(32));
  const baseHwmKb = statusKb('VmHWM');
  const runs: Run[] = [];
  for (const hex of seeds) {
    const seed = Uint8Array.from(Buffer.from(hex, 'hex'));
    const c = process.cpuUsage(), t = performance.now();
    const sol = await solve(n, K, seed);
    const dt = performance.now() - t, cu = process.cpuUsage(c);
    const st = lastSolveStats()!;
    runs.push({ ms: dt, cpu: (cu.user + cu.system) / 1000, nonces: st.nonces, hashMs: st.hashMs, collideMs: st.sortMs, bytes: st.bytes, sol: Buffer.from(sol).toString('hex') });
  }
  const hwmKb = statusKb('VmHWM');
  // Verify cost (the oracle's work per puzzle), on the last solution.
  const seed = Uint8Array.from(Buffer.from(seeds[seeds.length - 1]!, 'hex'));
  const sol = Uint8Array.from(Buffer.from(runs[runs.length - 1]!.sol, 'hex'));
  for (let i = 0; i < 50; i++) verify(n, K, seed, sol);
  const reps = 500, t = performance.now();
  for (let i = 0; i < reps; i++) if (!verify(n, K, seed, sol)) throw new Error('own solution rejected');
  const verifyUs = ((performance.now() - t) * 1000) / reps;
  process.stdout.write(JSON.stringify({ baseHwmKb, hwmKb, runs, verifyUs } satisfies ChildOut));
}

const C_DRIVER = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
/* libequihash 1.0.6 C API (equihash.h; the -dev package is not needed) */
size_t solsize(const unsigned n, const unsigned k);
int solve(const unsigned n, const unsigned k, const uint8_t *seed, const size_t seed_len, uint8_t *sol, const size_t sol_len);
int verify(const unsigned n, const unsigned k, const uint8_t *seed, const size_t seed_len, const uint8_t *sol, const size_t sol_len);
static long kb(const char *key) {
  FILE *f = fopen("/proc/self/status", "r"); char line[256]; long v = -1; size_t l = strlen(key);
  while (f && fgets(line, sizeof line, f)) if (!strncmp(line, key, l)) v = atol(line + l);
  if (f) fclose(f); return v;
}
int main(int argc, char **argv) {
  unsigned n = atoi(argv[1]), k = atoi(argv[2]);
  double budget = atof(argv[3]), spent = 0; int min = atoi(argv[4]);
  size_t ss = solsize(n, k);
  uint8_t *sol = malloc(ss), seed[4096];
  printf("{\"baseHwmKb\":%ld,\"runs\":[", kb("VmHWM:"));
  for (int a = 5; a < argc && (a - 5 < min || spent < budget); a++) {
    size_t len = strlen(argv[a]) / 2;
    for (size_t i = 0; i < len; i++) sscanf(argv[a] + 2 * i, "%2hhx", &seed[i]);
    struct timespec t0, t1, c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int ok = solve(n, k, seed, len, sol, ss);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    if (!ok || !verify(n, k, seed, len, sol, ss)) { fprintf(stderr, "native solve failed\n"); return 1; }
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    spent += ms;
    printf("%s{\"ms\":%.3f,\"cpu\":%.3f,\"sol\":\"", a > 5 ? "," : "", ms,
           (c1.tv_sec - c0.tv_sec) * 1e3 + (c1.tv_nsec - c0.tv_nsec) / 1e6);
    for (size_t i = 0; i < ss; i++) printf("%02x", sol[i]);
    printf("\"}");
  }
  printf("],\"hwmKb\":%ld}\n", kb("VmHWM:"));
  return 0;
}
`;

const PY_DRIVER = `
import sys, json, time, re, equihash
def kb(key):
    return int(re.search(r'^' + key + r':\\s+(\\d+) kB', open('/proc/self/status').read(), re.M).group(1))
n, k, budget, least = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
base = kb('VmHWM')
runs = []
spent = 0
for h in sys.argv[5:]:
    if len(runs) >= least and spent >= budget:
        break
    seed = bytes.fromhex(h)
    c = time.process_time(); t = time.perf_counter(); sol = equihash.solve(n, k, seed)
    dt = time.perf_counter() - t; dc = time.process_time() - c
    spent += dt * 1e3
    runs.append({'ms': dt * 1e3, 'cpu': dc * 1e3, 'sol': sol.hex()})
print(json.dumps({'baseHwmKb': base, 'hwmKb': kb('VmHWM'), 'runs': runs}))
`;

interface Native { kind: string; argv: (n: number, seeds: string[]) => [string, string[]]; cleanup: () => void }

/** The native driver to use, or a reason why there is none. */
function nativeDriver(): Native | string {
  if (!existsSync(LIB)) return `${LIB} missing (Debian package libequihash0)`;
  const dir = mkdtempSync(join(tmpdir(), 'eqh-bench-'));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  writeFileSync(join(dir, 'drv.c'), C_DRIVER);
  const cc = spawnSync('gcc', ['-O2', '-o', join(dir, 'drv'), join(dir, 'drv.c'), LIB], { encoding: 'utf8' });
  if (cc.status === 0) return { kind: 'C program linked to libequihash.so.0', argv: (n, s) => [join(dir, 'drv'), [String(n), String(K), String(NATIVE_BUDGET_MS), String(MIN_NATIVE), ...s]], cleanup };
  const py = spawnSync(PYTHON, ['-I', '-c', 'import equihash'], { encoding: 'utf8' });
  if (py.status === 0) {
    return { kind: `${PYTHON} + equihash module (python3-pyequihash; gcc unavailable)`, argv: (n, s) => [PYTHON, ['-I', '-c', PY_DRIVER, String(n), String(K), String(NATIVE_BUDGET_MS), String(MIN_NATIVE), ...s]], cleanup };
  }
  cleanup();
  return 'neither gcc nor /usr/bin/python3 with the equihash module (Debian python3-pyequihash) is available';
}

function runChild(cmd: string, args: string[]): ChildOut {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 16 << 20, timeout: 120_000, env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } });
  if (r.status !== 0) throw new Error(`${cmd} failed (status ${r.status}, signal ${r.signal}): ${(r.stderr || r.error?.message || '').trim()}`);
  return JSON.parse(r.stdout) as ChildOut;
}

// A fresh process (an ES module file, so Node's module loader is up, as in any
// ES module program): import the solver module, solve once, print the times.
const COLD_CHILD = `
const [n, seedHex, mod] = process.argv.slice(2);
const t0 = performance.now();
const eq = await import(mod);
const t1 = performance.now();
const seed = Uint8Array.from(Buffer.from(seedHex, 'hex'));
const sol = await eq.solve(Number(n), ${K}, seed);
const t2 = performance.now();
if (!eq.verify(Number(n), ${K}, seed, sol)) throw new Error('rejected');
process.stdout.write(JSON.stringify({ importMs: t1 - t0, solveMs: t2 - t1, nonces: eq.lastSolveStats().nonces }));
`;

interface Cold { importMs: number; solveMs: number; nonces: number }

/** COLD_RUNS fresh processes per level, one after another; medians and ranges. */
function coldFigures(module: string): string[] {
  const rows: string[] = [];
  const fig = (xs: number[]): string => `${ms(median(xs))} (${ms(Math.min(...xs))}–${ms(Math.max(...xs))})`;
  const dir = mkdtempSync(join(tmpdir(), 'eqh-cold-'));
  const script = join(dir, 'cold.mjs');
  writeFileSync(script, COLD_CHILD);
  try {
    for (const n of COLD_LEVELS) {
      const runs: Cold[][] = COLD_NODE_FLAGS.map(() => []);
      for (let i = 0; i < COLD_RUNS; i++) {
        const seed = randomBytes(SEED_LEN).toString('hex');
        for (const [v, flags] of COLD_NODE_FLAGS.entries()) {
          const args = [...flags, script, String(n), seed, pathToFileURL(module).href];
          runs[v]!.push(runChild(process.execPath, args) as unknown as Cold);
        }
      }
      for (const [v, flags] of COLD_NODE_FLAGS.entries()) {
        const rs = runs[v]!, one = rs.filter((r) => r.nonces === 1);
        rows.push(
          `| ${n} | ${flags.join(' ') || '(defaults)'} | ${fig(rs.map((r) => r.importMs))} | ${fig(rs.map((r) => r.solveMs))} | ${fig(rs.map((r) => r.importMs + r.solveMs))} | ` +
            `${one.length ? ms(median(one.map((r) => r.solveMs))) : '–'} (${one.length}) | ${(rs.reduce((s, r) => s + r.nonces, 0) / rs.length).toFixed(2)} |`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

function printCold(rows: string[], module: string): void {
  console.log(`\nCold first solve, ms: ${COLD_RUNS} fresh processes per level and node flags (the same seeds), each importing ${module === SOLVER ? 'this build\'s solver module' : module} and solving one random ${SEED_LEN}-byte seed; median (min–max).\n`);
  console.log('| n | node flags | import | first solve | import + first solve | first solve when one nonce sufficed (runs) | nonces per solve (mean) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

export async function main(): Promise<void> {
  const t0 = performance.now();
  const load0 = loadavg();
  const native = nativeDriver();
  const rows: string[] = [];
  const phase: string[] = [];
  const mem: string[] = [];
  let nativeChecked = 0;
  try {
    for (const n of LEVELS) {
      const seeds = Array.from({ length: SEEDS }, () => randomBytes(SEED_LEN).toString('hex'));
      const ours = runChild(process.execPath, [SELF, '--child', String(n), String(WARMUP_N), ...seeds]);
      // The first solve again, after a warm-up at n=60 instead (a suggestion for the client).
      const warm60 = runChild(process.execPath, [SELF, '--child', String(n), '60', seeds[0]!]);
      const nat = typeof native === 'string' ? null : runChild(...native.argv(n, seeds));
      // Each solution (ours and native) must pass our strict verify.
      for (const [i, r] of [...ours.runs, ...(nat?.runs ?? [])].entries()) {
        const seed = Uint8Array.from(Buffer.from(seeds[i % SEEDS]!, 'hex'));
        if (!verify(n, K, seed, Uint8Array.from(Buffer.from(r.sol, 'hex')))) throw new Error(`n=${n}: solution ${i} rejected`);
        if (i >= SEEDS) nativeChecked++;
      }
      const stat = (rs: Run[], f: (r: Run) => number): string =>
        `${ms(median(rs.map(f)))} (${ms(Math.min(...rs.map(f)))}–${ms(Math.max(...rs.map(f))) })`;
      const om = median(ours.runs.map((r) => r.ms)), oc = median(ours.runs.map((r) => r.cpu));
      const nm = nat ? median(nat.runs.map((r) => r.ms)) : NaN, nc = nat ? median(nat.runs.map((r) => r.cpu)) : NaN;
      const arraysKb = Math.max(...ours.runs.map((r) => r.bytes!)) / 1024;
      const nSeeds = nat && nat.runs.length < SEEDS ? ` [${nat.runs.length} seeds]` : '';
      rows.push(
        `| ${n} | ${stat(ours.runs, (r) => r.ms)} | ${ms(oc)} | ${ms(ours.runs[0]!.ms)} / ${ms(warm60.runs[0]!.ms)} | ` +
          (nat ? `${stat(nat.runs, (r) => r.ms)}${nSeeds} | ${ms(nc)} | ${(om / nm).toFixed(2)} | ${(oc / nc).toFixed(2)} |` : '– | – | – | – |') +
          ` ${ours.verifyUs!.toFixed(0)} |`,
      );
      mem.push(
        `| ${n} | ${mb(ours.hwmKb)} | ${mb(ours.hwmKb - ours.baseHwmKb)} | ${mb(arraysKb)} | ` +
          (nat ? `${mb(nat.hwmKb)} | ${mb(nat.hwmKb - nat.baseHwmKb)} |` : '– | – |'),
      );
      const nonces = ours.runs.reduce((s, r) => s + r.nonces!, 0);
      const hash = ours.runs.reduce((s, r) => s + r.hashMs!, 0), coll = ours.runs.reduce((s, r) => s + r.collideMs!, 0);
      const total = ours.runs.reduce((s, r) => s + r.ms, 0);
      phase.push(
        `| ${n} | ${(nonces / SEEDS).toFixed(2)} | ${ms(hash / nonces)} | ${ms(coll / nonces)} | ${((100 * hash) / total).toFixed(0)}% / ${((100 * coll) / total).toFixed(0)}% / ${((100 * (total - hash - coll)) / total).toFixed(0)}% |`,
      );
    }
  } finally {
    if (typeof native !== 'string') native.cleanup();
  }
  const cold = coldFigures(SOLVER);
  const load1 = loadavg();
  const la = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  console.log(`Equihash k=${K}, ${SEEDS} random ${SEED_LEN}-byte seeds per level (the same seeds for both), each level in fresh processes, run one after another.`);
  console.log(`Native: ${typeof native === 'string' ? `unavailable: ${native}` : native.kind}. Load average (1/5/15 min) before: ${la(load0)}, after: ${la(load1)}.`);
  console.log('Peak RSS = VmHWM of the whole process; "solver MB" = VmHWM at the end minus VmHWM before the first timed solve (ours: after a warm-up solve at n=40, as the client\'s puzzle worker does); "solver memory" = the size of our solver\'s WebAssembly memory.');
  console.log(`Native seeds per level: ${SEEDS}, or fewer (shown) once a level has used ${NATIVE_BUDGET_MS / 1000} s (at least ${MIN_NATIVE}).\n`);
  console.log('Solve time, ms: wall median (min–max), CPU-time median, our first solve in a fresh process (after a warm-up solve at n=40 / at n=60); ratios of medians.\n');
  console.log('| n | ours wall | ours CPU | ours 1st (warm-up 40 / 60) | native wall | native CPU | ours/native wall | ours/native CPU | our verify µs |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log('\nPeak memory, MB:\n');
  console.log('| n | ours: process peak RSS | ours: solver increment | ours: solver WebAssembly memory | native: process peak RSS | native: solver increment |');
  console.log('|---|---|---|---|---|---|');
  for (const r of mem) console.log(r);
  console.log('\nWhere our time goes (per nonce tried; a solve tries nonces until one yields a tree solution with distinct indices):\n');
  console.log('| n | nonces per solve (mean) | hashing ms per nonce | collisions ms per nonce | share of solve time: hashing / collisions / rest |');
  console.log('|---|---|---|---|---|');
  for (const p of phase) console.log(p);
  printCold(cold, SOLVER);
  console.log(`\nAll ${SEEDS * LEVELS.length} of our solutions and ${nativeChecked} native ones passed our strict verify. Bench wall time ${((performance.now() - t0) / 1000).toFixed(1)} s.`);
}

if (process.argv[1] === SELF) {
  if (process.argv[2] === '--child') await child(Number(process.argv[3]), Number(process.argv[4]), process.argv.slice(5));
  else if (process.argv[2] === 'cold') {
    const module = process.argv[3] ? resolve(process.argv[3]) : SOLVER;
    console.log(`Load average (1/5/15 min) before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`);
    printCold(coldFigures(module), module);
    console.log(`\nLoad average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`);
  } else await main();
}
