// Build step, not part of the CLI: bundles the compiled client of this build
// directory (<build>/client/main.js) into <build>/bin/sphinx-main.js with its
// V8 code cache, <build>/bin/sphinx.js that loads them (build/launcher.ts),
// the puzzle worker <build>/bin/puzzle-worker.js, and the `sphinx` command
// <build>/bin/sphinx, a shell script that runs node on sphinx.js (below).
//
// Why: `sphinx get` runs hundreds of times a day and its start is on the
// critical path. Node's ES module loader pays per file (resolution, reading,
// compiling) and for its own start-up, and wrapping built-in modules such as
// node:tls as ES modules costs more than require()-ing them. One CommonJS
// file starts ~15-25 ms sooner than the ES modules (BENCHMARKS.md). The
// modules a command does not need are still not evaluated: esbuild turns each
// dynamic import() of our own code into a lazy initialiser. Packages that are
// large or loaded lazily (yargs, the QR encoder, zxcvbn) stay external and
// are imported at run time; argon2 is native. The client's crypto is noble
// (client/crypto.ts): the build fails if libsodium, the oracle's provider,
// ends up in the client.
//
// Usage: node <build>/build/bundle.js   (npm run build does it for dist/)
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HUGE_PAGES_TUNABLE } from '../shared/argon2id.js';
import { MAIN_BUNDLE, writeCodeCache } from './codecache.js';

const here = dirname(fileURLToPath(import.meta.url)); // <build>/build
const client = join(here, '..', 'client');
const outdir = join(here, '..', 'bin');

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: {
    // the bin: a small loader of sphinx-main.js through V8's code cache (build/launcher.ts)
    sphinx: join(here, 'launcher.js'),
    [MAIN_BUNDLE.replace(/\.js$/, '')]: join(client, 'main.js'),
    // the worker keeps its file name: client/puzzle.ts starts it as ./puzzle-worker.js next to itself
    'puzzle-worker': join(client, 'puzzle-worker.js'),
  },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outdir,
  logLevel: 'warning',
  // CommonJS has no import.meta: give each bundle its own file URL
  define: { 'import.meta.url': '__import_meta_url' },
  banner: { js: "'use strict';\nconst __import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  external: ['argon2', 'qrcode', '@zxcvbn-ts/*', 'yargs', 'yargs/*'],
  metafile: true,
  // Smaller and pure ASCII: V8 loads this file through its code cache on every
  // `sphinx get`, and that costs ~13 ms for the plain bundle against ~5 ms
  // minified (BENCHMARKS.md): a source with one non-ASCII character becomes a
  // two-byte string, and every byte of source and cache is read. Names are
  // kept (error classes, stack traces of unexpected failures).
  minify: true,
  keepNames: true,
  legalComments: 'none',
  charset: 'ascii',
});
const sodium = Object.keys(result.metafile.inputs).find((f) => f.includes('libsodium'));
if (sodium) throw new Error(`the client bundle contains ${sodium}: the client's crypto is client/crypto.ts (noble), libsodium is the oracle's`);
// the project is "type": "module"; these files are CommonJS
writeFileSync(join(outdir, 'package.json'), '{ "type": "commonjs" }\n');
// The bin runs sphinx-main.js as a vm.Script (build/codecache.ts), where a
// dynamic import() fails at run time: packages must be imported statically
// (require()d inside the lazy initialiser of the module that needs them).
const main = join(outdir, MAIN_BUNDLE);
const mainSource = readFileSync(main, 'utf8');
const dynamic = /\bimport\(\s*["'`]/.exec(mainSource);
if (dynamic) throw new Error(`${main} has a dynamic import() (${dynamic[0]}...): import that package statically`);
// one non-ASCII character makes V8 hold the whole source as UTF-16 (see minify above)
const wide = /[^\x00-\x7f]/.exec(mainSource);
if (wide) throw new Error(`${main} has a non-ASCII character (U+${wide[0].codePointAt(0)!.toString(16)} at ${wide.index}): keep the bundle ASCII`);
await writeCodeCache(main);

// The `sphinx` command itself: node with glibc's malloc putting large
// allocations in transparent huge pages. Argon2id (the native argon2
// package) mallocs 64 MiB and touches every page once: 16384 page faults
// with 4 KiB pages, 32 with 2 MiB ones, which makes it ~40 % faster
// (BENCHMARKS.md). The tunable must be in the environment when the process
// starts, hence a shell script; glibc < 2.35, other libcs and kernels with
// THP off ignore it. An existing GLIBC_TUNABLES is kept. The script finds
// sphinx.js next to itself with shell built-ins (readlink only when it was
// started through a symlink, as npm's bin links do): each command a shell
// script forks costs milliseconds on every run.
writeFileSync(
  join(outdir, 'sphinx'),
  `#!/bin/sh
# sphinx: see build/bundle.ts (built by npm run build)
p=$0
case $p in */*) ;; *) p=./$p ;; esac
[ -L "$p" ] && p=$(readlink -f "$p")
GLIBC_TUNABLES="\${GLIBC_TUNABLES:+\$GLIBC_TUNABLES:}${HUGE_PAGES_TUNABLE}" exec node "\${p%/*}/sphinx.js" "$@"
`,
  { mode: 0o755 },
);
