// What a new user meets first (issue 13): config files checked as read (real
// files, the real CLI and oracle), paths relative to the config file,
// `sphinx config`, --version, shell completion in a real bash and zsh, help texts.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLIENT_BIN, cleanEnv, runSphinx } from './helpers/cli.js';
import { ORACLE_MAIN, runOracle, startOracle, type RunningOracle } from './helpers/oracle-process.js';
import { runOnPty } from './helpers/pty.js';

const ROOT = join(dirname(ORACLE_MAIN), '../..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const MASTER = 'correct horse battery staple';

let oracle: RunningOracle;
const tmp = (p: string): string => mkdtempSync(join(tmpdir(), p));

test.before(async () => {
  oracle = await startOracle({ server: { rl_threshold: 1000000 } });
});
test.after(async () => {
  await oracle?.stop();
});

test('a file that is not INI: an error naming the file and line, for the client and the oracle', async () => {
  const home = tmp('sphinx-cfg-');
  const bad = join(home, 'bad.cfg');
  writeFileSync(bad, '# comment\n[client]\nthis is not ini\n');
  const r = await runSphinx(['--config', bad, 'list', 'example.com'], { home });
  assert.is(r.code, 1, r.stderr);
  assert.is(r.stderr, `error: ${bad}:3: not INI: expected "key = value" or "[section]"\n`);
  // a default file too (not only --config)
  mkdirSync(join(home, '.config', 'sphinx'), { recursive: true });
  writeFileSync(join(home, '.sphinxrc'), 'port = 2355\n');
  const d = await runSphinx(['config'], { home });
  assert.is(d.code, 1);
  assert.match(d.stderr, new RegExp(`${join(home, '.sphinxrc')}:1: "port" is outside any section`));
  const o = await runOracle(['--config', bad], { timeoutMs: 20000 });
  assert.is(o.code, 1, o.stderr);
  assert.match(o.stderr, new RegExp(`${bad}:3: not INI`));
});

test('unknown sections and keys: a warning naming the file, the line and the closest known name; the command still runs', async () => {
  const home = tmp('sphinx-cfg-');
  const file = join(home, '.config', 'sphinx', 'config');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `[clinet]\nport = 1\n\n[client]\nprot = 2356\nport = ${oracle.port}\nssl_cert = ${oracle.certPath}\n[websphinx]\npinentry = /usr/bin/pinentry\n`);
  const r = await runSphinx(['config'], { home });
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n'), [
    `warning: ${file}:1: unknown section [clinet] (ignored; closest known: [client])`,
    `warning: ${file}:5: unknown key "prot" in [client] (ignored; did you mean "port"?)`,
  ]);
  assert.match(r.stdout, new RegExp(`^port = ${oracle.port} +# ${file}:6$`, 'm'));
  // the oracle warns the same way about its own section
  const scfg = join(home, 'server.cfg');
  writeFileSync(scfg, '[server]\nmax_kid = 3\nport = 70000\n');
  const o = await runOracle(['--config', scfg], { timeoutMs: 20000 });
  assert.match(o.stderr, new RegExp(`warning: ${scfg}:2: unknown key "max_kid" in \\[server\\] \\(ignored; did you mean "max_kids"\\?\\)`));
});

test('relative ssl_cert and datadir are resolved against the config file directory, from any working directory', async () => {
  const dir = tmp('sphinx-rel-');
  copyFileSync(oracle.certPath, join(dir, 'oracle.pem'));
  const cfg = join(dir, 'client.cfg');
  writeFileSync(cfg, `[client]\nport = ${oracle.port}\nssl_cert = oracle.pem\ndatadir = ./keys\n`);
  const elsewhere = tmp('sphinx-cwd-');
  const run = (args: string[], stdin?: string) => runSphinx(['--config', cfg, ...args], { home: elsewhere, cwd: elsewhere, ...(stdin ? { stdin } : {}) });
  assert.is((await run(['init'])).code, 0);
  assert.ok(existsSync(join(dir, 'keys', 'masterkey')), 'the masterkey went to <config dir>/keys');
  const c = await run(['create', 'alice', 'rel.example'], MASTER);
  assert.is(c.code, 0, c.stderr);
  const g = await run(['get', 'alice', 'rel.example'], MASTER);
  assert.is(g.stdout, c.stdout);
  const shown = await run(['config']);
  assert.match(shown.stdout, new RegExp(`^ssl_cert = ${join(dir, 'oracle.pem')} +# ${cfg}:3$`, 'm'));
  assert.match(shown.stdout, new RegExp(`^datadir = ${join(dir, 'keys')} +# ${cfg}:4$`, 'm'));
  // the oracle: ssl_cert, ssl_key and datadir next to its config
  copyFileSync(join(oracle.datadir, 'dev-key.pem'), join(dir, 'oracle-key.pem'));
  const scfg = join(dir, 'server.cfg');
  writeFileSync(scfg, '[server]\nport = 0\nssl_cert = oracle.pem\nssl_key = oracle-key.pem\ndatadir = records\n');
  const p = spawn(process.execPath, [ORACLE_MAIN, '--config', scfg], { cwd: elsewhere, env: { ...process.env, HOME: elsewhere }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((res, rej) => {
    p.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (/listening/.test(err)) res();
    });
    p.on('close', () => rej(new Error(`oracle exited: ${err}`)));
  });
  p.kill('SIGTERM');
  assert.ok(err.includes(join(dir, 'records')), `datadir under the config dir: ${err}`);
  assert.ok(existsSync(join(dir, 'records', 'key')), 'the oracle made its MAC key there');
});

