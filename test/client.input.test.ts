// Password input (stdin lines, terminal line editing) and the puzzle helpers
// (worker solver, fd 3 detection, progress text).
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LineEditor, readStdinLines, splitLines } from '../client/input.js';
import { isUiFd, progressLine, reportingSolve, Solver, WorkerSolver } from '../client/puzzle.js';
import { verify } from '../shared/equihash.js';
import { hex, loadVectors, toHex } from './helpers/vectors.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);
const dir = mkdtempSync(join(tmpdir(), 'sphinx-client-input-'));

test('splitLines: one line each, only the newline dropped', () => {
  assert.equal(splitLines(enc('pw'), 1).map(str), ['pw']);
  assert.equal(splitLines(enc('pw\n'), 1).map(str), ['pw']);
  assert.equal(splitLines(enc(' pw \r\n'), 1).map(str), [' pw \r']);
  assert.equal(splitLines(enc('old\nnew'), 2).map(str), ['old', 'new']);
  assert.equal(splitLines(enc('old\n'), 2).map(str), ['old', '']);
  assert.equal(splitLines(enc(''), 2).map(str), ['', '']);
  assert.equal(splitLines(enc('a\nb\nc\n'), 1).map(str), ['a']);
});

test('readStdinLines reads a file or pipe fd up to the lines it needs', async () => {
  const f = join(dir, 'in');
  require_write(f, 'héllo wörld\nsecond\nthird');
  const fd = openSync(f, 'r');
  try {
    const lines = await readStdinLines(2, fd);
    assert.equal(lines.map(str), ['héllo wörld', 'second']);
  } finally {
    closeSync(fd);
  }
});

function require_write(path: string, text: string): void {
  // small helper kept local: a file standing in for stdin
  spawnSync('sh', ['-c', 'cat > "$1"', 'sh', path], { input: text });
  assert.is(readFileSync(path, 'utf8'), text);
}

test('terminal line editor: backspace (whole UTF-8 characters), ^U, enter, ^C', () => {
  const ed = new LineEditor();
  assert.not.ok(ed.feed(enc('pässx')));
  assert.not.ok(ed.feed(Uint8Array.of(0x7f)));
  assert.not.ok(ed.feed(enc('wö')));
  assert.not.ok(ed.feed(Uint8Array.of(0x7f, 0x7f)));
  assert.ok(ed.feed(enc('wörd\rignored')));
  assert.is(str(ed.take()), 'pässwörd');
  const u = new LineEditor();
  u.feed(enc('abc'));
  u.feed(Uint8Array.of(0x15));
  u.feed(enc('xy\n'));
  assert.is(str(u.take()), 'xy');
  const c = new LineEditor();
  assert.ok(c.feed(enc('ab\x03')));
  assert.ok(c.interrupted);
});

test('fd 3: only inherited files, pipes, sockets or devices count (not libuv anon inodes)', () => {
  const st = (kind: string) => ({
    isFIFO: () => kind === 'fifo',
    isFile: () => kind === 'file',
    isSocket: () => kind === 'sock',
    isCharacterDevice: () => kind === 'chr',
  });
  for (const k of ['fifo', 'file', 'sock', 'chr']) assert.ok(isUiFd(st(k)));
  assert.not.ok(isUiFd(st('anon')));
  assert.not.ok(isUiFd(null));
  // this test process did not inherit fd 3: node's own epoll/eventfd sits there
  let real: ReturnType<typeof fstatSync> | null = null;
  try {
    real = fstatSync(3);
  } catch {
    real = null;
  }
  const inherited = spawnSync('sh', ['-c', 'readlink /proc/$PPID/fd/3'], { encoding: 'utf8' });
  if (real && /anon_inode/.test(inherited.stdout)) assert.not.ok(isUiFd(real));
});

test('progress line names the level', () => {
  assert.is(progressLine(80, 4, 2.345), "solving the oracle's rate-limit puzzle (level 4/12, n=80 k=4): 2.3 s");
  assert.match(progressLine(61, 4, 0), /unknown level/);
});

test('the worker solver solves the equihash.json puzzles, and fd 3 gets "n k\\n" then seconds', async () => {
  const E = loadVectors('equihash');
  const cases = E.cases.filter((c: { n: number }) => c.n === 60 || c.n === 65).slice(0, 3);
  const solver = new WorkerSolver();
  const f = join(dir, 'fd3');
  const fd = openSync(f, 'w');
  try {
    const solve = reportingSolve(solver.solve, { fd3: fd, tty: false, verbose: false });
    for (const c of cases) {
      const sol = await solve(c.n, c.k, hex(c.seed));
      // any valid solution will do (the oracle verifies; it need not be the reference solver's)
      assert.ok(verify(c.n, c.k, hex(c.seed), sol), `valid solution for n=${c.n}`);
    }
  } finally {
    solver.close();
    closeSync(fd);
  }
  const notes = readFileSync(f, 'utf8');
  // reference format: "<n> <k>\n" before, the seconds (no newline) after
  const re = new RegExp(cases.map((c: { n: number; k: number }) => `${c.n} ${c.k}\\n\\d+(\\.\\d+)?(e-\\d+)?`).join(''));
  assert.match(notes, re);
});

test('small puzzles are solved inline, larger ones in the worker; solutions start at a random nonce', async () => {
  const E = loadVectors('equihash');
  const small = E.cases.find((c: { n: number; seed_len: number }) => c.n === 60 && c.seed_len === 107);
  const big = E.cases.find((c: { n: number; seed_len: number }) => c.n === 75 && c.seed_len === 107);
  const solver = new Solver();
  try {
    const a = await solver.solve(small.n, small.k, hex(small.seed));
    const b = await solver.solve(small.n, small.k, hex(small.seed));
    assert.ok(verify(small.n, small.k, hex(small.seed), a));
    assert.ok(verify(small.n, small.k, hex(small.seed), b));
    assert.is.not(toHex(a), toHex(b), 'two solves of one challenge differ (random first nonce)');
    assert.is(solver.offThread, 0);
    const c = await solver.solve(big.n, big.k, hex(big.seed));
    assert.ok(verify(big.n, big.k, hex(big.seed), c));
    assert.is(solver.offThread, 1, 'n=75 went to the worker');
  } finally {
    solver.close();
  }
});

test.run();
