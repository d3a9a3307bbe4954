// `sphinx get` of this build against another build of the client, in one run
// with the runs interleaved (A B A B ...), against the same oracle child and
// the same record: the machine's speed drifts 20-30 % within an hour, so only
// figures from the same run compare. Prints the median wall time of each and
// of each phase (SPHINX_TIMING marks), and the median of the per-pair
// differences.
//
//   OTHER_SPHINX=/path/to/other/dist/bin/sphinx BENCH_RUNS=41 node dist/bench/client-ab.js
import { pathToFileURL } from 'node:url';
import { clientHome, CLIENT_BIN } from '../test/helpers/cli.js';
import { startOracle } from '../test/helpers/oracle-process.js';
import { median, timedGet, type Run } from './client.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 31);
const OTHER = process.env['OTHER_SPHINX'];

const PHASES: Array<[string, string, string]> = [
  ['start → main.ts running', 'start', 'main'],
  ['→ get path loaded (config, masterkey, connect, password)', 'main', 'flows'],
  ['record id + OPRF blinding', 'flows', 'blinded'],
  ['→ challenge received', 'blinded', 'challenge'],
  ['puzzle solve', 'challenge', 'solved'],
  ['→ GET reply', 'solved', 'reply'],
  ['unblind', 'reply', 'argon2'],
  ['argon2id', 'argon2', 'argon2-done'],
  ['→ exit', 'argon2-done', 'exit'],
];

export async function main(): Promise<void> {
  if (!OTHER) {
    console.log('set OTHER_SPHINX to the dist/bin/sphinx of the build to compare with');
    return;
  }
  const oracle = await startOracle({ server: { rl_threshold: 1000000 } });
  try {
    const c = clientHome({ port: oracle.port, ssl_cert: oracle.certPath });
    if ((await c.run(['init'])).code !== 0) throw new Error('init failed');
    const cr = await c.run(['create', 'alice', 'bench.example'], { stdin: 'bench master password' });
    if (cr.code !== 0) throw new Error(`create: ${cr.stderr}`);
    const bins: Record<'A' | 'B', string> = { A: CLIENT_BIN, B: OTHER };
    for (const b of Object.values(bins)) await timedGet(c.config, c.home, b); // warm the page cache
    const runs: Record<'A' | 'B', Run[]> = { A: [], B: [] };
    for (let i = 0; i < RUNS; i++) {
      const order: Array<'A' | 'B'> = i % 2 ? ['B', 'A'] : ['A', 'B'];
      for (const k of order) runs[k].push(await timedGet(c.config, c.home, bins[k]));
    }
    const at = (rs: Run[], from: string, to: string): number =>
      median(rs.map((r) => (r.marks[to] ?? NaN) - (from === 'start' ? 0 : (r.marks[from] ?? NaN))));
    console.log(`sphinx get, ${RUNS} interleaved runs each; A = ${bins.A}, B = ${bins.B}\n`);
    console.log('| phase (median ms) | A (this build) | B (other) |\n|---|---|---|');
    console.log(`| **whole process (wall)** | ${median(runs.A.map((r) => r.wall)).toFixed(1)} | ${median(runs.B.map((r) => r.wall)).toFixed(1)} |`);
    for (const [name, from, to] of PHASES) console.log(`| ${name} | ${at(runs.A, from, to).toFixed(1)} | ${at(runs.B, from, to).toFixed(1)} |`);
    const diffs = runs.A.map((r, i) => r.wall - runs.B[i]!.wall);
    console.log(`\nmedian of per-pair differences A - B: ${median(diffs).toFixed(1)} ms`);
  } finally {
    await oracle.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
