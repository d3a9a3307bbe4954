// The byte-stream abstraction the flows run over (flows.ts never sees a
// socket), and its implementation over any Node Duplex (a TLS socket).
import type { Duplex } from 'node:stream';
import { ConnectionError } from './errors.js';

export interface Conn {
  /** Queues bytes for the peer. */
  write(data: Uint8Array): void;
  /**
   * Exactly `n` bytes, or fewer when the peer closed first (the oracle's
   * 6-byte fail packet arrives that way where more was expected). Rejects
   * with ConnectionError on a socket error or when the peer stays silent
   * longer than the timeout.
   */
  read(n: number): Promise<Uint8Array>;
  /** Done with this connection: close it without waiting for the peer. */
  close(): void;
}

/** Opens a new connection to the oracle. */
export type Connect = () => Promise<Conn>;

export class StreamConn implements Conn {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private error: Error | null = null;
  private waiter: (() => void) | null = null;

  constructor(
    private readonly sock: Duplex,
    private readonly timeoutMs: number,
    private readonly describe: (e: Error) => Error = (e) => e,
  ) {
    sock.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.buffered += d.length;
      this.wake();
    });
    sock.on('end', () => {
      this.ended = true;
      this.wake();
    });
    sock.on('close', () => {
      this.ended = true;
      this.wake();
    });
    sock.on('error', (e: Error) => {
      this.error = e;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    if (w) w();
  }

  write(data: Uint8Array): void {
    if (this.error) throw this.describe(this.error);
    this.sock.write(data);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = Buffer.from(all.subarray(0, n));
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  async read(n: number): Promise<Uint8Array> {
    while (this.buffered < n && !this.ended && !this.error) {
      await new Promise<void>((res, rej) => {
        const t = setTimeout(() => {
          this.waiter = null;
          rej(new ConnectionError(`the oracle did not answer within ${Math.round(this.timeoutMs / 1000)} s`));
        }, this.timeoutMs);
        this.waiter = () => {
          clearTimeout(t);
          res();
        };
      });
    }
    if (this.buffered < n && this.error) throw this.describe(this.error);
    return this.take(Math.min(n, this.buffered));
  }

  close(): void {
    // Send close_notify/FIN if there is time, but never keep the process alive for it.
    this.sock.end();
    (this.sock as Duplex & { unref?: () => void }).unref?.();
  }
}
