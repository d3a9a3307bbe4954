// The yargs definition of the command line: help for every command and the
// usage shown with usage errors. Loaded only for those (yargs costs ~100 ms to
// load); the arguments themselves are recognised by args.ts, so both paths
// agree on what a command line means.
import yargs, { type Argv } from 'yargs';
import { SYMBOLS } from '../shared/constants.js';
import { COMMANDS } from './args.js';

const PWD_NOTE = 'The master password is read from stdin (one line), or prompted for without echo when stdin is a terminal.';

const RULES = [
  'Rules for create/change (recognised by shape, as the pwdsphinx client does):',
  '  ulsd letters   classes: u upper, l lower, d digits, s all symbols (default: uld and all symbols)',
  '  a number < 79  the length (0, the default: as long as 256 bits give; at most 39 with the',
  '                 default classes, 43 for uld, 78 for d: a longer one is refused)',
  `  only symbols   the allowed symbols, from: ${SYMBOLS}`,
  '  anything else  a target password to store as is (e.g. an existing password or a PIN >= 79)',
  'Put -- before an argument that starts with -- (a target password "--x"); a single - needs none:',
  '"-_" is a symbol set.',
].join('\n');

const EXIT_CODES = [
  'Exit codes: 0 ok, 1 error, 2 bad check digit (mistyped master password), 3 unexplained failure,',
  '100 usage error, 130 interrupted (Ctrl-C).',
].join('\n');

const CONVERTERS = [
  'User names with a prefix (converters, README "Keys and codes from SPHINX"):',
  '  otp://NAME          create/change store the base32 TOTP secret (--target SECRET);',
  '                      get prints the current code (--raw: the secret)',
  '  ssh-ed25519://NAME  create/change print the OpenSSH public key, get the private key',
  '  age://NAME          create/change print the age recipient, get the identity',
  '  minisig://NAME      create/change print the minisign public key, get the secret key',
].join('\n');

const EPILOGUE = [
  RULES,
  '',
  CONVERTERS,
  '',
  'Config ([client] section): /etc/sphinx/config, ~/.sphinxrc, ~/.config/sphinx/config, ./sphinx.cfg,',
  'or only --config FILE; `sphinx config` shows the values in effect. Manuals: sphinx(1), sphinx.cfg(5).',
  EXIT_CODES,
].join('\n');

function ruleOptions(y: Argv): Argv {
  return y
    .positional('user', { describe: 'user name at the site', type: 'string' })
    .positional('site', { describe: 'site (host) name', type: 'string' })
    .positional('rule', { describe: 'classes, size, symbols, or a target password (see below)', type: 'string' })
    .epilogue(`${RULES}\n\n${EXIT_CODES}`)
    .option('classes', { type: 'string', describe: 'character classes: any of u l d s (s = all symbols; "s" alone = symbols only)' })
    .option('size', { type: 'string', describe: 'password length, at most what the classes give (0: as long as 256 bits give)' })
    .option('symbols', { type: 'string', describe: 'allowed symbols (a subset of the 33)' })
    .option('target', { type: 'string', describe: 'store exactly this password (excludes the rule options); for otp://NAME the base32 TOTP secret' })
    .option('raw', { type: 'boolean', describe: 'otp://NAME: print the stored secret, not the current code' });
}

const userSite = (y: Argv): Argv =>
  y.positional('user', { describe: 'user name at the site', type: 'string' }).positional('site', { describe: 'site (host) name', type: 'string' });

function build(args: string[]): Argv {
  return yargs(args)
    .scriptName('sphinx')
    .exitProcess(false)
    .version(false)
    .help('help')
    .alias('help', 'h')
    .option('config', { type: 'string', describe: 'read only this config file', global: true })
    .command('init', 'create the masterkey in the datadir (refuses to overwrite one)')
    .command('create <user> <site> [rule..]', `create a password and print it. ${PWD_NOTE}`, ruleOptions)
    .command('get <user> <site>', `print a stored password. ${PWD_NOTE}`, (y) =>
      userSite(y).option('raw', { type: 'boolean', describe: 'otp://NAME: print the stored secret, not the current code' }).epilogue(CONVERTERS),
    )
    .command(
      'change <user> <site> [rule..]',
      `make a new password (pending until commit) and print it. Reads the current master password, then the new one (empty: unchanged).`,
      ruleOptions,
    )
    .command('commit <user> <site>', 'make the pending change current (password on stdin only when rwd_keys is true)', userSite)
    .command('undo <user> <site>', 'go back to the password before the last commit (password only when rwd_keys is true)', userSite)
    .command('delete <user> <site>', 'delete a password record (password only when rwd_keys is true)', userSite)
    .command('list <site>', 'list the user names stored for a site', (y) => y.positional('site', { describe: 'site (host) name', type: 'string' }))
    .command('qr [svg] [key]', 'print the phone app enrolment QR code; "svg" for an SVG image, "key" to include the masterkey', (y) =>
      y.positional('svg', { describe: 'the word svg', type: 'string' }).positional('key', { describe: 'the word key', type: 'string' }),
    )
    .command('config', 'print the effective [client] configuration and the file and line each value comes from')
    .command('totp', 'print the current TOTP code (RFC 6238) of the base32 secret read from stdin; no oracle, no config (for scripts holding `get --raw otp://NAME`)')
    .completion('completion', 'print a completion script: `sphinx completion bash` (or zsh); source it from ~/.bashrc (~/.zshrc)')
    .command('help [command]', 'show help (for one command)')
    .example([
      ['sphinx init', ''],
      ["echo -n 'master' | sphinx create alice example.com ulsd 20", ''],
      ["echo -n 'master' | sphinx create alice bank.example 1234", ''],
      ["echo -n 'master' | sphinx get alice example.com", ''],
      ["printf 'old\\nnew' | sphinx change alice example.com", ''],
      ['sphinx commit alice example.com', ''],
      ['sphinx qr key', ''],
    ])
    .epilogue(EPILOGUE)
    .wrap(Math.min(110, process.stdout.columns || 100));
}

/** Runs yargs over argv and returns what it printed (help, completion script or completions). */
async function captured(args: string[]): Promise<string> {
  let out = '';
  await build(args).parse(args, {}, (_err: unknown, _argv: unknown, output: string) => {
    out = output;
  });
  return out.endsWith('\n') || out === '' ? out : out + '\n';
}

/**
 * `sphinx completion bash|zsh`: yargs' completion script for that shell. The
 * script asks \`sphinx --get-yargs-completions <words>\` at each Tab. (yargs
 * picks the template from $SHELL, so it is set for this process.)
 */
export function completionScript(shell: 'bash' | 'zsh'): Promise<string> {
  process.env['SHELL'] = `/bin/${shell}`;
  if (shell === 'bash') delete process.env['ZSH_NAME'];
  return captured(['completion']);
}

/** The completions for the words of a command line (`sphinx --get-yargs-completions sphinx cr`). */
export function completions(argv: string[]): Promise<string> {
  return captured(argv);
}

/** The help text: general, or for one command. */
export async function helpText(topic?: string): Promise<string> {
  if (!topic || !(COMMANDS as readonly string[]).includes(topic) || topic === 'help') return (await build([]).getHelp()) + '\n';
  let out = '';
  await build([topic, '--help']).parse([topic, '--help'], {}, (_err: unknown, _argv: unknown, output: string) => {
    out = output;
  });
  return out.endsWith('\n') ? out : out + '\n';
}
