// INI configuration shared by the oracle and the client (protocol.md §6):
// /etc/sphinx/config, ~/.sphinxrc, ~/.config/sphinx/config, ./sphinx.cfg,
// later files overriding earlier ones key by key; values may be wrapped in
// double quotes, which are stripped. Reading files lives in loadConfigFiles;
// everything else is pure.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import ini from 'ini';
import { UsageError } from './errors.js';

export type Section = Record<string, string>;
export type Sections = Record<string, Section>;

/** The files read, in order; `explicit` (--config) replaces the list. */
export function configPaths(explicit?: string, home = homedir(), cwd = process.cwd()): string[] {
  if (explicit) return [resolve(cwd, explicit)];
  return ['/etc/sphinx/config', join(home, '.sphinxrc'), join(home, '.config', 'sphinx', 'config'), join(cwd, 'sphinx.cfg')];
}

function unquote(v: unknown): string {
  const s = String(v).trim();
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/** Parse one INI text into sections of string values (quotes stripped). */
export function parseIni(text: string): Sections {
  const raw = ini.parse(text) as Record<string, unknown>;
  const out: Sections = {};
  for (const [name, sec] of Object.entries(raw)) {
    if (sec === null || typeof sec !== 'object') continue; // keys outside a section are ignored
    const s: Section = {};
    for (const [k, v] of Object.entries(sec as Record<string, unknown>)) {
      if (v !== null && typeof v === 'object') continue;
      s[k] = unquote(v);
    }
    out[name] = s;
  }
  return out;
}

/** Merge later sections over earlier ones, key by key. */
export function mergeSections(list: Sections[]): Sections {
  const out: Sections = {};
  for (const secs of list) for (const [name, s] of Object.entries(secs)) out[name] = { ...(out[name] ?? {}), ...s };
  return out;
}

/**
 * Read the config files that exist. A missing default file is skipped; an
 * explicitly named file that cannot be read is a UsageError.
 */
export function loadConfigFiles(paths: string[], explicit: boolean): Sections {
  const list: Sections[] = [];
  for (const p of paths) {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!explicit && (code === 'ENOENT' || code === 'ENOTDIR')) continue;
      throw new UsageError(`cannot read config file ${p}: ${code ?? (e as Error).message}`);
    }
    list.push(parseIni(text));
  }
  return mergeSections(list);
}

// Typed getters. Booleans follow Python's configparser (which the reference uses).
const TRUE = new Set(['1', 'yes', 'true', 'on']);
const FALSE = new Set(['0', 'no', 'false', 'off']);

export function getBool(s: Section, key: string, dflt: boolean): boolean {
  const v = s[key];
  if (v === undefined || v === '') return dflt;
  const l = v.toLowerCase();
  if (TRUE.has(l)) return true;
  if (FALSE.has(l)) return false;
  throw new UsageError(`config: ${key} must be true or false, not "${v}"`);
}

export function getInt(s: Section, key: string, dflt: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = s[key];
  if (v === undefined || v === '') return dflt;
  if (!/^\d+$/.test(v.trim())) throw new UsageError(`config: ${key} must be a whole number, not "${v}"`);
  const n = Number(v.trim());
  if (n < min || n > max) throw new UsageError(`config: ${key} must be between ${min} and ${max}, not ${n}`);
  return n;
}

export function getNumber(s: Section, key: string, dflt: number, min = 0): number {
  const v = s[key];
  if (v === undefined || v === '') return dflt;
  const n = Number(v.trim());
  if (!Number.isFinite(n) || n < min) throw new UsageError(`config: ${key} must be a number >= ${min}, not "${v}"`);
  return n;
}

export function getString(s: Section, key: string, dflt: string): string {
  const v = s[key];
  return v === undefined || v === '' ? dflt : v;
}

/** Expand a leading ~ the way the reference does (os.path.expanduser). */
export function expandHome(p: string, home = homedir()): string {
  return p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p;
}
