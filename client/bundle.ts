// Build step, not part of the CLI: bundles the compiled client of this build
// directory (<build>/client/main.js) into <build>/bin/sphinx.js, the `sphinx`
// bin. `sphinx get` runs hundreds of times a day and Node's ES module loader
// pays per file (resolution, reading, compiling): one entry file plus chunks
// that are imported only when needed (flows, get, the solver, QR, zxcvbn...)
// saves ~15 ms of every start (BENCHMARKS.md). Packages that are large or
// loaded lazily stay external; `argon2` is native.
//
// Usage: node <build>/client/bundle.js   (npm run build does it for dist/)
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url)); // <build>/client
const outdir = join(here, '..', 'bin');

rmSync(outdir, { recursive: true, force: true });
await build({
  // the worker keeps its file name: client/puzzle.ts starts it as ./puzzle-worker.js next to itself
  entryPoints: { sphinx: join(here, 'main.js'), 'puzzle-worker': join(here, 'puzzle-worker.js') },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  logLevel: 'warning',
  external: ['argon2', 'libsodium-wrappers-sumo', 'qrcode', '@zxcvbn-ts/*', 'yargs', 'yargs/*'],
});
