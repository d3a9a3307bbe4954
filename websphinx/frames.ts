// Native-messaging framing (websphinx.md §1), free of I/O: each message is a
// 4-byte length in native byte order, then that many bytes of UTF-8 JSON.
// FrameReader takes stdin's chunks as they come and hands out whole frames;
// a length the host will not buffer is reported once and its bytes skipped,
// so the stream stays in step and the host stays up.

/** The browser caps host→browser messages at 1 MiB (§1); requests are tiny: refuse larger ones. */
export const MAX_MESSAGE = 1024 * 1024;

export type Frame = { kind: 'message'; body: Buffer } | { kind: 'oversized'; length: number };

export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  private skip = 0;

  constructor(
    private readonly littleEndian = true,
    private readonly max = MAX_MESSAGE,
  ) {}

  /** Feeds a chunk; returns the frames it completed, in order. */
  push(chunk: Uint8Array): Frame[] {
    let data = Buffer.from(chunk);
    if (this.skip > 0) {
      const n = Math.min(this.skip, data.length);
      this.skip -= n;
      data = data.subarray(n);
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    const out: Frame[] = [];
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, this.buf.length);
        this.skip -= n;
        this.buf = this.buf.subarray(n);
        if (this.skip > 0) break;
      }
      if (this.buf.length < 4) break;
      const len = this.littleEndian ? this.buf.readUInt32LE(0) : this.buf.readUInt32BE(0);
      if (len > this.max) {
        out.push({ kind: 'oversized', length: len });
        this.buf = this.buf.subarray(4);
        this.skip = len;
        continue;
      }
      if (this.buf.length < 4 + len) break;
      out.push({ kind: 'message', body: Buffer.from(this.buf.subarray(4, 4 + len)) });
      this.buf = this.buf.subarray(4 + len);
    }
    return out;
  }

  /** Bytes of an incomplete frame left when the stream ended (0: it ended cleanly). */
  get pending(): number {
    return this.buf.length + this.skip;
  }
}

/** One framed message: length (native order) | UTF-8 JSON. */
export function encodeFrame(message: unknown, littleEndian = true): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  if (body.length > MAX_MESSAGE) throw new RangeError(`reply of ${body.length} bytes exceeds the browser's 1 MiB limit`);
  const head = Buffer.alloc(4);
  if (littleEndian) head.writeUInt32LE(body.length);
  else head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}
