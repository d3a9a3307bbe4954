// The package version, read at run time from package.json (the one place it
// is written). Every entry point sits two directories below the package root
// (dist/oracle/main.js, dist/client/main.js, the bundle dist/bin/sphinx-main.js).
import { readFileSync } from 'node:fs';

export function packageVersion(from: string = import.meta.url): string {
  try {
    const v = (JSON.parse(readFileSync(new URL('../../package.json', from), 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : 'unknown';
  } catch {
    return 'unknown';
  }
}
