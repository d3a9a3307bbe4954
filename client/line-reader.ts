// Assuan lines from a stream, one at a time (without the newline), for the
// shells that talk to a pinentry or gpg-agent (client/pinentry.ts,
// pinentry-sphinx/proxy.ts and protect.ts). Lines may carry a PIN: every
// buffer this reader let go of is wiped; the caller wipes the lines it took.
import type { Readable } from 'node:stream';

/** Longer than any Assuan line (1000 bytes at most): a peer sending more without a newline is cut off. */
export const MAX_LINE = 64 * 1024;

export class LineReader {
  private pending = Buffer.alloc(0);
  private lines: Buffer[] = [];
  private ended = false;
  private waiter: (() => void) | null = null;

  constructor(stream: Readable) {
    stream.on('data', (chunk: Buffer) => {
      const all = Buffer.concat([this.pending, chunk]);
      this.pending.fill(0);
      chunk.fill(0);
      let start = 0;
      for (let nl = all.indexOf(0x0a); nl >= 0; nl = all.indexOf(0x0a, start)) {
        this.lines.push(Buffer.from(all.subarray(start, nl)));
        start = nl + 1;
      }
      this.pending = Buffer.from(all.subarray(start));
      all.fill(0);
      if (this.pending.length > MAX_LINE) {
        // not Assuan: stop reading, as at the end of the stream
        this.pending.fill(0);
        this.pending = Buffer.alloc(0);
        this.ended = true;
        stream.destroy();
      }
      this.wake();
    });
    const end = (): void => {
      this.ended = true;
      this.wake();
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** The next line, or null at the end of the stream. */
  async next(): Promise<Buffer | null> {
    for (;;) {
      const l = this.lines.shift();
      if (l) return l;
      if (this.ended) {
        this.pending.fill(0);
        return null;
      }
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  /** Wipes what was read but not taken. */
  wipe(): void {
    for (const l of this.lines.splice(0)) l.fill(0);
    this.pending.fill(0);
  }
}
