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
  /**
   * Used challenges remembered at most (replay protection; the soonest-expiring
   * is forgotten beyond, no request is refused). Sized from what can be used
   * within a freshness window: one oracle process completes at most ~870
   * verify connections/s (Node's TLS floor, 1.15 ms per resumed handshake,
   * BENCHMARKS.md), so the cheapest puzzles (level 0, 11 s window) keep at
   * most ~9,600 entries live; the default leaves a 13x margin for longer
   * windows, at ~150 bytes per entry (20 MB when full).
   */
  replayCache: number;
  /** CREATEs per second per source address (token bucket refill; 0: unlimited). */
  createRate: number;
  /** CREATEs a source may make at once (token bucket size). */
  createBurst: number;
  /** MiB of free space in the datadir below which CREATE is refused (0: no reserve). */
  createMinFree: number;
  /** Seconds between session-ticket key rotations. */
  ticketRotate: number;
  /** Seconds each start-up step (datadir, certificate, MAC key, listen) may take. */
  startupTimeout: number;
  /** Log failed requests with the peer address (for fail2ban; see contrib/fail2ban). */
  logPeers: boolean;
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
  replay_cache: 131072,
  create_rate: 0.1,
  create_burst: 30,
  create_min_free: 64,
  ticket_rotate: 3600,
  startup_timeout: 10,
  log_peers: false,
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
    replayCache: getInt(s, 'replay_cache', SERVER_DEFAULTS.replay_cache, 1, 100_000_000),
    createRate: getNumber(s, 'create_rate', SERVER_DEFAULTS.create_rate, 0),
    createBurst: getInt(s, 'create_burst', SERVER_DEFAULTS.create_burst, 1, 1_000_000),
    createMinFree: getNumber(s, 'create_min_free', SERVER_DEFAULTS.create_min_free, 0),
    ticketRotate: positiveSeconds(getNumber(s, 'ticket_rotate', SERVER_DEFAULTS.ticket_rotate, 0), 'ticket_rotate'),
    startupTimeout: positiveSeconds(getNumber(s, 'startup_timeout', SERVER_DEFAULTS.startup_timeout, 0), 'startup_timeout'),
    logPeers: getBool(s, 'log_peers', SERVER_DEFAULTS.log_peers),
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
  replay_cache  used challenges remembered at most    (131072)
  create_rate   CREATEs per second per source, 0 off  (0.1)
  create_burst  CREATEs a source may make at once     (30)
  create_min_free  MiB free below which CREATE is refused (64)
  ticket_rotate seconds between TLS ticket key changes (3600)
  startup_timeout  seconds each start-up step may take (10)
  log_peers     log failed requests with the peer address (false)

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
