// The command line: §7's positional shapes (pwdsphinx 1.0.16 arg_rules),
// the long options, arities and usage errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SYMBOLS } from '../shared/constants.js';
import { buildInvocation, pyInt, ruleFromPositionals, tokenize, type Invocation } from '../client/args.js';
import { CliUsageError, Exit } from '../client/errors.js';

const inv = (...argv: string[]): Invocation => buildInvocation(tokenize(argv));
const usage = (...argv: string[]): string => {
  try {
    inv(...argv);
  } catch (e) {
    assert.instance(e, CliUsageError);
    assert.is((e as CliUsageError).exitCode, Exit.USAGE);
    return (e as Error).message;
  }
  assert.unreachable(`expected a usage error for ${JSON.stringify(argv)}`);
  return '';
};

test('defaults: uld + all symbols, size 0', () => {
  assert.equal(ruleFromPositionals([]), { classes: 'uld', symbols: SYMBOLS, size: 0 });
});

test('classes by shape; s means all symbols; classes are canonicalised', () => {
  assert.equal(ruleFromPositionals(['u']), { classes: 'u', symbols: '', size: 0 });
  assert.equal(ruleFromPositionals(['l']), { classes: 'l', symbols: '', size: 0 });
  assert.equal(ruleFromPositionals(['d']), { classes: 'd', symbols: '', size: 0 });
  assert.equal(ruleFromPositionals(['dlu']), { classes: 'uld', symbols: '', size: 0 });
  assert.equal(ruleFromPositionals(['ds']), { classes: 'd', symbols: SYMBOLS, size: 0 });
  assert.equal(ruleFromPositionals(['sdlu']), { classes: 'uld', symbols: SYMBOLS, size: 0 });
});

test('"s" alone leaves no class, so the reference falls back to uld (+ all symbols)', () => {
  assert.equal(ruleFromPositionals(['s']), { classes: 'uld', symbols: SYMBOLS, size: 0 });
});

test('sizes below 79 are sizes; 79 and above are target passwords (PINs)', () => {
  assert.equal(ruleFromPositionals(['12']), { classes: 'uld', symbols: SYMBOLS, size: 12 });
  assert.equal(ruleFromPositionals(['78']), { classes: 'uld', symbols: SYMBOLS, size: 78 });
  assert.equal(ruleFromPositionals(['79']).target, '79');
  assert.equal(ruleFromPositionals(['1234']).target, '1234');
  assert.equal(ruleFromPositionals(['ul', '20']), { classes: 'ul', symbols: '', size: 20 });
  assert.equal(ruleFromPositionals(['20', 'ul']), { classes: 'ul', symbols: '', size: 20 });
});

test('a second size after a non-zero one is a target (and then an error)', () => {
  assert.match(usage('create', 'u', 's', '12', '13'), /target password/);
});

test('symbol sets by shape, canonicalised', () => {
  assert.equal(ruleFromPositionals(['ul', '-_!']), { classes: 'ul', symbols: '!-_', size: 0 });
  assert.equal(ruleFromPositionals(['d', '8', '#']), { classes: 'd', symbols: '#', size: 8 });
  // symbols without classes: default classes, only these symbols
  assert.equal(ruleFromPositionals(['@']), { classes: 'uld', symbols: '@', size: 0 });
});

test('anything else is a target password, alone', () => {
  assert.equal(ruleFromPositionals(['Tr0ub4dor&3']), { classes: 'uld', symbols: SYMBOLS, size: 0, target: 'Tr0ub4dor&3' });
  assert.match(usage('create', 'u', 's', 'ulsd', 'Tr0ub4dor&3'), /target password/);
  assert.match(usage('change', 'u', 's', 'hunter2', '20'), /target password/);
  // the message never repeats the (secret) target password
  assert.not.match(usage('create', 'u', 's', 'ulsd', 'Tr0ub4dor&3'), /Tr0ub4dor/);
  assert.not.match(usage('change', 'u', 's', 'hunter2', '20'), /hunter2/);
  // a zero size is "no size" in the reference and does not conflict
  assert.equal(ruleFromPositionals(['0', 'hunter2']).target, 'hunter2');
});

test('python int() shapes for sizes', () => {
  assert.is(pyInt('12'), 12);
  assert.is(pyInt(' 12 '), 12);
  assert.is(pyInt('+7'), 7);
  assert.is(pyInt('1_0'), 10);
  assert.is(pyInt('-3'), -3);
  assert.is(pyInt('1.5'), null);
  assert.is(pyInt('0x10'), null);
  assert.match(usage('create', 'u', 's', '-3'), /size/);
});

