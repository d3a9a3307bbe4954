// INI configuration shared by the oracle and the client (protocol.md §6):
// /etc/sphinx/config, ~/.sphinxrc, ~/.config/sphinx/config, ./sphinx.cfg,
// later files overriding earlier ones key by key; values may be wrapped in
// double quotes, which are stripped. Checked as it is read: a line that is not
// INI is an error naming the file and line; an unknown section or key is a
// warning naming the closest known one (CONFIG_SCHEMA, the one list of them).
// A path value (datadir, ssl_cert, ssl_key) is relative to the directory of
// the file that sets it. Reading files lives in loadConfig; the rest is pure.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import ini from 'ini';
import { UsageError } from './errors.js';

export type Section = Record<string, string>;
export type Sections = Record<string, Section>;

/** How a key's value is read: a path is resolved against its file's directory (after ~), anything else is kept as written. */
export type KeyKind = 'path' | 'value';

/**
 * Every section and key the programs read, one line per key: add a key here
 * and it is no longer warned about. (pwdsphinx 1.0.x files use the same names.)
 */
export const CONFIG_SCHEMA: Readonly<Record<string, Readonly<Record<string, KeyKind>>>> = {
  client: {
    address: 'value',
    port: 'value',
    datadir: 'path',
    ssl_cert: 'path',
    rwd_keys: 'value',
    validate_password: 'value',
    verbose: 'value',
  },
  server: {
    address: 'value',
    port: 'value',
    datadir: 'path',
    ssl_cert: 'path',
    ssl_key: 'path',
    verbose: 'value',
    timeout: 'value',
    max_kids: 'value',
    max_conns: 'value',
    rl_decay: 'value',
    rl_threshold: 'value',
    rl_gracetime: 'value',
    replay_cache: 'value',
    create_rate: 'value',
    create_burst: 'value',
    create_min_free: 'value',
    ticket_rotate: 'value',
    startup_timeout: 'value',
    log_peers: 'value',
  },
  websphinx: {
    pinentry: 'value',
    log: 'path',
  },
  pinentry: {
    host: 'value',
    pinentry: 'value',
  },
};

/** The files read, in order; `explicit` (--config) replaces the list. */
export function configPaths(explicit?: string, home = homedir(), cwd = process.cwd()): string[] {
  if (explicit) return [resolve(cwd, explicit)];
  return ['/etc/sphinx/config', join(home, '.sphinxrc'), join(home, '.config', 'sphinx', 'config'), join(cwd, 'sphinx.cfg')];
}

function unquote(v: string): string {
  const s = ini.unsafe(v); // the ini library's value rules: trimmed, quotes, ; and # comments
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/** One `key = value` line of a file. */
export interface Entry {
  section: string;
  key: string;
  value: string;
  /** 1-based */
  line: number;
  /** the line of its [section] header */
  sectionLine: number;
}

/**
 * Splits INI text into entries, line by line; UsageError "FILE:LINE: ..." for
 * a line that is neither blank, a comment (# or ;), a [section] nor a
 * `key = value` inside a section.
 */
export function scanIni(text: string, file = '(config)'): Entry[] {
  const out: Entry[] = [];
  let section: string | null = null;
  let sectionLine = 0;
  const lines = text.split(/\r?\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim();
    const where = `${file}:${i + 1}`;
    if (l === '' || l.startsWith('#') || l.startsWith(';')) continue;
    if (l.startsWith('[')) {
      const m = /^\[([^\]]*)\]$/.exec(l);
      if (!m || m[1]!.trim() === '') throw new UsageError(`${where}: not INI: a section header is "[name]"`);
      section = m[1]!.trim();
      sectionLine = i + 1;
      continue;
    }
    const eq = l.indexOf('=');
    if (eq <= 0) throw new UsageError(`${where}: not INI: expected "key = value" or "[section]"`);
    if (section === null) throw new UsageError(`${where}: "${l.slice(0, eq).trim()}" is outside any section (put it under [client] or [server])`);
    out.push({ section, key: unquote(l.slice(0, eq)), value: unquote(l.slice(eq + 1)), line: i + 1, sectionLine });
  }
  return out;
}

