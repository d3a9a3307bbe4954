// `npm run bench`: every benchmark in turn. Each bench/<area>.ts exports main()
// and prints its own markdown table; results go into BENCHMARKS.md by hand,
// with the machine, the command and the date.
import { cpus, totalmem } from 'node:os';

const areas = (process.argv[2] ?? 'core,equihash,oracle,client,websphinx').split(',');

console.log(`# bench ${new Date().toISOString()} — node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`);
for (const area of areas) {
  console.log(`\n## ${area}\n`);
  const mod = (await import(`./${area}.js`)) as { main: () => Promise<void> };
  await mod.main();
}
