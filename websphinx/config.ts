// The [websphinx] section (pure): the pinentry program and the optional log
// file. The host reads the same files as `sphinx` (shared/config.ts).
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { expandHome, getProgram, getString, type Sections } from '../shared/config.js';

export interface WebsphinxConfig {
  /** program name (looked up on PATH) or path */
  pinentry: string;
  /** absolute path of the log file, or undefined: no log */
  log?: string;
}

export function websphinxConfig(sections: Sections, home = homedir(), cwd = process.cwd()): WebsphinxConfig {
  const s = sections['websphinx'] ?? {};
  const cfg: WebsphinxConfig = { pinentry: getProgram(s, 'pinentry', 'pinentry', home, cwd) };
  const log = getString(s, 'log', '');
  if (log) cfg.log = resolve(cwd, expandHome(log, home));
  return cfg;
}
