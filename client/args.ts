// The command line, as pure functions (no I/O): the positional syntax of
// protocol.md §7, recognised by shape exactly as pwdsphinx 1.0.16 arg_rules
// does, plus explicit long options. main.ts uses `parseFast` for the plain
// forms and loads yargs (cli-yargs.ts) only for help, usage errors and
// option-rich forms; both end in `buildInvocation`, so they agree.
import { SYMBOLS } from '../shared/constants.js';
import { alphabet, maxSize } from '../shared/password.js';
import { ClientError, CliUsageError } from './errors.js';

export interface RuleSpec {
  /** canonical subset of "uld" ('' only through --classes s: symbols alone) */
  classes: string;
  /** canonical subset of SYMBOLS */
  symbols: string;
  /** 0 = as long as the entropy gives */
  size: number;
  /** a fixed password to store instead (classes/symbols/size then come from it) */
  target?: string;
}

export type Command =
  | { cmd: 'init' }
  | { cmd: 'get'; user: string; site: string; raw?: boolean }
  | { cmd: 'commit' | 'undo' | 'delete'; user: string; site: string }
  | { cmd: 'create' | 'change'; user: string; site: string; rule: RuleSpec; raw?: boolean }
  | { cmd: 'list'; site: string }
  | { cmd: 'qr'; svg: boolean; key: boolean }
  | { cmd: 'config' }
  | { cmd: 'totp' }
  | { cmd: 'completion'; shell: Shell }
  | { cmd: 'version' }
  | { cmd: 'help'; topic?: string };

export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

export interface Invocation {
  command: Command;
  /** --config FILE: read only this file instead of the four defaults */
  config?: string;
}

