// The `sphinx` bin (bundled to <build>/bin/sphinx.js by build/bundle.ts):
// loads the client bundle (bin/sphinx-main.js) through V8's code cache
// (bin/sphinx-main.js.cache, written at build time) and runs it.
//
// Why: compiling the ~170 kB bundle costs ~10 ms of every start; from the
// cache V8 takes ~1 ms (BENCHMARKS.md). The cache is only an optimisation:
// when it is missing or V8 rejects it (another Node version, other V8 flags,
// a bundle rebuilt without it) the bundle compiles as usual. It is never
// written at run time, so the install may be read-only.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileCommonJs, evaluateCommonJs, MAIN_BUNDLE, readCache } from './codecache.js';

const file = join(dirname(fileURLToPath(import.meta.url)), MAIN_BUNDLE);
let main: { runAsBin: () => void };
try {
  main = evaluateCommonJs(compileCommonJs(file, readCache(file)), file) as typeof main;
} catch (e) {
  // a broken install (the bundle missing or unreadable), not a user error
  process.stderr.write(`error: cannot load ${file} (${(e as Error).message.split('\n')[0]}): rebuild with npm run build\n`);
  process.exit(3);
}
main.runAsBin();
