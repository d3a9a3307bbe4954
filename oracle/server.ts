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
//   oldest idle connection (not being processed), or is itself dropped.
// - Every connection is closed after its reply (success or fail).
import type { Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createSecureContext, createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { toHex } from '../shared/bytes.js';
import { ReplayCache } from '../shared/ratelimit.js';
import type { ServerConfig } from './config.js';
import { ensureDevCert } from './devcert.js';
import { Semaphore } from './locks.js';
import { createLogger, errText, type Logger } from './log.js';
import { PeerGone, serve, type OracleContext, type Peer } from './protocol.js';
import { FsStorage, loadMacKey, prepareDatadir, recover, type Storage } from './storage.js';

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
  /** Used challenge MACs remembered at most (default 65536). */
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
  /** Replies are queued and sent when we wait for the peer or finish (one TLS record with the close). */
  private out: Uint8Array[] = [];

  constructor(
    private readonly sock: TLSSocket,
    private readonly kids: Semaphore,
    /** Called once, when the first request byte has arrived. */
    private readonly onRequest: () => void,
  ) {
    sock.on('data', (d: Buffer) => {
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

  /** Holds a max_kids slot: the oracle is working on it, not waiting for the peer. */
  get working(): boolean {
    return this.hasKid;
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
      await this.kids.acquire();
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

function loadCredentials(certPath: string, keyPath: string): { cert: Buffer; key: Buffer } {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(certPath);
  } catch (e) {
    throw new StartupError(`cannot read ssl_cert ${certPath}: ${(e as NodeJS.ErrnoException).code ?? errText(e)}`);
  }
  try {
    key = readFileSync(keyPath);
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
  `rl_decay ${c.rl_decay} s, rl_threshold ${c.rl_threshold}, rl_gracetime ${c.rl_gracetime} s, verbose ${c.verbose ? 'on' : 'off'}`;

/** Prepare the datadir and certificate, listen, and serve. Throws StartupError (before listening) on a configuration problem. */
export async function startServer(opts: OracleServerOptions): Promise<OracleServer> {
  const cfg = opts.config;
  const log = opts.logger ?? createLogger({ verbose: cfg.verbose });
  const now = opts.now ?? ((): number => Date.now() / 1000);

  try {
    await prepareDatadir(cfg.datadir);
  } catch (e) {
    throw new StartupError(errText(e));
  }
  let certPath: string;
  let keyPath: string;
  let devWarning: string | null = null;
  if (cfg.devCert) {
    try {
      const dev = await ensureDevCert(cfg.datadir);
      certPath = dev.certPath;
      keyPath = dev.keyPath;
      devWarning =
        `DEVELOPMENT MODE: no ssl_cert/ssl_key configured, using the self-signed certificate ${certPath}` +
        `${dev.generated ? ' (generated now)' : ''}. Clients must pin it (ssl_cert); phones refuse it. ` +
        'Configure a CA-signed certificate for real use.';
    } catch (e) {
      throw new StartupError(`cannot create the development certificate in ${cfg.datadir}: ${errText(e)}`);
    }
  } else {
    certPath = cfg.sslCert!;
    keyPath = cfg.sslKey!;
  }
  const creds = loadCredentials(certPath, keyPath);
  let macKey: Uint8Array;
  let recovered = 0;
  try {
    macKey = await loadMacKey(cfg.datadir);
    recovered = await recover(cfg.datadir);
  } catch (e) {
    throw new StartupError(`datadir ${cfg.datadir}: ${errText(e)}`);
  }

  const ctx: OracleContext = {
    store: opts.storage ?? new FsStorage(cfg.datadir),
    macKey,
    now,
    rl: { rl_decay: cfg.rl_decay, rl_threshold: cfg.rl_threshold, rl_gracetime: cfg.rl_gracetime },
    replay: new ReplayCache(opts.replayCapacity ?? 65536),
    issued: new ReplayCache(opts.replayCapacity ?? 65536),
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
    minVersion: 'TLSv1.2',
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
      // Victim: the oldest idle connection (no request byte yet); failing
      // that, the oldest one whose request is stalled on its peer (so a flood
      // of connections that send one byte and go quiet cannot lock everyone
      // out until their timeout); never one the oracle is working on.
      let victim: Socket = raw;
      let stalled: Socket | null = null;
      for (const [s, st] of conns) {
        if (!st.busy) {
          victim = s;
          break;
        }
        if (!stalled && st.peer && !st.peer.working) stalled = s;
      }
      if (victim === raw && stalled) victim = stalled;
      log.debug(victim === raw ? 'connection limit reached, all working: dropping the new connection' : 'connection limit reached: dropping the oldest idle or stalled connection');
      if (victim === raw) {
        raw.destroy();
        return;
      }
      victim.destroy();
      conns.delete(victim);
    }
    const st: ConnState = { busy: false, session: false, timer: setTimeout(() => raw.destroy(), timeoutMs) };
    conns.set(raw, st);
    raw.once('close', () => {
      clearTimeout(st.timer);
      conns.delete(raw);
    });
  });

  server.on('tlsClientError', (e: Error) => {
    log.debug(`TLS handshake failed: ${errText(e)}`);
  });

  server.on('secureConnection', (sock: TLSSocket) => {
    const raw = (sock as TLSSocket & { _parent?: Socket })._parent;
    const st = raw ? conns.get(raw) : undefined;
    sock.on('error', () => {});
    if (closing) {
      sock.destroy();
      return;
    }
    const peer = new SocketPeer(sock, kids, () => {
      if (st) st.busy = true;
    });
    sessions++;
    if (st) {
      st.session = true;
      st.peer = peer;
    }
    const t0 = performance.now();
    serve(peer, ctx)
      .then((o) => {
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

  await new Promise<void>((resolve, reject) => {
    const onErr = (e: NodeJS.ErrnoException): void => {
      reject(new StartupError(`cannot listen on ${cfg.address} port ${cfg.port}: ${e.code ?? e.message}`));
    };
    server.once('error', onErr);
    server.listen({ host: cfg.address, port: cfg.port }, () => {
      server.off('error', onErr);
      server.on('error', (e: Error) => log.error(`server error: ${errText(e)}`));
      resolve();
    });
  });
  if (devWarning) log.warn(devWarning);
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
        const c = loadCredentials(certPath, keyPath);
        server.setSecureContext({ cert: c.cert, key: c.key, minVersion: 'TLSv1.2' });
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
          for (const s of conns.keys()) s.destroy();
          void serverClosed.then(resolve);
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
