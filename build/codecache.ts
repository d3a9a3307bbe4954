// Loading a CommonJS file through V8's code cache (vm.Script cachedData), for
// the `sphinx` bin (build/launcher.ts) and the build step that writes the
// cache (build/bundle.ts). Node 22 has module.enableCompileCache() for this;
// Node 20 only has vm.Script.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/** The client bundle, next to the bin. */
export const MAIN_BUNDLE = 'sphinx-main.js';

/** Where a file's code cache lives. */
export const cacheFile = (file: string): string => `${file}.cache`;

/** Reads a file's code cache; undefined when there is none. */
export function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(cacheFile(file));
  } catch {
    return undefined;
  }
}

/**
 * Compiles a CommonJS file (V8 checks the cache against the source and its
 * own version and flags). The file must not use a dynamic import(): a
 * vm.Script has no ES module loader behind it on Node 20 (the build checks,
 * build/bundle.ts).
 */
export function compileCommonJs(file: string, cachedData?: Buffer): Script {
  const source = readFileSync(file, 'utf8').replace(/^#!.*/, '');
  return new Script(Module.wrap(source), { filename: file, cachedData });
}

/** Evaluates a compiled CommonJS file as a module of its own; returns its exports. */
export function evaluateCommonJs(script: Script, file: string): Record<string, unknown> {
  const mod = { exports: {} as Record<string, unknown> };
  const fn = script.runInThisContext() as (e: object, r: NodeJS.Require, m: object, f: string, d: string) => void;
  fn.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  return mod.exports;
}

/**
 * Build step: compiles and evaluates `file`, runs its `warmUp` export when it
 * has one (the client's: the `get` path's computations on made-up values,
 * client/warmup.ts), then writes what V8 compiled to its cache file: the top
 * level and every function that ran, so they are not compiled again at run
 * time.
 */
export async function writeCodeCache(file: string): Promise<void> {
  const script = compileCommonJs(file);
  const exports = evaluateCommonJs(script, file);
  if (typeof exports['warmUp'] === 'function') await (exports['warmUp'] as () => Promise<void>)();
  const data = script.createCachedData();
  const tmp = `${cacheFile(file)}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, cacheFile(file));
}