export const COMMANDS = ['init', 'create', 'get', 'change', 'commit', 'undo', 'delete', 'list', 'qr', 'config', 'totp', 'completion', 'help'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Long options that take a value. */
export const VALUE_OPTIONS = ['config', 'size', 'classes', 'symbols', 'target'] as const;
export type ValueOption = (typeof VALUE_OPTIONS)[number];
export type Options = Partial<Record<ValueOption, string>>;

/** Positional sizes must be below this (a larger number is a target password, e.g. a PIN). */
export const POSITIONAL_SIZE_LIMIT = 79;
/** The packed rule keeps 7 bits of size. */
export const MAX_SIZE = 127;

const canonical = (set: string, order: string): string => [...order].filter((c) => set.includes(c)).join('');
const onlyOf = (s: string, allowed: string): boolean => [...s].every((c) => allowed.includes(c));

/** Python's int() on a str, for the shapes that matter here; null when it would raise. */
export function pyInt(s: string): number | null {
  if (!/^\s*[+-]?\d+(_\d+)*\s*$/.test(s)) return null;
  const n = Number(s.trim().replace(/_/g, ''));
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * pwdsphinx 1.0.16 arg_rules over the arguments after <user> <site>:
 * - only letters of "ulsd" (the first such argument): character classes, where
 *   `s` means all symbols; note `s` alone leaves no class and so falls back to
 *   the default "uld" (plus all symbols), exactly as the reference does;
 * - an integer below 79 (while no non-zero size was seen): the size;
 * - only symbols: the allowed symbol set;
 * - anything else: a target password, which excludes classes, symbols and size.
 */
export function ruleFromPositionals(params: readonly string[]): RuleSpec {
  let classes: string | null = null;
  let symbols: string | null = null;
  let size: number | null = null;
  let target: string | null = null;
  for (const p of params) {
    if (!classes && onlyOf(p, 'ulsd')) {
      if (p.includes('s')) {
        symbols = SYMBOLS;
        classes = canonical(p, 'uld');
      } else {
        classes = p;
        symbols = '';
      }
      continue;
    }
    if (!size) {
      const n = pyInt(p);
      if (n !== null && n < POSITIONAL_SIZE_LIMIT) {
        if (n < 0) throw new CliUsageError(`invalid password size ${n}: it must be between 0 and ${POSITIONAL_SIZE_LIMIT - 1}`);
        size = n;
        continue;
      }
    }
    if (onlyOf(p, SYMBOLS)) {
      symbols = p;
      continue;
    }
    target = p;
  }
  if (target !== null && (symbols || classes || size)) {
    throw new CliUsageError(
      // The target is a password: never echo it (stderr ends up in logs).
      'an argument looks like a target password, which cannot be combined with classes, a size or symbols (use --target to store a password that looks like a rule)',
    );
  }
  const rule: RuleSpec = {
    classes: canonical(classes || 'uld', 'uld'),
    symbols: canonical(symbols ?? SYMBOLS, SYMBOLS),
    size: size || 0,
  };
  if (target !== null) rule.target = target;
  return rule;
}

/** Applies --classes/--symbols/--size/--target over the positional rule. */
export function applyRuleOptions(rule: RuleSpec, opts: Options, positionalRuleGiven: boolean): RuleSpec {
  const out: RuleSpec = { ...rule };
  const ruleOpts = opts.classes !== undefined || opts.symbols !== undefined || opts.size !== undefined;
  if (opts.target !== undefined) {
    if (ruleOpts || positionalRuleGiven) throw new CliUsageError('--target cannot be combined with classes, a size or symbols');
    if (opts.target === '') throw new CliUsageError('--target needs a non-empty password');
    return { ...rule, target: opts.target };
  }
  if (ruleOpts && out.target !== undefined) throw new CliUsageError('an argument looks like a target password, which cannot be combined with --classes, --size or --symbols');
  if (opts.classes !== undefined) {
    if (opts.classes === '' || !onlyOf(opts.classes, 'ulsd')) {
      throw new CliUsageError(`--classes takes letters of u (upper), l (lower), d (digits), s (symbols), not "${opts.classes}"`);
    }
    out.classes = canonical(opts.classes, 'uld');
    out.symbols = opts.classes.includes('s') ? SYMBOLS : '';
  }
  if (opts.symbols !== undefined) {
    if (!onlyOf(opts.symbols, SYMBOLS)) throw new CliUsageError(`--symbols takes characters from ${SYMBOLS}, not "${opts.symbols}"`);
    out.symbols = canonical(opts.symbols, SYMBOLS);
  }
  if (opts.size !== undefined) {
    const n = pyInt(opts.size);
    if (n === null || n < 0 || n > MAX_SIZE) throw new CliUsageError(`--size takes a number from 0 to ${MAX_SIZE}, not "${opts.size}"`);
    out.size = n;
  }
  return out;
}

/** The alphabet must have two characters at least (a one-character one gives a constant password). */
export function checkRule(rule: RuleSpec): void {
  if (rule.target !== undefined) return;
  if (rule.classes === '' && new Set(rule.symbols).size < 2) {
    throw new CliUsageError('no character classes and fewer than two symbols: the password would be constant');
  }
}

/**
 * Well-formed but refused input (exit 1, before anything is read or sent): an
 * empty user name (its record id would be the site's user-list id, which the
 * oracle refuses), a size longer than 256 bits can fill with these classes.
 */
export function refuseBeforeSending(cmd: Command): void {
  if ('user' in cmd && cmd.user === '') {
    throw new ClientError('the user name is empty: give the name you log in with at the site (nothing was sent)');
  }
  if ((cmd.cmd === 'create' || cmd.cmd === 'change') && cmd.rule.target === undefined) {
    const { classes, symbols, size } = cmd.rule;
    const max = maxSize(classes, symbols);
    if (size > max) {
      const what = [classes && `classes ${classes}`, symbols && `${symbols.length} symbols`].filter(Boolean).join(' and ');
      throw new ClientError(
        `a size of ${size} is more than ${what} can give (${alphabet(classes, symbols).length} characters): at most ${max}; use a size up to ${max}, or 0 for the longest`,
      );
    }
  }
}

export interface Tokens {
  command?: string;
  positionals: string[];
  options: Options;
  help: boolean;
  version: boolean;
  /** --raw: an otp:// record's stored secret instead of the code (client/converters.ts) */
  raw: boolean;
}

/**
 * Splits argv (without node and script) into the command, its positional
 * arguments and the known long options (--opt VALUE or --opt=VALUE), anywhere
 * on the line. `--` ends the options: everything after it is positional
 * (a target password that starts with "--"). Single-dash words such as "-_"
 * are positional (symbol sets), except -h.
 */
export function tokenize(argv: readonly string[]): Tokens {
  const t: Tokens = { positionals: [], options: {}, help: false, version: false, raw: false };
  let rest = false;
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (rest) {
      words.push(a);
      continue;
    }
    if (a === '--') {
      rest = true;
      continue;
    }
    if (a === '--help' || a === '-h') {
      t.help = true;
      continue;
    }
    if (a === '--version') {
      t.version = true;
      continue;
    }
    if (a === '--raw') {
      t.raw = true;
      continue;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      if (!(VALUE_OPTIONS as readonly string[]).includes(name)) {
        throw new CliUsageError(`unknown option ${a.slice(0, eq < 0 ? undefined : eq)} (put -- before an argument that starts with --)`);
      }
      let value: string;
      if (eq >= 0) value = a.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i]!;
      else throw new CliUsageError(`option --${name} needs a value`);
      if (t.options[name as ValueOption] !== undefined) throw new CliUsageError(`option --${name} given twice`);
      t.options[name as ValueOption] = value;
      continue;
    }
    words.push(a);
  }
  if (words.length) t.command = words[0];
  t.positionals = words.slice(1);
  return t;
}

