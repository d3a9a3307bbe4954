// Reading master passwords: one line each from stdin (the trailing newline
// dropped, nothing else touched, like the reference's readline().rstrip(b'\n')),
// or a no-echo prompt on the terminal when stdin is one. Passwords stay bytes
// (Buffers the caller wipes), never strings.
import { read as fsRead } from 'node:fs';
import { isatty } from 'node:tty';
import { ClientError, Interrupted } from './errors.js';

/** Longest accepted line; the reference has no limit, but 64 KiB of password is a mistake. */
export const MAX_LINE = 65536;

/**
 * Splits buffered stdin into `count` lines. A missing line (EOF first) is an
 * empty password. Returns copies; the caller wipes `buf`.
 */
export function splitLines(buf: Uint8Array, count: number): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    if (start >= buf.length) {
      out.push(Buffer.alloc(0));
      continue;
    }
    let nl = buf.indexOf(0x0a, start);
    if (nl < 0) nl = buf.length;
    out.push(Buffer.from(buf.subarray(start, nl)));
    start = nl + 1;
  }
  return out;
}

function countNewlines(buf: Uint8Array, len: number): number {
  let n = 0;
  for (let i = 0; i < len; i++) if (buf[i] === 0x0a) n++;
  return n;
}

/**
 * Reads from fd 0 until `count` newlines or EOF. Uses fs.read (libuv's thread
 * pool) rather than a stream, which is cheaper to start and stops reading as
 * soon as it has the lines, leaving the rest of stdin alone.
 */
export async function readStdinLines(count: number, fd = 0): Promise<Buffer[]> {
  let buf = Buffer.alloc(4096);
  let len = 0;
  try {
    for (;;) {
      if (len === buf.length) {
        if (buf.length >= MAX_LINE * count) throw new ClientError('the password on stdin is too long (no newline in 64 KiB)');
        const bigger = Buffer.alloc(buf.length * 2);
        buf.copy(bigger, 0, 0, len);
        buf.fill(0);
        buf = bigger;
      }
      const n = await new Promise<number>((res, rej) =>
        fsRead(fd, buf, len, buf.length - len, null, (err, bytes) => (err ? rej(err) : res(bytes))),
      );
      if (n === 0) break;
      len += n;
      if (countNewlines(buf, len) >= count) break;
    }
    return splitLines(buf.subarray(0, len), count);
  } catch (e) {
    if (e instanceof ClientError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN') return readStdinStream(count);
    throw new ClientError(`cannot read the master password from stdin (${code ?? (e as Error).message})`);
  } finally {
    buf.fill(0);
  }
}

/** Fallback for a non-blocking stdin (EAGAIN): read through the stream API. */
async function readStdinStream(count: number): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  let newlines = 0;
  for await (const chunk of process.stdin) {
    const b = chunk as Buffer;
    chunks.push(b);
    newlines += countNewlines(b, b.length);
    if (newlines >= count) break;
  }
  const all = Buffer.concat(chunks);
  for (const c of chunks) c.fill(0);
  try {
    return splitLines(all, count);
  } finally {
    all.fill(0);
  }
}

/** Feeds raw terminal keystrokes into a line buffer; pure, for tests. */
export class LineEditor {
  private bytes: number[] = [];
  done = false;
  interrupted = false;
  /** Returns true when the line is complete (Enter, Ctrl-D) or interrupted (Ctrl-C). */
  feed(chunk: Uint8Array): boolean {
    for (const c of chunk) {
      if (this.done) break;
      if (c === 0x0d || c === 0x0a || c === 0x04) this.done = true;
      else if (c === 0x03) {
        this.done = true;
        this.interrupted = true;
      } else if (c === 0x7f || c === 0x08) {
        // backspace: drop a whole UTF-8 character
        while (this.bytes.length && (this.bytes[this.bytes.length - 1]! & 0xc0) === 0x80) this.bytes.pop();
        this.bytes.pop();
      } else if (c === 0x15) this.bytes.length = 0; // Ctrl-U
      else if (c >= 0x20 || c === 0x09) this.bytes.push(c);
    }
    return this.done;
  }
  take(): Buffer {
    const b = Buffer.from(this.bytes);
    this.bytes.fill(0);
    this.bytes.length = 0;
    return b;
  }
}

/** Prompts on stderr and reads one line from the terminal without echo. */
export async function promptNoEcho(prompt: string): Promise<Buffer> {
  const stdin = process.stdin;
  const ed = new LineEditor();
  // raw (no echo) before the prompt shows: what is typed as soon as it appears is never echoed
  stdin.setRawMode(true);
  process.stderr.write(prompt);
  stdin.resume();
  try {
    await new Promise<void>((res) => {
      const onData = (d: Buffer): void => {
        const fin = ed.feed(d);
        d.fill(0);
        if (fin) {
          stdin.off('data', onData);
          res();
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
  if (ed.interrupted) {
    ed.take().fill(0);
    throw new Interrupted();
  }
  return ed.take();
}

/** One password to read: its prompt, and on a terminal the prompt to type it again (a new password). */
export interface PasswordPrompt {
  text: string;
  /** asked right after `text` when typing, unless the first answer is empty; the two must match */
  repeat?: string;
}

const promptOf = (p: string | PasswordPrompt): PasswordPrompt => (typeof p === 'string' ? { text: p } : p);

/** Asks for one password on the terminal, twice when `repeat` is set; ClientError when the two differ. */
async function promptPassword(p: PasswordPrompt): Promise<Buffer> {
  const first = await promptNoEcho(p.text);
  if (!p.repeat || first.length === 0) return first;
  let again: Buffer;
  try {
    again = await promptNoEcho(p.repeat);
  } catch (e) {
    first.fill(0);
    throw e;
  }
  const same = first.equals(again);
  again.fill(0);
  if (same) return first;
  first.fill(0);
  throw new ClientError('the two passwords typed differ; nothing was sent: run the command again');
}

/**
 * The master password(s) a command needs: from the terminal (prompts) when
 * stdin is a TTY, else one line each from stdin.
 */
export async function readPasswords(prompts: readonly (string | PasswordPrompt)[]): Promise<Buffer[]> {
  if (prompts.length === 0) return [];
  if (isatty(0)) {
    const out: Buffer[] = [];
    try {
      for (const p of prompts) out.push(await promptPassword(promptOf(p)));
    } catch (e) {
      for (const b of out) b.fill(0);
      throw e;
    }
    return out;
  }
  return readStdinLines(prompts.length);
}
