// Locates test/vectors/ from wherever the compiled test runs (dist/test/... or
// another build directory), by walking up to the project root.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'test', 'vectors'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('project root not found');
    dir = up;
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadVectors(name: string): any {
  return JSON.parse(readFileSync(join(projectRoot(), 'test', 'vectors', `${name}.json`), 'utf8'));
}

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
