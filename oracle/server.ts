// The oracle's server shell: TLS, connection limits, timeouts, signals-facing
// lifecycle (graceful close, certificate reload). The protocol itself is
// protocol.ts (no I/O); the datadir is storage.ts.
//
// - TCP_NODELAY on every socket (protocol.md §8.8).
// - `timeout` bounds the whole life of a connection, TLS handshake included;
//   a failed handshake, plain bytes or a reset end only that connection (§8.3).
// - `max_kids` bounds requests being processed at once. A connection holds a
//   slot only while it has a complete message to work on; waiting for the peer
//   never holds one, and accepting never waits for one (§8.4).
// - At most `max_conns` open connections: a new one beyond that evicts the
//   connection that has waited longest on its peer, whatever its stage (TLS
//   handshake, no request byte yet, a request stalled mid-way); never one the
//   oracle is working on (else the new one is dropped).
// - Every connection is closed after its reply (success or fail).
// - TLS 1.2 with ECDHE + AES-GCM or ChaCha20-Poly1305 only (Mozilla
//   "intermediate"), and TLS 1.3; the session-ticket key is replaced every
//   `ticket_rotate` seconds, so a stolen ticket key cannot decrypt older sessions.
// - Start-up: every step (datadir, certificate, MAC key, listen) is bounded
//   by `startup_timeout` and fails with one line.
// - Replay protection survives restarts (oracle/replaystore.ts).
// - CREATE: a token bucket per source and a free-space reserve (createlimit.ts).
import type { Socket } from 'node:net';
import { statfsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createSecureContext, createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { toHex } from '../shared/bytes.js';
import { ReplayCache } from '../shared/ratelimit.js';
import { deriveChallengeKey } from './challenge.js';
import type { ServerConfig } from './config.js';
import { TokenBuckets, sourceKey } from './createlimit.js';
import { EPOCH_SIZE, clearRunning, markRunning, previousStop, saveUsedChallenges, type PreviousStop } from './replaystore.js';
import { ensureDevCert } from './devcert.js';
import { Semaphore } from './locks.js';
import { createLogger, errText, type Logger } from './log.js';
import { PeerGone, serve, type OracleContext, type Peer } from './protocol.js';
import { FsStorage, loadMacKey, prepareDatadir, recover, type Storage } from './storage.js';

/**
 * Mozilla "intermediate" without DHE: TLS 1.3's suites, and for TLS 1.2 only
 * ECDHE with AES-GCM or ChaCha20-Poly1305 (no CBC, CCM, ARIA, no static RSA).
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');
const TLS_OPTIONS = { minVersion: 'TLSv1.2', ciphers: TLS_CIPHERS } as const;

const isCode = (e: unknown, code: string): boolean => (e as NodeJS.ErrnoException)?.code === code;

/** A problem that keeps the oracle from starting; its message is one line for the operator. */
export class StartupError extends Error {
  override name = 'StartupError';
}

export interface OracleServerOptions {
  config: ServerConfig;
  /** Unix time in seconds (fractional allowed); default Date.now()/1000. Tests inject their own. */
  now?: () => number;
  logger?: Logger;
  /** Randomness for record keys and auth nonces (tests only). */
  random?: (n: number) => Uint8Array;
  /** Used challenge MACs remembered at most (default: config replay_cache). */
  replayCapacity?: number;
  /** Default: FsStorage on the datadir. */
  storage?: Storage;
}

export interface OracleServer {
  readonly address: string;
  readonly port: number;
  readonly datadir: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** Open connections right now. */
  readonly connections: number;
  /** Re-read the certificate and key; keeps the old ones (and returns false) when the new ones are unusable. */
  reload(): Promise<boolean>;
  /** Stop accepting, let requests being processed finish, close everything. */
  close(): Promise<void>;
}

/** A request in progress whose peer has been quiet for less than this is not evicted before idle connections. */
const STALL_GRACE_MS = 2000;

/** Largest message a client legitimately sends at once (new user list: 34 + 65535 + 64), with slack. */
const MAX_BUFFERED = 72 * 1024;

interface ConnState {
  /**
   * A request is in progress: its first byte arrived. Such a connection is
   * never evicted as idle and is let finish on shutdown; idle ones (TLS
   * handshake, or no byte yet) are dropped first.
   */
  busy: boolean;
  /** TLS is up and serve() runs on it. */
  session: boolean;
  /** performance.now() of the last sign of life: accepted, handshake done, bytes received, reply sent. */
  lastActivity: number;
  timer: NodeJS.Timeout;
  /** The request's byte stream, once TLS is up. */
  peer?: SocketPeer;
}

/** The byte stream of one TLS connection, with the max_kids slot handling. */
class SocketPeer implements Peer {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private gone = false;
  private waiter: (() => void) | null = null;
  private hasKid = false;
  private wantsKid = false;
  /** Replies are queued and sent when we wait for the peer or finish (one TLS record with the close). */
  private out: Uint8Array[] = [];

  constructor(
    private readonly sock: TLSSocket,
    private readonly kids: Semaphore,
    /** Called once, when the first request byte has arrived. */
    private readonly onRequest: () => void,
    /** Called whenever bytes arrive. */
    private readonly onActivity: () => void,
    readonly source: string | undefined,
  ) {
    sock.on('data', (d: Buffer) => {
      this.onActivity();
      this.chunks.push(d);
      this.buffered += d.length;
      if (this.buffered > MAX_BUFFERED) sock.destroy();
      this.wake();
    });
    const end = (): void => {
      this.gone = true;
      this.wake();
    };
    sock.on('end', end);
    sock.on('close', end);
    sock.on('error', end);
  }

  get pending(): number {
    return this.buffered;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Holds or waits for a max_kids slot: the oracle is working on it, not waiting for the peer. */
  get working(): boolean {
    return this.hasKid || this.wantsKid;
  }

  releaseKid(): void {
    if (this.hasKid) {
      this.hasKid = false;
      this.kids.release();
    }
  }

  async read(n: number): Promise<Uint8Array> {
    if (this.buffered < n) {
      this.flush();
      this.releaseKid();
      while (this.buffered < n) {
        if (this.gone) throw new PeerGone();
        await new Promise<void>((res) => (this.waiter = res));
      }
    }
    this.onRequest();
    if (!this.hasKid) {
      this.wantsKid = true;
      await this.kids.acquire();
      this.wantsKid = false;
      this.hasKid = true;
      if (this.sock.destroyed) {
        this.releaseKid();
        throw new PeerGone();
      }
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = new Uint8Array(all.subarray(0, n));
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  write(data: Uint8Array): void {
    if (this.sock.destroyed || !this.sock.writable) throw new PeerGone();
    this.out.push(data);
  }

  private takeOut(): Buffer | null {
    if (this.out.length === 0) return null;
    const b = this.out.length === 1 ? Buffer.from(this.out[0]!) : Buffer.concat(this.out);
    this.out = [];
    return b;
  }

  private flush(): void {
    const b = this.takeOut();
    if (b && !this.sock.destroyed) this.sock.write(b);
  }

  /** Send what is queued and close our side. */
  finish(): void {
    const b = this.takeOut();
    if (this.sock.destroyed) return;
    if (b) this.sock.end(b);
    else this.sock.end();
  }
}

async function loadCredentials(certPath: string, keyPath: string): Promise<{ cert: Buffer; key: Buffer }> {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = await readFile(certPath);
  } catch (e) {
    throw new StartupError(`cannot read ssl_cert ${certPath}: ${(e as NodeJS.ErrnoException).code ?? errText(e)}`);
  }
  try {
    key = await readFile(keyPath);
  } catch (e) {
    throw new StartupError(`cannot read ssl_key ${keyPath}: ${(e as NodeJS.ErrnoException).code ?? errText(e)}`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    throw new StartupError(`unusable ssl_cert ${certPath} / ssl_key ${keyPath}: ${errText(e)}`);
  }
  return { cert, key };
}

const describe = (c: ServerConfig): string =>
  `datadir ${c.datadir}; timeout ${c.timeout} s, max_kids ${c.maxKids}, max_conns ${c.maxConns}, ` +
  `rl_decay ${c.rl_decay} s, rl_threshold ${c.rl_threshold}, rl_gracetime ${c.rl_gracetime} s, replay_cache ${c.replayCache}, ` +
  `create_rate ${c.createRate}/s, create_burst ${c.createBurst}, create_min_free ${c.createMinFree} MiB, verbose ${c.verbose ? 'on' : 'off'}`;

/** `p`, or a StartupError naming `what` once `seconds` have passed (a start-up step that hangs, e.g. on a dead NFS mount). */
function bounded<T>(p: Promise<T>, seconds: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, rej) => {
    t = setTimeout(() => rej(new StartupError(`${what} took more than ${seconds} s (startup_timeout); check that path or device`)), seconds * 1000);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(t));
}

/** Start-up warnings for a datadir or MAC key other users can reach, each with the chmod that fixes it. */
async function permissionWarnings(datadir: string): Promise<string[]> {
  const out: string[] = [];
  for (const [path, want, what] of [
    [datadir, 0o700, 'datadir'],
    [join(datadir, 'key'), 0o600, 'MAC key'],
  ] as const) {
    const mode = (await stat(path)).mode & 0o777;
    if (mode & 0o077) {
      out.push(`${what} ${path} is accessible to other users (mode ${mode.toString(8).padStart(4, '0')}): run chmod ${want.toString(8)} ${path}`);
    }
  }
  return out;
}

/** Prepare the datadir and certificate, listen, and serve. Throws StartupError (before listening) on a configuration problem. */
export async function startServer(opts: OracleServerOptions): Promise<OracleServer> {
  const cfg = opts.config;
  const log = opts.logger ?? createLogger({ verbose: cfg.verbose });
  const now = opts.now ?? ((): number => Date.now() / 1000);

  const limit = cfg.startupTimeout;
  try {
    await bounded(prepareDatadir(cfg.datadir), limit, `preparing datadir ${cfg.datadir}`);
  } catch (e) {
    throw e instanceof StartupError ? e : new StartupError(errText(e));
  }
  let certPath: string;
  let keyPath: string;
  let devWarning: string | null = null;
  if (cfg.devCert) {
    try {
      const dev = await bounded(ensureDevCert(cfg.datadir), limit, `creating the development certificate in ${cfg.datadir}`);
      certPath = dev.certPath;
      keyPath = dev.keyPath;
      devWarning =
        `DEVELOPMENT MODE: no ssl_cert/ssl_key configured, using the self-signed certificate ${certPath}` +
        `${dev.generated ? ' (generated now)' : ''}. Clients must pin it (ssl_cert); phones refuse it. ` +
        'Configure a CA-signed certificate for real use.';
    } catch (e) {
      if (e instanceof StartupError) throw e;
      throw new StartupError(`cannot create the development certificate in ${cfg.datadir}: ${errText(e)}`);
    }
  } else {
    certPath = cfg.sslCert!;
    keyPath = cfg.sslKey!;
  }
  const creds = await bounded(loadCredentials(certPath, keyPath), limit, `reading ssl_cert ${certPath} and ssl_key ${keyPath}`);
  let macKey: Uint8Array;
  let recovered = 0;
  let prev: PreviousStop;
  let warnings: string[];
  try {
    macKey = await bounded(loadMacKey(cfg.datadir), limit, `reading the MAC key in ${cfg.datadir}`);
    recovered = await bounded(recover(cfg.datadir), limit, `recovering ${cfg.datadir}`);
    prev = await bounded(previousStop(cfg.datadir, now()), limit, `reading the used challenges in ${cfg.datadir}`);
    warnings = await bounded(permissionWarnings(cfg.datadir), limit, `checking the permissions of ${cfg.datadir}`);
  } catch (e) {
    if (e instanceof StartupError) throw e;
    throw new StartupError(`datadir ${cfg.datadir}: ${errText(e)}`);
  }

  const capacity = opts.replayCapacity ?? cfg.replayCache;
  const replay = new ReplayCache(capacity);
  const issued = new ReplayCache(capacity);
  const startedAt = now();
  for (const [mac, at] of prev.kind === 'clean' ? prev.entries : []) {
    replay.checkAndRemember(mac, at, startedAt);
    issued.checkAndRemember(mac, at, startedAt);
  }
  const store = opts.storage ?? new FsStorage(cfg.datadir);
  const buckets = new TokenBuckets(cfg.createRate, cfg.createBurst);
  const minFree = cfg.createMinFree * 1024 * 1024;
  let lastReserveWarning = -Infinity;
  const admitCreate = (source: string | undefined): string | null => {
    if (minFree > 0) {
      let free = Infinity;
      try {
        const fs = statfsSync(cfg.datadir);
        free = fs.bavail * fs.bsize;
      } catch {
        /* unknown: do not refuse on that account */
      }
      if (free < minFree) {
        if (now() - lastReserveWarning >= 60) {
          lastReserveWarning = now();
          log.warn(`datadir ${cfg.datadir} has ${Math.floor(free / 1048576)} MiB free, below create_min_free (${cfg.createMinFree} MiB): refusing CREATE, every other operation works`);
        }
        return 'free space below create_min_free';
      }
    }
    if (!buckets.take(sourceKey(source ?? '?'), now())) return 'CREATE rate limit (create_rate, create_burst) for this source';
    return null;
  };
  // After a crash the used set is lost: a new epoch (a new challenge key), so
  // no challenge from before can be replayed. See oracle/replaystore.ts.
  const epoch = prev.kind === 'clean' ? prev.epoch : prev.kind === 'crash' ? new Uint8Array(randomBytes(EPOCH_SIZE)) : null;
  let challengeKey = macKey;
  if (epoch) {
    challengeKey = deriveChallengeKey(macKey, epoch);
    macKey.fill(0);
  }
  try {
    await bounded(markRunning(cfg.datadir), limit, `marking ${cfg.datadir} in use`);
  } catch (e) {
    if (e instanceof StartupError) throw e;
    log.warn(`cannot create ${cfg.datadir}/.running (${errText(e)}): after a crash, challenges from before it could be replayed until they expire`);
  }
  const ctx: OracleContext = {
    store,
    macKey: challengeKey,
    now,
    rl: { rl_decay: cfg.rl_decay, rl_threshold: cfg.rl_threshold, rl_gracetime: cfg.rl_gracetime },
    replay,
    issued,
    admitCreate,
    ...(opts.random ? { random: opts.random } : {}),
  };

  const kids = new Semaphore(cfg.maxKids);
  const timeoutMs = cfg.timeout * 1000;
  const conns = new Map<Socket, ConnState>(); // insertion order = age
  let sessions = 0;
  let closing = false;
  let onIdle: (() => void) | null = null;

  const server: TlsServer = createTlsServer({
    cert: creds.cert,
    key: creds.key,
    ...TLS_OPTIONS,
    handshakeTimeout: timeoutMs,
    noDelay: true,
  } as Parameters<typeof createTlsServer>[0] & { noDelay: boolean });

  server.on('connection', (raw: Socket) => {
    raw.setNoDelay(true);
    raw.on('error', () => {});
    if (closing) {
      raw.destroy();
      return;
    }
    if (conns.size >= cfg.maxConns) {
      // Victim: the connection that has waited on its peer the longest,
      // whatever its stage (TLS handshake, no request byte yet, a request
      // stalled mid-way), so neither a flood of silent handshakes nor one of
      // connections that send a byte and go quiet pushes out a real client;
      // never one the oracle is working on (or that waits for a max_kids slot).
      // A request in progress counts as idle only after STALL_GRACE_MS: its
      // client may be busy (argon2 between CREATE's messages).
      let victim: Socket = raw;
      let oldest = Infinity;
      for (const [s, st] of conns) {
        if (st.peer?.working) continue;
        const since = st.lastActivity + (st.busy ? STALL_GRACE_MS : 0);
        if (since < oldest) {
          oldest = since;
          victim = s;
        }
      }
      log.debug(victim === raw ? 'connection limit reached, all working: dropping the new connection' : 'connection limit reached: dropping the connection idle or stalled longest');
      if (victim === raw) {
        raw.destroy();
        return;
      }
      victim.destroy();
      conns.delete(victim);
    }
    const st: ConnState = { busy: false, session: false, lastActivity: performance.now(), timer: setTimeout(() => raw.destroy(), timeoutMs) };
    conns.set(raw, st);
    raw.once('close', () => {
      clearTimeout(st.timer);
      conns.delete(raw);
    });
  });

  server.on('tlsClientError', (e: Error, sock: TLSSocket) => {
    // A peer that disconnects before or during the handshake (a TCP health
    // check) is no failed request; one that speaks something else is.
    if (isCode(e, 'ECONNRESET')) {
      log.debug('connection closed before the end of the TLS handshake');
      return;
    }
    log.debug(`TLS handshake failed: ${errText(e)}`);
    if (cfg.logPeers) log.warn(`failed request from ${sock.remoteAddress ?? '?'}: TLS handshake (${errText(e)})`);
  });

  server.on('secureConnection', (sock: TLSSocket) => {
    const raw = (sock as TLSSocket & { _parent?: Socket })._parent;
    const st = raw ? conns.get(raw) : undefined;
    sock.on('error', () => {});
    if (closing) {
      sock.destroy();
      return;
    }
    if (st) st.lastActivity = performance.now();
    const peer = new SocketPeer(
      sock,
      kids,
      () => {
        if (st) st.busy = true;
      },
      () => {
        if (st) st.lastActivity = performance.now();
      },
      sock.remoteAddress,
    );
    sessions++;
    if (st) {
      st.session = true;
      st.peer = peer;
    }
    const t0 = performance.now();
    serve(peer, ctx)
      .then((o) => {
        // A connection that closes without sending a byte (a health probe) is no failed request.
        if (!o.ok && o.op === '?' && o.detail === 'peer closed') return;
        if (cfg.logPeers && !o.ok) log.warn(`failed request from ${peer.source ?? '?'}: ${o.op} (${o.detail ?? 'fail'})`);
        if (log.verbose) {
          const ms = (performance.now() - t0).toFixed(1);
          const id = o.id ? ` id=${toHex(o.id.subarray(0, 4))}` : '';
          log.debug(`${o.op} ${o.ok ? 'ok' : 'fail'}${o.detail ? ` (${o.detail})` : ''} ${ms} ms${id}`);
        }
      })
      .catch((e) => log.error(`request failed: ${errText(e).split(cfg.datadir).join('<datadir>').replace(/[0-9a-f]{64}/g, (h) => h.slice(0, 8) + '…')}`))
      .finally(() => {
        peer.releaseKid();
        sessions--;
        peer.finish();
        if (closing && sessions === 0) onIdle?.();
      });
  });

  await bounded(new Promise<void>((resolve, reject) => {
    const onErr = (e: NodeJS.ErrnoException): void => {
      reject(new StartupError(`cannot listen on ${cfg.address} port ${cfg.port}: ${e.code ?? e.message}`));
    };
    server.once('error', onErr);
    server.listen({ host: cfg.address, port: cfg.port }, () => {
      server.off('error', onErr);
      server.on('error', (e: Error) => log.error(`server error: ${errText(e)}`));
      resolve();
    });
  }), limit, `listening on ${cfg.address} port ${cfg.port}`);
  const rotate = setInterval(() => server.setTicketKeys(randomBytes(48)), cfg.ticketRotate * 1000);
  rotate.unref();
  if (devWarning) log.warn(devWarning);
  for (const w of warnings) log.warn(w);
  if (prev.kind === 'crash') log.warn('the last run did not shut down cleanly: new challenge key, challenges issued before this start are refused');
  if (store instanceof FsStorage) {
    store.sweepTemp().then(
      (n) => n > 0 && log.info(`removed ${n} leftover temp file(s) in record directories`),
      (e) => log.warn(`sweeping leftover temp files: ${errText(e)}`),
    );
  }
  if (recovered > 0) log.warn(`recovered ${recovered} interrupted record change(s) in ${cfg.datadir}`);
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : cfg.port;
  log.info(`oracle listening on ${cfg.address} port ${port} (${describe(cfg)})`);

  let closed: Promise<void> | null = null;
  return {
    address: cfg.address,
    port,
    datadir: cfg.datadir,
    certPath,
    keyPath,
    get connections() {
      return conns.size;
    },
    async reload() {
      try {
        const c = await loadCredentials(certPath, keyPath);
        server.setSecureContext({ cert: c.cert, key: c.key, ...TLS_OPTIONS });
        log.info(`reloaded certificate ${certPath} and key ${keyPath}`);
        return true;
      } catch (e) {
        log.error(`certificate reload failed, keeping the old one: ${errText(e)}`);
        return false;
      }
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        log.info('shutting down: no new connections, finishing requests in progress');
        const serverClosed = new Promise<void>((r) => server.close(() => r()));
        let finished = false;
        const done = (): void => {
          if (sessions > 0 || finished) return;
          finished = true;
          clearInterval(rotate);
          for (const s of conns.keys()) s.destroy();
          void serverClosed
            .then(async () => {
              // For the next start: the used challenges (else it refuses every earlier challenge).
              try {
                const n = await saveUsedChallenges(cfg.datadir, epoch, replay.entries());
                await clearRunning(cfg.datadir);
                log.info(`saved ${n} used challenge(s) for the next start`);
              } catch (e) {
                log.warn(`could not save the used challenges (${errText(e)}): the next start refuses challenges issued before it`);
              }
            })
            .then(resolve);
        };
        // Idle connections (TLS handshake, or no request byte yet) are dropped
        // now; requests in progress finish (their whole life is bounded by `timeout`).
        for (const [s, st] of conns) if (!st.busy) s.destroy();
        onIdle = done;
        done();
      });
      return closed;
    },
  };
}
