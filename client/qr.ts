// `sphinx qr [svg] [key]`: the phone app's enrolment code (protocol.md §7).
// Payload: flags(1) | masterkey(32, only with "key") | port u16be | utf8(address),
// flags = 1*key + 2*rwd_keys + 4*validate_password; byte mode, ECC LOW.
import QRCode from 'qrcode';
import { concat, u16be, utf8 } from '../shared/bytes.js';
import { KEY_SIZE } from '../shared/constants.js';

export interface QrSettings {
  address: string;
  port: number;
  rwdKeys: boolean;
  validatePassword: boolean;
}

/** Pure: the payload bytes (the caller wipes it when it holds the masterkey). */
export function qrPayload(s: QrSettings, masterkey: Uint8Array | null): Uint8Array {
  if (masterkey && masterkey.length !== KEY_SIZE) throw new RangeError('masterkey must be 32 bytes');
  const flags = (masterkey ? 1 : 0) + (s.rwdKeys ? 2 : 0) + (s.validatePassword ? 4 : 0);
  return concat(Uint8Array.of(flags), masterkey ?? new Uint8Array(0), u16be(s.port), utf8(s.address));
}

export interface Matrix {
  size: number;
  /** true = dark module; false outside the symbol */
  dark(x: number, y: number): boolean;
}

const segments = (payload: Uint8Array): QRCode.QRCodeSegment[] => [{ data: payload, mode: 'byte' } as QRCode.QRCodeSegment];

/** The QR symbol for the payload: byte mode, error correction LOW. */
export function qrMatrix(payload: Uint8Array): Matrix {
  const q = QRCode.create(segments(payload), { errorCorrectionLevel: 'L' });
  const m = q.modules;
  return {
    size: m.size,
    dark: (x, y) => x >= 0 && y >= 0 && x < m.size && y < m.size && !!m.get(y, x),
  };
}

/** The ISO 18004 quiet zone; protocol.md §7's 1-module border is too thin for many phone cameras. */
export const QUIET_ZONE = 4;

const ANSI_DARK_ON_LIGHT = '\x1b[30;107m'; // black ink on bright white paper
const ANSI_RESET = '\x1b[0m';

/**
 * Two module rows per text row with the half blocks ▀ ▄ █ and space, where
 * the glyph is the dark part. With `ansi`, every line is painted black on
 * white explicitly, so the code scans the same on dark and light terminals;
 * without it, the output suits a light background (paper, a light terminal).
 */
export function renderHalfBlocks(m: Matrix, opts: { border?: number; ansi?: boolean } = {}): string {
  const b = opts.border ?? QUIET_ZONE;
  const lines: string[] = [];
  for (let y = -b; y < m.size + b; y += 2) {
    let line = '';
    for (let x = -b; x < m.size + b; x++) {
      const top = m.dark(x, y);
      // an odd last row is padded with light (quiet zone)
      const bottom = y + 1 < m.size + b ? m.dark(x, y + 1) : false;
      line += top ? (bottom ? '█' : '▀') : bottom ? '▄' : ' ';
    }
    lines.push(opts.ansi ? ANSI_DARK_ON_LIGHT + line + ANSI_RESET : line);
  }
  return lines.join('\n') + '\n';
}

/** An SVG image (dark modules on a white background, quiet zone included). */
export function renderSvg(payload: Uint8Array, border = QUIET_ZONE): Promise<string> {
  return QRCode.toString(segments(payload), { type: 'svg', errorCorrectionLevel: 'L', margin: border });
}

export const KEY_WARNING =
  'warning: this QR code contains your masterkey: whoever photographs it and learns your master password has all your passwords; show it only to your own phone, then clear the screen';