test('explicit options', () => {
  const c = inv('create', 'alice', 'example.com', '--size', '16', '--classes', 'ud', '--symbols', '#!').command;
  assert.equal(c, { cmd: 'create', user: 'alice', site: 'example.com', rule: { classes: 'ud', symbols: '!#', size: 16 } });
  // --classes s alone: symbols only (unlike the positional "s")
  const s = inv('create', 'a', 'b', '--classes=s').command;
  assert.equal(s, { cmd: 'create', user: 'a', site: 'b', rule: { classes: '', symbols: SYMBOLS, size: 0 } });
  // --target stores a password that looks like a rule
  const t = inv('change', 'a', 'b', '--target', '42').command;
  assert.equal(t, { cmd: 'change', user: 'a', site: 'b', rule: { classes: 'uld', symbols: SYMBOLS, size: 0, target: '42' } });
  assert.match(usage('create', 'a', 'b', '--target', 'x', '--size', '3'), /--target cannot/);
  assert.match(usage('create', 'a', 'b', 'ulsd', '--target', 'x'), /--target cannot/);
  assert.match(usage('create', 'a', 'b', '--size', '128'), /--size/);
  assert.match(usage('create', 'a', 'b', '--classes', 'x'), /--classes/);
  assert.match(usage('create', 'a', 'b', '--symbols', 'abc'), /--symbols/);
  assert.match(usage('create', 'a', 'b', '--classes', 's', '--symbols', '#'), /constant/);
  assert.match(usage('get', 'a', 'b', '--size', '3'), /only apply to create and change/);
});

test('--config anywhere; -- ends the options; dashed words are positional', () => {
  assert.equal(inv('--config', '/x.cfg', 'get', 'u', 's'), { command: { cmd: 'get', user: 'u', site: 's' }, config: '/x.cfg' });
  assert.equal(inv('get', 'u', 's', '--config=/y'), { command: { cmd: 'get', user: 'u', site: 's' }, config: '/y' });
  assert.equal(inv('create', 'u', 's', '--', '--size').command, { cmd: 'create', user: 'u', site: 's', rule: { classes: 'uld', symbols: SYMBOLS, size: 0, target: '--size' } });
  assert.equal(inv('create', 'u', 's', '-_').command, { cmd: 'create', user: 'u', site: 's', rule: { classes: 'uld', symbols: '-_', size: 0 } });
  assert.equal(inv('get', '-u', 's').command, { cmd: 'get', user: '-u', site: 's' });
  assert.match(usage('get', 'u', 's', '--frobnicate'), /unknown option --frobnicate/);
  assert.match(usage('get', 'u', 's', '--config'), /needs a value/);
});

test('--raw (otp:// records): get, create and change take it, anywhere before --; other commands refuse it', () => {
  assert.equal(inv('get', '--raw', 'otp://a', 's').command, { cmd: 'get', user: 'otp://a', site: 's', raw: true });
  assert.equal(inv('get', 'otp://a', 's', '--raw').command, { cmd: 'get', user: 'otp://a', site: 's', raw: true });
  assert.equal(inv('create', '--raw', '--target', 'JBSWY3DP', 'otp://a', 's').command, {
    cmd: 'create',
    user: 'otp://a',
    site: 's',
    rule: { classes: 'uld', symbols: SYMBOLS, size: 0, target: 'JBSWY3DP' },
    raw: true,
  });
  assert.equal(inv('create', 'u', 's', '--', '--raw').command, { cmd: 'create', user: 'u', site: 's', rule: { classes: 'uld', symbols: SYMBOLS, size: 0, target: '--raw' } });
  for (const c of ['commit', 'undo', 'delete']) assert.match(usage(c, '--raw', 'otp://a', 's'), /--raw only applies/);
  assert.match(usage('list', '--raw', 's'), /--raw only applies/);
});

test('arities of every command', () => {
  assert.equal(inv('init').command, { cmd: 'init' });
  assert.equal(inv('list', 'example.com').command, { cmd: 'list', site: 'example.com' });
  for (const c of ['get', 'commit', 'undo', 'delete'] as const) {
    assert.equal(inv(c, 'u', 's').command, { cmd: c, user: 'u', site: 's' });
    usage(c, 'u');
    usage(c, 'u', 's', 'x');
  }
  usage('init', 'x');
  usage('list');
  usage('list', 'a', 'b');
  usage('create', 'u');
  usage('change');
  assert.match(usage('frobnicate'), /unknown command/);
});

test('qr [svg] [key] in any order, each once', () => {
  assert.equal(inv('qr').command, { cmd: 'qr', svg: false, key: false });
  assert.equal(inv('qr', 'key', 'svg').command, { cmd: 'qr', svg: true, key: true });
  assert.equal(inv('qr', 'key').command, { cmd: 'qr', svg: false, key: true });
  usage('qr', 'svg', 'svg');
  usage('qr', 'png');
});

test('help forms', () => {
  assert.equal(inv().command, { cmd: 'help' });
  assert.equal(inv('help').command, { cmd: 'help' });
  assert.equal(inv('--help').command, { cmd: 'help' });
  assert.equal(inv('-h').command, { cmd: 'help' });
  assert.equal(inv('help', 'get').command, { cmd: 'help', topic: 'get' });
  assert.equal(inv('get', '--help').command, { cmd: 'help', topic: 'get' });
  assert.equal(inv('create', 'u', 's', '-h').command, { cmd: 'help', topic: 'create' });
  usage('help', 'nope');
});

test.run();
