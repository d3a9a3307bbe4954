// The Assuan protocol as pinentry and gpg-agent speak it (websphinx.md §4),
// free of I/O: percent-escaping what we send, parsing reply lines, decoding
// the percent-encoded PIN into bytes (never a string, so it can be wiped),
// and the command lists of the two dialogs websphinx's host shows. Used by
// websphinx and pinentry-sphinx. The same rules as contrib/getpwd (a POSIX
// sh script, which cannot share this code).

/** Escapes %, CR, LF and other control characters, so no text can add a command or end a line. */
export function percentEncode(text: string): string {
  return text.replace(/[%\x00-\x1f\x7f]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

const hexVal = (b: number): number => (b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x41 && b <= 0x46 ? b - 0x37 : b >= 0x61 && b <= 0x66 ? b - 0x57 : -1);

/** Decodes %XX escapes; a % not followed by two hex digits stays as it is. */
export function percentDecode(data: Uint8Array): Buffer {
  const out = Buffer.alloc(data.length);
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === 0x25 && i + 2 < data.length) {
      const h = hexVal(data[i + 1]!);
      const l = hexVal(data[i + 2]!);
      if (h >= 0 && l >= 0) {
        out[n++] = h * 16 + l;
        i += 2;
        continue;
      }
    }
    out[n++] = b;
  }
  const pin = Buffer.from(out.subarray(0, n));
  out.fill(0);
  return pin;
}

export type Line =
  | { kind: 'OK' }
  | { kind: 'ERR'; text: string }
  /** a data line's decoded bytes */
  | { kind: 'D'; data: Buffer }
  /** the peer asks for data (D lines, then END): its keyword and arguments */
  | { kind: 'INQUIRE'; keyword: string; args: string }
  /** status lines, comments: ignored */
  | { kind: 'skip' }
  /** anything else: a protocol error (not a pinentry?) */
  | { kind: 'other' };

/** One line from pinentry, without its newline. */
export function parseLine(line: Uint8Array): Line {
  const l = Buffer.from(line.buffer, line.byteOffset, line.length);
  const word = (w: string): boolean => l.length >= w.length && l.toString('latin1', 0, w.length) === w && (l.length === w.length || l[w.length] === 0x20);
  if (word('OK')) return { kind: 'OK' };
  if (word('ERR')) return { kind: 'ERR', text: l.toString('utf8', 4).slice(0, 200) };
  if (word('D')) return { kind: 'D', data: percentDecode(l.subarray(2)) };
  if (word('INQUIRE')) {
    const [keyword = '', ...rest] = l.toString('utf8', 8).split(' ');
    return { kind: 'INQUIRE', keyword, args: rest.join(' ') };
  }
  if (word('S') || word('#') || l.length === 0) return { kind: 'skip' };
  return { kind: 'other' };
}

export interface Texts {
  title: string;
  description: string;
}

/** The commands before GETPIN: title, description, prompt. */
export const pinCommands = (t: Texts & { prompt: string }): string[] => [
  `SETTITLE ${percentEncode(t.title)}`,
  `SETDESC ${percentEncode(t.description)}`,
  `SETPROMPT ${percentEncode(t.prompt)}`,
  'GETPIN',
];

/** The commands of a yes/no question: CONFIRM answers OK or ERR. */
export const confirmCommands = (t: Texts & { ok: string; cancel: string }): string[] => [
  `SETTITLE ${percentEncode(t.title)}`,
  `SETDESC ${percentEncode(t.description)}`,
  `SETOK ${percentEncode(t.ok)}`,
  `SETCANCEL ${percentEncode(t.cancel)}`,
  'CONFIRM',
];