test('sphinx config: each value with the file and line it came from, later files winning, defaults said so', async () => {
  const home = tmp('sphinx-cfg-');
  const cwd = join(home, 'work');
  mkdirSync(cwd);
  writeFileSync(join(home, '.sphinxrc'), '[client]\naddress = first.example\nport = 1111\n');
  writeFileSync(join(cwd, 'sphinx.cfg'), '[client]\n; comment\nport = "2222"\nrwd_keys = true\n');
  const r = await runSphinx(['config'], { home, cwd });
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  const line = (k: string): string => lines.find((l) => l.startsWith(`${k} = `)) ?? '';
  assert.match(line('address'), new RegExp(`^address = first\\.example +# ${join(home, '.sphinxrc')}:2$`));
  assert.match(line('port'), new RegExp(`^port = 2222 +# ${join(cwd, 'sphinx.cfg')}:3$`));
  assert.match(line('rwd_keys'), /^rwd_keys = true +# .*sphinx\.cfg:4$/);
  assert.match(line('datadir'), new RegExp(`^datadir = ${join(home, '.config', 'sphinx')} +# default$`));
  assert.ok(r.stdout.includes(`#   ${join(home, '.sphinxrc')} (read)`) && r.stdout.includes('#   /etc/sphinx/config (not found)'), r.stdout);
});

test('--version on sphinx and oracle: the package version, exit 0', async () => {
  const s = await runSphinx(['--version']);
  assert.is(s.code, 0);
  assert.is(s.stdout, `sphinx ${VERSION} (sphinx-ts)\n`);
  const o = await runOracle(['--version']);
  assert.is(o.code, 0);
  assert.is(o.stdout, `oracle ${VERSION} (sphinx-ts)\n`);
});

/** Runs bash with the completion script sourced, completes `words` (the last one being typed) and returns COMPREPLY. */
function bashComplete(words: string[]): Promise<string[]> {
  const script = [
    'source <(sphinx completion bash)',
    'complete -p sphinx >&2',
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; COMP_LINE="\${COMP_WORDS[*]}"; COMP_POINT=\${#COMP_LINE}`,
    '_sphinx_yargs_completions',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  return new Promise((res, rej) => {
    const home = tmp('sphinx-bash-');
    const env = cleanEnv({ HOME: home, PATH: `${dirname(CLIENT_BIN)}:${cleanEnv()['PATH']}` });
    const p = spawn('bash', ['--norc', '--noprofile', '-i', '-c', script], { cwd: home, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.on('error', rej);
    p.on('close', (code) => {
      if (code !== 0 || !/complete .*-F _sphinx_yargs_completions sphinx/.test(err)) rej(new Error(`bash exit ${code}: ${err}`));
      else res(out.split('\n').filter(Boolean));
    });
  });
}

test('sphinx completion bash: sourced in a real bash, Tab completes commands and options', async () => {
  assert.equal(await bashComplete(['sphinx', 'cr']), ['create']);
  assert.equal((await bashComplete(['sphinx', 'c'])).sort(), ['change', 'commit', 'completion', 'config', 'create']);
  assert.equal((await bashComplete(['sphinx', 'create', '--s'])).sort(), ['--size', '--symbols']);
  const bad = await runSphinx(['completion', 'fish']);
  assert.is(bad.code, 100);
});

test('sphinx completion zsh: in a real interactive zsh on a pty, Tab turns "sphinx cr" into "sphinx create"', async () => {
  const home = tmp('sphinx-zsh-');
  const env = cleanEnv({ HOME: home, PATH: `${dirname(CLIENT_BIN)}:${cleanEnv()['PATH']}`, TERM: 'dumb', PS1: 'READY> ' });
  const r = await runOnPty(
    ['zsh', '-f', '-i'],
    [
      // "LOA''DED": the echoed command line does not contain what its output does (stderr: the terminal here)
      { expect: 'READY> ', send: "autoload -U compinit && compinit -u && source <(sphinx completion zsh) && print -u2 LOA''DED\r" },
      { expect: 'LOADED', send: 'sphinx cr\t' },
      { expect: 'sphinx create', send: '\x15exit\r' },
    ],
    { cwd: home, env, timeoutMs: 20000 },
  );
  assert.is(r.code, 0, r.terminal);
  assert.ok(r.terminal.includes('sphinx create'), r.terminal);
  assert.not.ok(r.terminal.includes('pty driver: timeout'), r.terminal);
});

test('help: create --help shows the rules its "(see below)" refers to; help and README agree on --', async () => {
  const c = await runSphinx(['create', '--help']);
  assert.is(c.code, 0);
  assert.match(c.stdout, /\(see below\)[\s\S]*Rules for create\/change/);
  const h = await runSphinx(['help']);
  assert.match(h.stdout, /Put -- before an argument that starts with --/);
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.match(readme, /Put `--` before an argument that starts with `--`/);
  // and the CLI does what they say: "-_" is a symbol set without --, "--x" needs --
  const u = await runSphinx(['create', 'a', 'b.example', '--x']);
  assert.is(u.code, 100);
  assert.match(u.stderr, /unknown option --x \(put -- before/);
});

test.run();