const ARITY: Record<string, number> = { init: 0, config: 0, totp: 0, get: 2, commit: 2, undo: 2, delete: 2, list: 1 };

/** Turns a tokenised command line into an Invocation; CliUsageError for a bad one. */
export function buildInvocation(tok: Tokens): Invocation {
  const inv = (command: Command): Invocation => (tok.options.config !== undefined ? { command, config: tok.options.config } : { command });
  if (tok.options.config === '') throw new CliUsageError('--config needs a file name');
  const name = tok.command;
  if (tok.version && !tok.help) return inv({ cmd: 'version' });
  if (tok.help || name === undefined) return inv(name && name !== 'help' ? { cmd: 'help', topic: name } : { cmd: 'help' });
  if (name === 'help') {
    if (tok.positionals.length > 1) throw new CliUsageError('help takes at most one command name');
    const topic = tok.positionals[0];
    if (topic !== undefined && !(COMMANDS as readonly string[]).includes(topic)) throw new CliUsageError(`unknown command "${topic}"`);
    return inv(topic ? { cmd: 'help', topic } : { cmd: 'help' });
  }
  if (!(COMMANDS as readonly string[]).includes(name)) throw new CliUsageError(`unknown command "${name}"`);
  const p = tok.positionals;
  const isRuleCmd = name === 'create' || name === 'change';
  const ruleOptionGiven = (['size', 'classes', 'symbols', 'target'] as const).some((o) => tok.options[o] !== undefined);
  if (!isRuleCmd && ruleOptionGiven) throw new CliUsageError('--size, --classes, --symbols and --target only apply to create and change');
  if (tok.raw && !isRuleCmd && name !== 'get') throw new CliUsageError('--raw only applies to get, create and change (of otp:// records)');
  const raw = tok.raw ? { raw: true } : {};
  if (name === 'qr') {
    const rest = [...p];
    const take = (w: string): boolean => {
      const i = rest.indexOf(w);
      if (i < 0) return false;
      rest.splice(i, 1);
      return true;
    };
    const svg = take('svg');
    const key = take('key');
    if (rest.length) throw new CliUsageError(`qr takes only "svg" and "key", not "${rest.join(' ')}"`);
    return inv({ cmd: 'qr', svg, key });
  }
  if (name === 'completion') {
    // no name: the login shell's, as yargs' own "sphinx completion >> ~/.bashrc" hint expects
    const shell = p[0] ?? (process.env['SHELL'] ?? '').split('/').pop();
    if (p.length > 1 || !(SHELLS as readonly string[]).includes(shell!)) throw new CliUsageError(`completion takes one shell name: ${SHELLS.join(' or ')}`);
    return inv({ cmd: 'completion', shell: shell as Shell });
  }
  if (isRuleCmd) {
    if (p.length < 2) throw new CliUsageError(`${name} needs <user> <site>`);
    const [user, site, ...ruleArgs] = p as [string, string, ...string[]];
    const rule = applyRuleOptions(ruleFromPositionals(ruleArgs), tok.options, ruleArgs.length > 0);
    checkRule(rule);
    return inv({ cmd: name, user, site, rule, ...raw });
  }
  const arity = ARITY[name]!;
  if (p.length !== arity) {
    const want = name === 'init' || name === 'config' || name === 'totp' ? 'no arguments' : name === 'list' ? 'exactly <site>' : 'exactly <user> <site>';
    throw new CliUsageError(`${name} takes ${want}`);
  }
  switch (name) {
    case 'init':
      return inv({ cmd: 'init' });
    case 'config':
      return inv({ cmd: 'config' });
    case 'totp':
      return inv({ cmd: 'totp' });
    case 'list':
      return inv({ cmd: 'list', site: p[0]! });
    case 'get':
      return inv({ cmd: 'get', user: p[0]!, site: p[1]!, ...raw });
    default:
      return inv({ cmd: name as 'commit' | 'undo' | 'delete', user: p[0]!, site: p[1]! });
  }
}
