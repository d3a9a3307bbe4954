// The [pinentry] section (pure): the SPHINX site whose records hold the
// keys' passphrases (user = keygrip), and the real pinentry that asks the
// human. pinentry-sphinx reads the same files as `sphinx` (shared/config.ts).
import { homedir } from 'node:os';
import { getProgram, getString, type Sections } from '../shared/config.js';

export interface PinentryConfig {
  /** the SPHINX site of the records (default gpg-agent) */
  host: string;
  /** the real pinentry: a program name (looked up on PATH) or a path */
  pinentry: string;
}

export const DEFAULT_HOST = 'gpg-agent';

export function pinentryConfig(sections: Sections, home = homedir(), cwd = process.cwd()): PinentryConfig {
  const s = sections['pinentry'] ?? {};
  return { host: getString(s, 'host', DEFAULT_HOST), pinentry: getProgram(s, 'pinentry', 'pinentry', home, cwd) };
}
