// The enrolment QR code: payload bytes as the reference builds them
// (client.json qr_payloads), and both renderings decoded by a real decoder.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { qrMatrix, qrPayload, renderHalfBlocks, renderSvg } from '../client/qr.js';
import { halfBlocksToModules, have, svgToPng, writePgm, zbarDecode } from './client.support.js';
import { hex, loadVectors, toHex } from './helpers/vectors.js';

const C = loadVectors('client');
const MK = hex(C.masterkey);
const dir = mkdtempSync(join(tmpdir(), 'sphinx-client-qr-'));

test('payload = flags | masterkey? | port u16be | address, as the reference', () => {
  assert.ok(C.qr_payloads.length >= 4);
  for (const v of C.qr_payloads) {
    const p = qrPayload({ address: v.hostname, port: v.port, rwdKeys: v.rwd_keys, validatePassword: v.validate_password }, v.key ? MK : null);
    assert.is(toHex(p), v.payload, JSON.stringify(v));
  }
});

test('the symbol uses byte mode and error correction LOW', () => {
  const p = qrPayload({ address: '127.0.0.1', port: 2355, rwdKeys: false, validatePassword: true }, MK);
  const m = qrMatrix(p);
  // 44 bytes in byte mode fit version 3 at ECC L (53) but not at M (42): 29 modules
  assert.is(p.length, 44);
  assert.is(m.size, 29);
});

test('half-block text: every character maps two modules, with a quiet zone', () => {
  const m = qrMatrix(qrPayload({ address: 'h', port: 1, rwdKeys: false, validatePassword: false }, null));
  const text = renderHalfBlocks(m, { border: 4 });
  const rows = halfBlocksToModules(text);
  assert.is(rows[0]!.length, m.size + 8);
  for (let y = 0; y < m.size; y++) for (let x = 0; x < m.size; x++) assert.is(rows[y + 4]![x + 4], m.dark(x, y), `module ${x},${y}`);
  assert.ok(rows.slice(0, 4).every((r) => r.every((d) => !d)), 'quiet zone above');
  const ansi = renderHalfBlocks(m, { ansi: true });
  assert.ok(ansi.split('\n').filter(Boolean).every((l) => l.startsWith('\x1b[30;107m') && l.endsWith('\x1b[0m')), 'black on white per line');
});

const canDecode = have('zbarimg') && have('rsvg-convert');

test('text and SVG outputs decode (zbarimg) to the exact payload bytes', async () => {
  if (!canDecode) {
    console.warn('zbarimg/rsvg-convert missing: apt-get install zbar-tools librsvg2-bin');
    assert.unreachable('QR decoders not installed (zbar-tools, librsvg2-bin)');
  }
  for (const v of C.qr_payloads) {
    const p = qrPayload({ address: v.hostname, port: v.port, rwdKeys: v.rwd_keys, validatePassword: v.validate_password }, v.key ? MK : null);
    for (const ansi of [false, true]) {
      const pgm = join(dir, `t${ansi}.pgm`);
      writePgm(pgm, halfBlocksToModules(renderHalfBlocks(qrMatrix(p), { ansi })), 6, 0);
      assert.is(toHex(zbarDecode(pgm)), v.payload, `text ansi=${ansi}`);
    }
    const svg = join(dir, 'q.svg');
    const png = join(dir, 'q.png');
    writeFileSync(svg, await renderSvg(p));
    svgToPng(svg, png);
    assert.is(toHex(zbarDecode(png)), v.payload, 'svg');
  }
});

test.run();
