// `sphinx get` of this build against other builds of the client, in one run
// with the runs interleaved (A B C, B C A, C A B, ...), against the same
// oracle child and the same record: the machine's speed drifts 20-30 % within
// an hour, so only figures from the same run compare. Prints the median wall
// time of each build and of each phase (SPHINX_TIMING marks), and the median
// of the per-round differences against this build.
//
//   OTHER_SPHINX=/path/to/other/dist/bin/sphinx[:/path/to/third/...] BENCH_RUNS=41 node dist/bench/client-ab.js
import { pathToFileURL } from 'node:url';
import { clientHome, CLIENT_BIN } from '../test/helpers/cli.js';
import { startOracle } from '../test/helpers/oracle-process.js';
import { median, timedGet, type Run } from './client.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 31);
const OTHERS = (process.env['OTHER_SPHINX'] ?? '').split(':').filter(Boolean);

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
  if (OTHERS.length === 0) {
    console.log('set OTHER_SPHINX to the dist/bin/sphinx of the build(s) to compare with (colon-separated)');
    return;
  }
  const oracle = await startOracle({ server: { rl_threshold: 1000000 } });
  try {
    const c = clientHome({ port: oracle.port, ssl_cert: oracle.certPath });
    if ((await c.run(['init'])).code !== 0) throw new Error('init failed');
    const cr = await c.run(['create', 'alice', 'bench.example'], { stdin: 'bench master password' });
    if (cr.code !== 0) throw new Error(`create: ${cr.stderr}`);
    const bins = [CLIENT_BIN, ...OTHERS];
    const names = bins.map((_, i) => String.fromCharCode(65 + i));
    for (const b of bins) await timedGet(c.config, c.home, b); // warm the page cache
    const runs: Run[][] = bins.map(() => []);
    for (let i = 0; i < RUNS; i++) {
      for (let j = 0; j < bins.length; j++) {
        const k = (i + j) % bins.length; // each build takes each position in turn
        runs[k]!.push(await timedGet(c.config, c.home, bins[k]!));
      }
    }
    const at = (rs: Run[], from: string, to: string): number =>
      median(rs.map((r) => (r.marks[to] ?? NaN) - (from === 'start' ? 0 : (r.marks[from] ?? NaN))));
    console.log(`sphinx get, ${RUNS} interleaved rounds; ${bins.map((b, i) => `${names[i]} = ${b}`).join(', ')}\n`);
    console.log(`| phase (median ms) | ${names.map((n, i) => (i === 0 ? `${n} (this build)` : n)).join(' | ')} |`);
    console.log(`|---|${names.map(() => '---').join('|')}|`);
    console.log(`| **whole process (wall)** | ${runs.map((rs) => median(rs.map((r) => r.wall)).toFixed(1)).join(' | ')} |`);
    for (const [name, from, to] of PHASES) console.log(`| ${name} | ${runs.map((rs) => at(rs, from, to).toFixed(1)).join(' | ')} |`);
    console.log('');
    for (let k = 1; k < bins.length; k++) {
      const diffs = runs[0]!.map((r, i) => r.wall - runs[k]![i]!.wall);
      console.log(`median of per-round differences A - ${names[k]}: ${median(diffs).toFixed(1)} ms`);
    }
  } finally {
    await oracle.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
