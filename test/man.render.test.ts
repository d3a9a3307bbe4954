// The man pages in man/ (every man/*.[1-8], whoever adds one) render with
// the real tools a user's `man` runs: groff with all warnings on must say
// nothing, man-db's `man -l` must format the page, and lexgrog (what mandb
// reads for whatis/apropos) must find its NAME line. package.json "man" lists
// exactly these files, so `npm i -g` installs them.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const PAGES = readdirSync(join(ROOT, 'man'))
  .filter((f) => /\.[1-8]$/.test(f))
  .sort();

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8', ...env } });
  if (r.error) throw new Error(`${cmd}: ${r.error.message} (install groff-base and man-db: .ci/run does)`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the pages the issue asks for are there, and package.json "man" lists exactly man/*.[1-8]', () => {
  for (const p of ['sphinx.1', 'oracle.8', 'sphinx.cfg.5']) assert.ok(PAGES.includes(p), `man/${p}`);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { man?: string[] };
  assert.equal([...(pkg.man ?? [])].sort(), PAGES.map((p) => `man/${p}`));
});

for (const page of PAGES) {
  test(`man/${page}: groff -ww says nothing, man -l renders it, lexgrog reads its NAME`, () => {
    const file = join(ROOT, 'man', page);
    const section = page.slice(page.lastIndexOf('.') + 1);
    const name = page.slice(0, page.lastIndexOf('.'));
    const th = /^\.TH\s+(\S+)\s+(\S+)/m.exec(readFileSync(file, 'utf8'));
    assert.ok(th, '.TH line');
    assert.is(th[1]!.toLowerCase(), name, '.TH title is the file name');
    assert.is(th[2], section, '.TH section is the file extension');
    const g = run('groff', ['-man', '-ww', '-z', '-Tutf8', file]);
    assert.is(g.code, 0);
    assert.is(g.stderr, '', `groff warnings:\n${g.stderr}`);
    const m = run('man', ['--warnings', '-l', file], { MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat' });
    assert.is(m.code, 0, m.stderr);
    assert.is(m.stderr, '', `man -l warnings:\n${m.stderr}`);
    assert.match(m.stdout, new RegExp(`^${name.toUpperCase()}\\(${section}\\)`, 'm'));
    for (const s of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'SEE ALSO']) assert.match(m.stdout, new RegExp(`^${s}$`, 'm'), `${page}: ${s} section`);
    const l = run('lexgrog', [file]);
    assert.is(l.code, 0, l.stdout + l.stderr);
    assert.match(l.stdout, new RegExp(`"${name.replace('.', '\\.')} - `));
  });
}

test.run();
