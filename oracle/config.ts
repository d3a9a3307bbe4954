// The oracle's typed [server] configuration (protocol.md §6) on top of
// shared/config.ts, plus its command line (--config FILE, --help).
//
// Two modes, decided by whether a certificate is configured:
// - production: `ssl_cert` and `ssl_key` are both set. Defaults are the
//   protocol's: datadir /var/lib/sphinx, etc.
// - development: neither is set (e.g. a fresh clone with no config file at
//   all). The datadir defaults to ./data (relative to the working directory)
//   and a self-signed certificate is generated there on first start
//   (oracle/devcert.ts), with a loud warning. An explicit `datadir` is
//   honoured in this mode too.
// Setting only one of the two is an error.
import { resolve } from 'node:path';
import { DEFAULT_PORT, RATE_LIMIT_DEFAULTS } from '../shared/constants.js';
import { UsageError } from '../shared/errors.js';
import { configPaths, expandHome, getBool, getInt, getNumber, getString, loadConfigFiles, type Sections } from '../shared/config.js';

export interface ServerConfig {
  address: string;
  port: number;
  datadir: string;
  /** null in development mode (generated into the datadir). */
  sslCert: string | null;
  sslKey: string | null;
  devCert: boolean;
  verbose: boolean;
  /** Seconds (fractions allowed): the whole life of a connection, TLS handshake included. */
  timeout: number;
  /** Requests processed at once (waiting for the peer or for a record lock does not count). */
  maxKids: number;
  /** Open connections at most; beyond it the oldest idle ones are dropped first. */
  maxConns: number;
  rl_decay: number;
  rl_threshold: number;
  rl_gracetime: number;
}

export const SERVER_DEFAULTS = Object.freeze({
  address: '127.0.0.1',
  port: DEFAULT_PORT,
  datadir: '/var/lib/sphinx',
  devDatadir: './data',
  verbose: false,
  timeout: 3,
  max_kids: 5,
  max_conns: 1000,
  ...RATE_LIMIT_DEFAULTS,
});

function positiveSeconds(v: number, key: string): number {
  if (!(v > 0) || v > 86400) throw new UsageError(`config: ${key} must be more than 0 and at most 86400 seconds, not ${v}`);
  return v;
}

/** The [server] section of merged INI sections as a typed config; UsageError on a bad value. */
export function serverConfig(sections: Sections, cwd = process.cwd(), home?: string): ServerConfig {
  const s = sections['server'] ?? {};
  const path = (p: string): string => resolve(cwd, expandHome(p, home));
  const certSet = getString(s, 'ssl_cert', '') !== '';
  const keySet = getString(s, 'ssl_key', '') !== '';
  if (certSet !== keySet) {
    throw new UsageError(`config: ${certSet ? 'ssl_key' : 'ssl_cert'} is missing ([server] needs both ssl_cert and ssl_key, or neither for a development certificate)`);
  }
  const devCert = !certSet;
  const address = getString(s, 'address', SERVER_DEFAULTS.address);
  return {
    address,
    port: getInt(s, 'port', SERVER_DEFAULTS.port, 0, 65535),
    datadir: path(getString(s, 'datadir', devCert ? SERVER_DEFAULTS.devDatadir : SERVER_DEFAULTS.datadir)),
    sslCert: certSet ? path(s['ssl_cert']!) : null,
    sslKey: keySet ? path(s['ssl_key']!) : null,
    devCert,
    verbose: getBool(s, 'verbose', SERVER_DEFAULTS.verbose),
    timeout: positiveSeconds(getNumber(s, 'timeout', SERVER_DEFAULTS.timeout, 0), 'timeout'),
    maxKids: getInt(s, 'max_kids', SERVER_DEFAULTS.max_kids, 1, 100000),
    maxConns: getInt(s, 'max_conns', SERVER_DEFAULTS.max_conns, 1, 1000000),
    rl_decay: getInt(s, 'rl_decay', SERVER_DEFAULTS.rl_decay, 1),
    rl_threshold: getInt(s, 'rl_threshold', SERVER_DEFAULTS.rl_threshold, 0, 0xffffffff),
    rl_gracetime: getInt(s, 'rl_gracetime', SERVER_DEFAULTS.rl_gracetime, 0, 86400),
  };
}

export const USAGE = `usage: oracle [--config FILE] [--help] [--version]

The SPHINX v1 oracle: a TLS server for the pwdsphinx 1.0.x protocol.

Configuration ([server] section, INI) is read from /etc/sphinx/config,
~/.sphinxrc, ~/.config/sphinx/config and ./sphinx.cfg, later files overriding
earlier ones; --config FILE reads only FILE. Relative paths are relative to
the file's directory. Manuals: oracle(8), sphinx.cfg(5).

  address       listen address                        (127.0.0.1)
  port          TCP port                              (2355)
  ssl_cert      certificate chain, PEM                (see below)
  ssl_key       private key, PEM                      (see below)
  datadir       record directory                      (/var/lib/sphinx)
  verbose       one log line per request              (false)
  timeout       seconds a connection may live         (3)
  max_kids      requests processed at once            (5)
  max_conns     open connections at most              (1000)
  rl_decay      seconds of quiet per difficulty drop  (1800)
  rl_threshold  requests per difficulty level         (1)
  rl_gracetime  extra seconds to answer a puzzle      (10)

Without ssl_cert and ssl_key the oracle runs in development mode: the datadir
defaults to ./data and a self-signed certificate is generated there
(dev-cert.pem, dev-key.pem). Phones refuse self-signed certificates; use a
CA-signed one (e.g. Let's Encrypt) in production and send SIGHUP after renewal.

Signals: SIGTERM/SIGINT finish in-flight requests and exit; SIGHUP reloads the
certificate and key.
`;

export type Cli = { help: true } | { version: true; help: false } | { help: false; version?: false; config?: string };

/** Parse the oracle's arguments (without node and the script). UsageError on anything unknown. */
export function parseArgs(argv: string[]): Cli {
  let config: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return { help: true };
    if (a === '--version' || a === '-V') return { version: true, help: false };
    if (a === '--config' || a === '-c') {
      const v = argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${a} needs a file name`);
      config = v;
    } else if (a.startsWith('--config=')) {
      config = a.slice('--config='.length);
      if (config === '') throw new UsageError('--config needs a file name');
    } else {
      throw new UsageError(`unknown argument: ${a}`);
    }
  }
  return config === undefined ? { help: false } : { help: false, config };
}

/** Read the config files (or only --config) and type the [server] section. */
export function loadServerConfig(explicit?: string, cwd = process.cwd(), home?: string): ServerConfig {
  const paths = configPaths(explicit, home, cwd);
  return serverConfig(loadConfigFiles(paths, explicit !== undefined, undefined, home), cwd, home);
}