/** Parse one INI text into sections of string values (quotes stripped); UsageError when it is not INI. */
export function parseIni(text: string, file?: string): Sections {
  const out: Sections = {};
  for (const e of scanIni(text, file)) (out[e.section] ??= {})[e.key] = e.value;
  return out;
}

/** The known name nearest to `name` (edit distance), for "did you mean". */
export function nearest(name: string, known: readonly string[]): string {
  return closest(name, known as string[]);
}

/** Warnings for the sections and keys CONFIG_SCHEMA does not know: file, line and the closest known name. */
export function unknownNames(entries: readonly Entry[], file: string, schema = CONFIG_SCHEMA): string[] {
  const out: string[] = [];
  const sections = Object.keys(schema);
  const warned = new Set<string>();
  for (const e of entries) {
    const keys = schema[e.section];
    if (!keys) {
      if (warned.has(e.section)) continue;
      warned.add(e.section);
      out.push(`warning: ${file}:${e.sectionLine}: unknown section [${e.section}] (ignored; closest known: [${nearest(e.section, sections)}])`);
    } else if (!(e.key in keys)) {
      const guess = nearest(e.key, Object.keys(keys));
      const far = distance(e.key, guess) > Math.max(2, guess.length / 2);
      out.push(`warning: ${file}:${e.line}: unknown key "${e.key}" in [${e.section}] (ignored; ${far ? 'closest' : 'did you mean'} "${guess}"?)`);
    }
  }
  return out;
}

/** Merge later sections over earlier ones, key by key. */
export function mergeSections(list: Sections[]): Sections {
  const out: Sections = {};
  for (const secs of list) for (const [name, s] of Object.entries(secs)) out[name] = { ...(out[name] ?? {}), ...s };
  return out;
}

/** Where a value was set. */
export interface Origin {
  file: string;
  line: number;
}

export interface LoadedConfig {
  /** effective values; path values absolute (resolved against their file's directory) */
  sections: Sections;
  /** for each section and key in `sections`: the file and line that set it */
  origins: Record<string, Record<string, Origin>>;
  /** the files that were read, in order */
  files: string[];
}

/** Expand a leading ~ the way the reference does (os.path.expanduser). */
export function expandHome(p: string, home = homedir()): string {
  return p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p;
}

/** Entries of one file over `into`: path values made absolute against the file's directory. */
export function applyEntries(into: LoadedConfig, entries: readonly Entry[], file: string, home = homedir(), schema = CONFIG_SCHEMA): void {
  for (const e of entries) {
    const kind = schema[e.section]?.[e.key];
    const value = kind === 'path' && e.value !== '' ? resolve(dirname(file), expandHome(e.value, home)) : e.value;
    (into.sections[e.section] ??= {})[e.key] = value;
    (into.origins[e.section] ??= {})[e.key] = { file, line: e.line };
  }
}

/**
 * Read the config files that exist, check them (errors for what is not INI,
 * warnings through `warn` for unknown names) and merge them. A missing
 * default file is skipped; an explicitly named file that cannot be read is a
 * UsageError.
 */
export function loadConfig(paths: string[], explicit: boolean, warn: (line: string) => void = (l) => void process.stderr.write(l + '\n'), home = homedir()): LoadedConfig {
  const cfg: LoadedConfig = { sections: {}, origins: {}, files: [] };
  for (const p of paths) {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!explicit && (code === 'ENOENT' || code === 'ENOTDIR')) continue;
      throw new UsageError(`cannot read config file ${p}: ${code ?? (e as Error).message}`);
    }
    const entries = scanIni(text, p);
    for (const w of unknownNames(entries, p)) warn(w);
    applyEntries(cfg, entries, p, home);
    cfg.files.push(p);
  }
  return cfg;
}

/** loadConfig's effective values only. */
export function loadConfigFiles(paths: string[], explicit: boolean, warn?: (line: string) => void, home?: string): Sections {
  return loadConfig(paths, explicit, warn, home).sections;
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

/** A program setting: a bare name stays (looked up on PATH), a path is expanded (~) and made absolute. */
export function getProgram(s: Section, key: string, dflt: string, home = homedir(), cwd = process.cwd()): string {
  const p = expandHome(getString(s, key, dflt), home);
  return p.includes('/') ? resolve(cwd, p) : p;
}

