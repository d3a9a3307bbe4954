// Build step: the browser extension (extension/) as unpacked Manifest V3
// builds, <build>/extension/chromium/ and <build>/extension/firefox/, and the
// zip files the stores take, <build>/extension/sphinx-<target>-<version>.zip.
// esbuild bundles each entry point (background, popup) into one plain script
// (no modules, no remote code: every line the extension runs is in the zip).
// The zips are made with fflate (a small, dependency-free, widely used zip
// library) with fixed dates, so that the same sources give the same bytes,
// which store reviewers and reproducible builds want; Debian's zip would add
// a system dependency and the files' own dates.
//
// Usage: node <build>/build/extension.js   (npm run build:extension)
import { buildSync } from 'esbuild';
import { zipSync, type Zippable } from 'fflate';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { manifestFor, TARGETS, type Target } from '../extension/manifest.js';

const here = dirname(fileURLToPath(import.meta.url)); // <build>/build
const root = join(here, '..', '..'); // the repository
const src = join(root, 'extension');
const out = join(here, '..', 'extension');

const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

/** Builds one target; returns its directory. */
export function buildTarget(target: Target): string {
  const dir = join(out, target);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  buildSync({
    entryPoints: { background: join(src, 'background.ts'), popup: join(src, 'popup.ts') },
    outdir: dir,
    bundle: true,
    format: 'iife',
    target: target === 'chromium' ? 'chrome111' : 'firefox140',
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const f of ['popup.html', 'popup.css']) copyFileSync(join(src, f), join(dir, f));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifestFor(target, version), null, 2) + '\n');
  return dir;
}

/** The store zip of a built target: its files at the top level, fixed dates. */
export function zipTarget(target: Target, dir: string): string {
  const files: Zippable = {};
  for (const f of readdirSync(dir).sort()) files[f] = [readFileSync(join(dir, f)), { mtime: new Date('2024-01-01T00:00:00Z'), level: 9 }];
  const file = join(out, `sphinx-${target}-${version}.zip`);
  writeFileSync(file, zipSync(files));
  return file;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const t of TARGETS) {
    const dir = buildTarget(t);
    process.stdout.write(`${dir}\n${zipTarget(t, dir)}\n`);
  }
}

