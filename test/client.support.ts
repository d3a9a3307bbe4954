// Test support for the client tests (not a test file itself): turning the
// QR outputs back into images and decoding them with real decoders
// (zbarimg from zbar-tools, rsvg-convert from librsvg2-bin).
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

/** Is a command on PATH? */
export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Parses half-block text (▀ ▄ █ and space, optional ANSI colour codes) into
 * module rows: true = dark. Each text row holds two module rows.
 */
export function halfBlocksToModules(text: string): boolean[][] {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/\x1b\[[0-9;]*m/g, '');
  const lines = clean.split('\n').filter((l) => l.length > 0);
  const rows: boolean[][] = [];
  for (const line of lines) {
    const top: boolean[] = [];
    const bottom: boolean[] = [];
    for (const ch of line) {
      if (!' ▀▄█'.includes(ch)) throw new Error(`unexpected character ${JSON.stringify(ch)} in QR text`);
      top.push(ch === '▀' || ch === '█');
      bottom.push(ch === '▄' || ch === '█');
    }
    rows.push(top, bottom);
  }
  return rows;
}

/** Writes modules as a binary PGM (P5), `scale` pixels per module, with an extra white margin. */
export function writePgm(path: string, rows: boolean[][], scale = 8, margin = 4): void {
  const h = rows.length;
  const w = Math.max(...rows.map((r) => r.length));
  const W = (w + 2 * margin) * scale;
  const H = (h + 2 * margin) * scale;
  const px = Buffer.alloc(W * H, 255);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (rows[y]![x])
        for (let dy = 0; dy < scale; dy++)
          px.fill(0, ((y + margin) * scale + dy) * W + (x + margin) * scale, ((y + margin) * scale + dy) * W + (x + margin + 1) * scale);
  writeFileSync(path, Buffer.concat([Buffer.from(`P5\n${W} ${H}\n255\n`), px]));
}

/** Decodes the one QR code in an image file with zbarimg, as raw bytes. */
export function zbarDecode(path: string): Buffer {
  return execFileSync('zbarimg', ['--nodbus', '--raw', '-q', '-Sbinary', '-Sqrcode.enable=1', path], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Renders an SVG file to PNG with rsvg-convert. */
export function svgToPng(svg: string, png: string, width = 400): void {
  execFileSync('rsvg-convert', ['-w', String(width), '-b', 'white', '-o', png, svg]);
}
