// The browser case: request → reply time of `login` sent to an already
// running websphinx host (framed JSON on its stdin, as the extension does),
// next to the whole-process wall time of `sphinx get` for the same record,
// in the same run (the machine's speed drifts over a day). The pinentry is a
// minimal Assuan responder in sh (a real one waits for the user; its process
// start is a few ms either way).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startOracle } from '../test/helpers/oracle-process.js';
import { startHost, userHome } from '../test/helpers/websphinx.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 15);
const MASTER = 'bench master password';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const PINENTRY = `#!/bin/sh
echo "OK Pleased to meet you"
while read -r cmd rest; do
  case $cmd in
    GETPIN) echo "D ${MASTER}"; echo OK ;;
    BYE) echo OK; exit 0 ;;
    *) echo OK ;;
  esac
done
`;

export async function main(): Promise<void> {
  const oracle = await startOracle({ server: { rl_threshold: 1000000 } });
  const pin = join(mkdtempSync(join(tmpdir(), 'websphinx-bench-')), 'pinentry');
  writeFileSync(pin, PINENTRY, { mode: 0o755 });
  const u = await userHome(oracle, {}, { pinentry: pin });
  const host = startHost(u.home);
  try {
    const cr = await u.sphinx(['create', 'alice', 'bench.example'], MASTER);
    if (cr.code !== 0) throw new Error(`create: ${cr.stderr}`);
    const want = cr.stdout.replace(/\n$/, '');
    const login = async (): Promise<number> => {
      const t0 = performance.now();
      const r = await host.request({ cmd: 'login', mode: 'insert', site: 'bench.example', name: 'alice' });
      const ms = performance.now() - t0;
      if (r.results?.password !== want) throw new Error(`login: ${JSON.stringify(r.results === 'fail' ? r : 'wrong password')}; ${host.stderr()}`);
      return ms;
    };
    const first = await login();
    const logins: number[] = [];
    const gets: number[] = [];
    await u.sphinx(['get', 'alice', 'bench.example'], MASTER); // page cache
    for (let i = 0; i < RUNS; i++) {
      logins.push(await login());
      const g = await u.sphinx(['get', 'alice', 'bench.example'], MASTER);
      if (g.code !== 0 || g.stdout.replace(/\n$/, '') !== want) throw new Error(`sphinx get: ${g.stderr}`);
      gets.push(g.ms);
    }
    console.log(`websphinx login vs sphinx get, median of ${RUNS} alternating runs, level-0 puzzle, oracle child on 127.0.0.1, pinned self-signed cert\n`);
    console.log('| measurement | ms |\n|---|---|');
    console.log(`| **websphinx \`login\`, host already running: request frame written → reply frame read** | ${median(logins).toFixed(1)} |`);
    console.log(`| websphinx \`login\`, the host's first request (loads the client flows) | ${first.toFixed(1)} |`);
    console.log(`| **\`sphinx get\`, whole process (wall)** | ${median(gets).toFixed(1)} |`);
    console.log(`\nlogin (ms): ${logins.map((x) => x.toFixed(0)).join(' ')}\nsphinx get (ms): ${gets.map((x) => x.toFixed(0)).join(' ')}`);
  } finally {
    await host.end();
    await oracle.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
