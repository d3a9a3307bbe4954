// Build step, not part of the CLI: bundles the compiled client of this build
// directory (<build>/client/main.js) into <build>/bin/sphinx.js, the `sphinx`
// bin, and its puzzle worker into <build>/bin/puzzle-worker.js.
//
// Why: `sphinx get` runs hundreds of times a day and its start is on the
// critical path. Node's ES module loader pays per file (resolution, reading,
// compiling) and for its own start-up, and wrapping built-in modules such as
// node:tls as ES modules costs more than require()-ing them. One CommonJS
// file starts ~15-25 ms sooner than the ES modules (BENCHMARKS.md). The
// modules a command does not need are still not evaluated: esbuild turns each
// dynamic import() of our own code into a lazy initialiser. Packages that are
// large or loaded lazily (libsodium, yargs, the QR encoder, zxcvbn) stay
// external and are imported at run time; argon2 is native.
//
// Usage: node <build>/client/bundle.js   (npm run build does it for dist/)
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url)); // <build>/client
const outdir = join(here, '..', 'bin');

rmSync(outdir, { recursive: true, force: true });
await build({
  // the worker keeps its file name: client/puzzle.ts starts it as ./puzzle-worker.js next to itself
  entryPoints: { sphinx: join(here, 'main.js'), 'puzzle-worker': join(here, 'puzzle-worker.js') },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outdir,
  logLevel: 'warning',
  // CommonJS has no import.meta: give each bundle its own file URL
  define: { 'import.meta.url': '__import_meta_url' },
  banner: { js: "'use strict';\nconst __import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  external: ['argon2', 'libsodium-wrappers-sumo', 'qrcode', '@zxcvbn-ts/*', 'yargs', 'yargs/*'],
});
// the project is "type": "module"; these two files are CommonJS
writeFileSync(join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
