// The typed [client] section (protocol.md §6) over shared/config.ts.
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_PORT } from '../shared/constants.js';
import { configPaths, expandHome, getBool, getInt, getString, loadConfigFiles, type Sections } from '../shared/config.js';

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

/** Pure: the [client] section with the reference's defaults; paths expanded (~) and made absolute. */
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

/** Reads the four config files (or only `explicit`) and returns the [client] settings. */
export function loadClientConfig(explicit?: string): ClientConfig {
  return clientConfig(loadConfigFiles(configPaths(explicit), explicit !== undefined));
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
