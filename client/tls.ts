// TLS to the oracle (protocol.md §1, §8.5, §8.8).
// - ssl_cert set: the oracle must present exactly a certificate from that file
//   (pinning, compared as DER in 'secureConnect' before a single byte is
//   written; no host name check). Works for a self-signed certificate and for
//   a leaf issued by a CA alike. Verification is never simply switched off.
// - ssl_cert unset: Node's CA store (plus NODE_EXTRA_CA_CERTS) and the host
//   name check, as tls.connect does by default.
// - TCP_NODELAY on every socket; the second connection of a rate-limited
//   operation resumes the first one's TLS session.
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { connect as tlsConnect, createSecureContext, type ConnectionOptions, type SecureContext, type TLSSocket } from 'node:tls';
import { nowMs } from '../shared/clock.js';
import { StreamConn, type Conn } from './conn.js';
import { ClientError, ConnectionError } from './errors.js';

export const CONNECT_TIMEOUT_MS = 5000; // the reference's socket timeout
export const READ_TIMEOUT_MS = 10000;
/** Use a prefetched connection only this soon after starting it (the oracle's idle timeout is 3 s). */
export const PREFETCH_MAX_AGE_MS = 1000;

/** All certificates of a PEM text, as DER. */
export function parsePemCertificates(pem: string): Buffer[] {
  const out: Buffer[] = [];
  const re = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
  for (let m = re.exec(pem); m; m = re.exec(pem)) out.push(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  return out;
}

export const fingerprint = (der: Uint8Array): string =>
  createHash('sha256').update(der).digest('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');

export type PinVerdict = { ok: true } | { ok: false; reason: string };

/**
 * The pinning rule: the oracle's leaf certificate must be byte-for-byte one
 * of the pinned certificates. Nothing else is consulted (no CA chain, no
 * host name, no validity dates: the pin is the trust decision, like an SSH
 * host key). Pure.
 */
export function checkPin(peerDer: Uint8Array | undefined | null, pinned: readonly Uint8Array[]): PinVerdict {
  if (!peerDer || peerDer.length === 0) return { ok: false, reason: 'the oracle presented no certificate' };
  for (const p of pinned) if (p.length === peerDer.length && Buffer.compare(Buffer.from(p), Buffer.from(peerDer)) === 0) return { ok: true };
  return { ok: false, reason: `the oracle presented certificate SHA-256 ${fingerprint(peerDer)}, which is not the one pinned` };
}

/** Reads and parses the ssl_cert file; ClientError when unusable. */
export function loadPinned(path: string): Buffer[] {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (e) {
    throw new ClientError(`cannot read ssl_cert ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): fix the path in the [client] config`);
  }
  const certs = parsePemCertificates(text);
  for (const c of certs) {
    try {
      new X509Certificate(c);
    } catch {
      throw new ClientError(`ssl_cert ${path} holds a damaged certificate: replace it with the oracle's PEM certificate`);
    }
  }
  if (certs.length === 0) throw new ClientError(`ssl_cert ${path} holds no PEM certificate: put the oracle's certificate there`);
  return certs;
}

export interface TlsTarget {
  host: string;
  port: number;
  /** DER certificates from ssl_cert; undefined = CA store + host name check */
  pinned?: Buffer[];
  sslCertPath?: string;
  connectTimeoutMs?: number;
  readTimeoutMs?: number;
}

/**
 * The context for pinned connections: an empty CA store. tls.connect's `ca`
 * option (and the default) make Node parse its ~140 bundled root
 * certificates, 30-60 ms of main-thread time on the first connection of
 * every `sphinx get`; an empty `ca` list skips that. The store is not what
 * decides anyway: checkPin compares the leaf in 'secureConnect', and the TLS
 * handshake itself (CertificateVerify) proves the oracle holds that
 * certificate's private key.
 */
let pinnedContext: SecureContext | undefined;
export const pinnedSecureContext = (): SecureContext => (pinnedContext ??= createSecureContext({ ca: [] }));

/** The tls.connect options for a target (pure apart from the session handed in and the shared pinned context). */
export function tlsOptions(t: TlsTarget, session?: Buffer): ConnectionOptions {
  const opts: ConnectionOptions & { noDelay: boolean } = {
    host: t.host,
    port: t.port,
    noDelay: true, // net.connect option (Node >= 16.15), not in the tls typings
    // Resumption needs the same options on both connections; the session is
    // only ever one this process obtained from a connection that passed the checks.
    ...(session ? { session } : {}),
  };
  if (!isIP(t.host)) opts.servername = t.host; // SNI (not allowed for IP addresses)
  if (t.pinned) {
    // The decision is taken by checkPin in 'secureConnect', before any write.
    opts.rejectUnauthorized = false;
    opts.secureContext = pinnedSecureContext();
    opts.checkServerIdentity = () => undefined;
  } else {
    opts.rejectUnauthorized = true;
  }
  return opts;
}

const CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** One line that says what went wrong with the connection and what to do. */
export function describeConnectError(e: Error, t: TlsTarget): ClientError {
  if (e instanceof ClientError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const where = `the oracle at ${t.host}:${t.port}`;
  if (code === 'ECONNREFUSED') return new ConnectionError(`cannot reach ${where}: connection refused; is the oracle running, and are address and port in the [client] config right?`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new ConnectionError(`cannot resolve the oracle's address "${t.host}": check address in the [client] config and your network`);
  if (code === 'ETIMEDOUT' || code === 'ENETUNREACH' || code === 'EHOSTUNREACH') return new ConnectionError(`cannot reach ${where} (${code}): check your network and the address/port in the [client] config`);
  if (CERT_CODES.has(code)) {
    return new ConnectionError(
      `the certificate of ${where} is not trusted (${code}): if the oracle uses a self-signed certificate, set ssl_cert in the [client] config to a copy of it`,
    );
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') return new ConnectionError(`${where} closed the connection unexpectedly (${code}); try again, and check that it is a SPHINX oracle speaking TLS`);
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) return new ConnectionError(`TLS with ${where} failed (${code}): check that the port speaks TLS and the oracle's certificate setup`);
  return new ConnectionError(`connection to ${where} failed: ${code || e.message}`);
}

/** Opens verified TLS connections to one oracle, resuming the last session. */
export class Connector {
  private session: Buffer | undefined;
  private prefetched: Promise<Conn> | null = null;
  private prefetchedAt = 0;
  /** How many handshakes resumed a session (for verbose output and tests). */
  resumed = 0;
  opened = 0;

  constructor(readonly target: TlsTarget) {}

  /** Starts a connection now; the next connect() returns it. */
  prefetch(): void {
    if (!this.prefetched) {
      const p = this.open();
      p.catch(() => undefined); // reported when connect() hands it out
      this.prefetched = p;
      this.prefetchedAt = nowMs();
    }
  }

  connect = (): Promise<Conn> => {
    // A prefetched connection may idle while stdin is slow (a password
    // manager asking for its own passphrase): the oracle drops idle
    // connections after a few seconds, so use only a fresh one.
    if (this.prefetched && nowMs() - this.prefetchedAt > PREFETCH_MAX_AGE_MS) this.discard();
    const p = this.prefetched ?? this.open();
    this.prefetched = null;
    return p;
  };

  /** Drops a prefetched connection that will not be used. */
  discard(): void {
    const p = this.prefetched;
    this.prefetched = null;
    p?.then((c) => c.close(), () => undefined);
  }

  private open(): Promise<Conn> {
    const t = this.target;
    this.opened++;
    return new Promise<Conn>((resolve, reject) => {
      let sock: TLSSocket;
      try {
        sock = tlsConnect(tlsOptions(t, this.session));
      } catch (e) {
        reject(describeConnectError(e as Error, t));
        return;
      }
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new ConnectionError(`timed out connecting to the oracle at ${t.host}:${t.port}: is it running and reachable?`));
      }, t.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
      const fail = (e: Error): void => {
        clearTimeout(timer);
        sock.destroy();
        reject(describeConnectError(e, t));
      };
      sock.once('error', fail);
      // Keep a session for resumption only from a connection that passed the checks.
      let verified = false;
      let pending: Buffer | undefined;
      sock.on('session', (s: Buffer) => {
        if (verified) this.session = s;
        else pending = s;
      });
      sock.once('secureConnect', () => {
        clearTimeout(timer);
        sock.off('error', fail);
        // A resumed session was set up by a connection of this process that
        // passed the checks below, and OpenSSL may not keep the peer's
        // certificate with it; only the server holding that session's secret
        // can resume it.
        const resumed = sock.isSessionReused();
        if (t.pinned && resumed) {
          // the session's secret proves it is the oracle that passed checkPin
        } else if (t.pinned) {
          const peer = sock.getPeerCertificate();
          const v = checkPin(peer && 'raw' in peer ? peer.raw : undefined, t.pinned);
          if (!v.ok) {
            sock.destroy();
            this.session = undefined;
            reject(
              new ConnectionError(
                `certificate mismatch: ${v.reason} in ssl_cert ${t.sslCertPath ?? ''}; if the oracle's certificate was replaced on purpose, copy the new one there, otherwise someone may be intercepting the connection`.replace(' in ssl_cert ;', ';'),
              ),
            );
            return;
          }
        } else if (!sock.authorized) {
          // rejectUnauthorized already refuses these; belt and braces.
          sock.destroy();
          reject(describeConnectError(Object.assign(new Error('unauthorized'), { code: String(sock.authorizationError) }), t));
          return;
        }
        verified = true;
        if (pending) this.session = pending;
        if (resumed) this.resumed++;
        resolve(new StreamConn(sock, t.readTimeoutMs ?? READ_TIMEOUT_MS, (e) => describeConnectError(e, t)));
      });
    });
  }
}
