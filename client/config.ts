// The typed [client] section (protocol.md §6) over shared/config.ts.
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_PORT } from '../shared/constants.js';
import { existsSync } from 'node:fs';
import { configPaths, expandHome, getBool, getInt, getString, loadConfig, type LoadedConfig, type Sections } from '../shared/config.js';

export interface ClientConfig {
  /** host name or IP; also the TLS server name when verifying against CAs */
  address: string;
  port: number;
  /** where `masterkey` lives */
  datadir: string;
  /** pinned certificate file (absolute), or undefined: system CAs + host name check */
  sslCert?: string;
  rwdKeys: boolean;
  validatePassword: boolean;
  verbose: boolean;
}

/** Pure: the [client] section with the reference's defaults; paths expanded (~) and made absolute (a file's own paths already are, against its directory). */
export function clientConfig(sections: Sections, home = homedir(), cwd = process.cwd()): ClientConfig {
  const s = sections['client'] ?? {};
  const cfg: ClientConfig = {
    address: getString(s, 'address', '127.0.0.1'),
    port: getInt(s, 'port', DEFAULT_PORT, 1, 65535),
    datadir: resolve(cwd, expandHome(getString(s, 'datadir', '~/.config/sphinx'), home)),
    rwdKeys: getBool(s, 'rwd_keys', false),
    validatePassword: getBool(s, 'validate_password', true),
    verbose: getBool(s, 'verbose', false),
  };
  const cert = getString(s, 'ssl_cert', '');
  if (cert) cfg.sslCert = resolve(cwd, expandHome(cert, home));
  return cfg;
}

/** Reads the four config files (or only `explicit`): the [client] settings, and where each came from. */
export function loadClientSettings(explicit?: string): { cfg: ClientConfig; loaded: LoadedConfig; paths: string[] } {
  const paths = configPaths(explicit);
  const loaded = loadConfig(paths, explicit !== undefined);
  return { cfg: clientConfig(loaded.sections), loaded, paths };
}

/** Reads the four config files (or only `explicit`) and returns the [client] settings. */
export function loadClientConfig(explicit?: string): ClientConfig {
  return loadClientSettings(explicit).cfg;
}

/**
 * `sphinx config`: the effective [client] settings, each with the file and
 * line that set it (or "default"), and which files were looked for. Settings
 * only: no secret lives in the config (the masterkey is a file in datadir).
 */
export function showConfig(cfg: ClientConfig, loaded: LoadedConfig, paths: readonly string[], exists: (p: string) => boolean = existsSync): string {
  const values: Array<[string, string]> = [
    ['address', cfg.address],
    ['port', String(cfg.port)],
    ['datadir', cfg.datadir],
    ['ssl_cert', cfg.sslCert ?? ''],
    ['rwd_keys', String(cfg.rwdKeys)],
    ['validate_password', String(cfg.validatePassword)],
    ['verbose', String(cfg.verbose)],
  ];
  const origins = loaded.origins['client'] ?? {};
  const files = paths.map((p) => `#   ${p} (${loaded.files.includes(p) ? 'read' : exists(p) ? 'not read' : 'not found'})`);
  const width = Math.max(...values.map(([k, v]) => k.length + v.length + 3));
  const lines = values.map(([k, v]) => {
    const o = origins[k];
    const from = o ? `${o.file}:${o.line}` : k === 'ssl_cert' && !v ? 'default: unset, system CAs and a host name check' : 'default';
    return `${`${k} = ${v}`.padEnd(width)}  # ${from}`;
  });
  return ['# config files, later ones overriding earlier ones:', ...files, '[client]', ...lines, ''].join('\n');
}

/** What verbose mode prints (no secrets: the masterkey path, never its content). */
export function describeConfig(cfg: ClientConfig): string[] {
  return [
    `address: ${cfg.address}`,
    `port: ${cfg.port}`,
    `datadir: ${cfg.datadir}`,
    `ssl_cert: ${cfg.sslCert ?? '(none: system CAs and host name check)'}`,
    `rwd_keys: ${cfg.rwdKeys}`,
    `validate_password: ${cfg.validatePassword}`,
  ];
}
