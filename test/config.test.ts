import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configPaths, parseIni, mergeSections, loadConfigFiles, getBool, getInt, expandHome } from '../shared/config.js';

test('default paths in order, --config replaces them', () => {
  assert.equal(configPaths(undefined, '/home/u', '/w'), ['/etc/sphinx/config', '/home/u/.sphinxrc', '/home/u/.config/sphinx/config', '/w/sphinx.cfg']);
  assert.equal(configPaths('x.cfg', '/home/u', '/w'), ['/w/x.cfg']);
});

test('quotes are stripped, values are strings', () => {
  const s = parseIni('[client]\naddress = "example.com"\nrwd_keys = true\nport=2356\n');
  assert.equal(s.client, { address: 'example.com', rwd_keys: 'true', port: '2356' });
});

test('later files override earlier ones key by key', () => {
  const m = mergeSections([parseIni('[client]\na=1\nb=2\n'), parseIni('[client]\nb=3\n[server]\nc=4\n')]);
  assert.equal(m, { client: { a: '1', b: '3' }, server: { c: '4' } });
});

test('missing default files are skipped; a missing explicit file is an error', () => {
  const d = mkdtempSync(join(tmpdir(), 'cfg-'));
  try {
    writeFileSync(join(d, 'b'), '[server]\nport = "2400"\n');
    assert.equal(loadConfigFiles([join(d, 'a'), join(d, 'b')], false), { server: { port: '2400' } });
    assert.throws(() => loadConfigFiles([join(d, 'a')], true), /cannot read config file/);
  } finally {
    rmSync(d, { recursive: true });
  }
});

test('typed getters validate', () => {
  assert.is(getBool({ x: 'Yes' }, 'x', false), true);
  assert.is(getBool({ x: 'off' }, 'x', true), false);
  assert.is(getBool({}, 'x', true), true);
  assert.throws(() => getBool({ x: 'maybe' }, 'x', true), /true or false/);
  assert.is(getInt({ p: '2355' }, 'p', 1, 1, 65535), 2355);
  assert.throws(() => getInt({ p: '70000' }, 'p', 1, 1, 65535), /between/);
  assert.throws(() => getInt({ p: 'abc' }, 'p', 1), /whole number/);
  assert.is(expandHome('~/x', '/h'), '/h/x');
  assert.is(expandHome('/a/~', '/h'), '/a/~');
});

test.run();
