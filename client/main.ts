#!/usr/bin/env node
// The `sphinx` command. Startup cost matters (`sphinx get` runs hundreds of
// times a day), so this file imports only what every command needs; yargs
// (help and usage errors), the operations (flows.js, get.js, with the
// crypto: noble and argon2), the QR encoder and zxcvbn are imported on
// demand; `get` imports only get.js. For network commands the first
// TLS connection, the crypto import and reading stdin start at once and
// overlap; the puzzle solver loads once the first request is sent.
import { realpathSync } from 'node:fs';
import { isatty } from 'node:tty';
import { fileURLToPath } from 'node:url';
import { ProtocolError, UsageError } from '../shared/errors.js';
import { buildInvocation, refuseBeforeSending, tokenize, type Command, type Invocation } from './args.js';
import { describeConfig, loadClientSettings, showConfig, type ClientConfig } from './config.js';
import { packageVersion } from '../shared/version.js';
import { ClientError, CliUsageError, Exit, unexplained } from './errors.js';
import { readPasswords, type PasswordPrompt } from './input.js';
import { initMasterkey, readMasterkey } from './masterkey.js';
import { reportingSolve, Solver, uiFd } from './puzzle.js';
import { flushTimings, mark } from './timing.js';
import { Connector, loadPinned } from './tls.js';

mark('main');
// fd 3 is checked before anything else could open a file descriptor.
const FD3 = uiFd();

const PROMPT = 'master password: ';
const PROMPT_OLD = 'current master password: ';
const PROMPT_NEW = 'new master password (empty: keep the current one): ';
const PROMPT_AGAIN = 'the master password again: ';
const PROMPT_NEW_AGAIN = 'the new master password again: ';

/** Which passwords a command reads (protocol.md §7); a new one is typed twice on a terminal. */
export function passwordPrompts(cmd: Command, rwdKeys: boolean): PasswordPrompt[] {
  switch (cmd.cmd) {
    case 'create':
      return [{ text: PROMPT, repeat: PROMPT_AGAIN }];
    case 'get':
      return [{ text: PROMPT }];
    case 'change':
      return [{ text: PROMPT_OLD }, { text: PROMPT_NEW, repeat: PROMPT_NEW_AGAIN }];
    case 'commit':
    case 'undo':
    case 'delete':
      return rwdKeys ? [{ text: PROMPT }] : [];
    default:
      return [];
  }
}

interface Result {
  stdout?: string;
  code: number;
}

async function help(topic?: string): Promise<string> {
  const { helpText } = await import('./cli-yargs.js');
  return helpText(topic);
}

function wipeAll(bufs: Uint8Array[]): void {
  for (const b of bufs) b.fill(0);
}

async function network(cmd: Exclude<Command, { cmd: 'init' | 'help' | 'qr' | 'config' | 'totp' | 'completion' | 'version' }>, cfg: ClientConfig): Promise<Result> {
  // user names with "://" may be converter records (otp://, ssh-ed25519://...): checked before anything is read or sent
  const conv = (cmd.cmd === 'get' || cmd.cmd === 'create' || cmd.cmd === 'change') && (cmd.user.includes('://') || cmd.raw)
    ? (await import('./converters.js')).converterRun(cmd)
    : null;
  const prompts = passwordPrompts(cmd, cfg.rwdKeys);
  const typing = prompts.length > 0 && isatty(0);
  // Start the slow things first, so that their file reads overlap the setup:
  // the operations' import and, when stdin is not a terminal, reading it.
  const flowsP = cmd.cmd === 'get' ? null : import('./flows.js');
  const getP = cmd.cmd === 'get' ? import('./get.js') : null;
  flowsP?.catch(() => undefined);
  getP?.catch(() => undefined);
  const pwdsP = typing ? null : readPasswords(prompts);
  pwdsP?.catch(() => undefined);
  const pwds: Buffer[] = [];
  let masterkey: Uint8Array | null = null;
  let connector: Connector | null = null;
  let solver: Solver | null = null;
  let strength: Promise<string> | null = null;
  try {
    masterkey = readMasterkey(cfg.datadir);
    const pinned = cfg.sslCert ? loadPinned(cfg.sslCert) : undefined;
    connector = new Connector({ host: cfg.address, port: cfg.port, pinned, sslCertPath: cfg.sslCert });
    mark('setup');
    // With a human typing, the first connection would idle; open it after the prompt instead.
    // create and change first check the password is not empty: no connection before that.
    const checked = cmd.cmd === 'create' || cmd.cmd === 'change';
    if (!typing && !checked) connector.prefetch();
    mark('prefetch');
    solver = cmd.cmd === 'create' ? null : new Solver();
    pwds.push(...(await (pwdsP ?? readPasswords(prompts))));
    mark('password');
    if (checked && pwds[0]!.length === 0) {
      throw new ClientError(`the ${cmd.cmd === 'change' ? 'current ' : ''}master password is empty (empty stdin, or Ctrl-D at the prompt); nothing was sent`);
    }
    if (typing || checked) connector.prefetch();
    if (cmd.cmd === 'change' && pwds[1]!.length === 0) {
      pwds[1]!.fill(0);
      pwds[1] = Buffer.from(pwds[0]!); // empty new password = the old one
    }
    if (cmd.cmd === 'create' || cmd.cmd === 'change') {
      const pw = pwds[cmd.cmd === 'create' ? 0 : 1]!;
      strength = import('./strength.js').then((s) => s.estimate(pw).then(s.strengthLine));
      strength.catch(() => undefined);
    }
    const flows = flowsP ? await flowsP : null;
    const fastGet = getP ? await getP : null;
    mark('flows');
    const env = {
      connect: connector.connect,
      masterkey,
      rwdKeys: cfg.rwdKeys,
      validatePassword: cfg.validatePassword,
      checkCurrentFirst: true,
      solve: solver
        ? reportingSolve(solver.solve, { fd3: FD3, tty: isatty(2), verbose: cfg.verbose })
        : () => Promise.reject(new Error('no puzzle expected')),
      warn: (l: string) => process.stderr.write(l + '\n'),
      sent: () => solver?.preload(),
      mark,
      ...(conv?.render ? { render: conv.render } : {}),
    };
    const pwd = pwds[0] ?? Buffer.alloc(0);
    let out: string | undefined;
    switch (cmd.cmd) {
      case 'get':
        out = (await fastGet!.get(env, pwd, cmd.user, cmd.site)) + '\n';
        break;
      case 'create':
        out = (await flows!.create(env, pwd, cmd.user, cmd.site, cmd.rule)) + '\n';
        break;
      case 'change':
        out = (await flows!.change(env, pwd, pwds[1]!, cmd.user, cmd.site, cmd.rule)) + '\n';
        break;
      case 'commit':
        await flows!.commit(env, pwd, cmd.user, cmd.site);
        break;
      case 'undo':
        await flows!.undo(env, pwd, cmd.user, cmd.site);
        break;
      case 'delete':
        await flows!.del(env, pwd, cmd.user, cmd.site);
        break;
      case 'list': {
        const users = await flows!.list(env, cmd.site);
        if (users.length) out = users.join('\n') + '\n';
        else process.stderr.write(`no users found for ${JSON.stringify(cmd.site)}\n`);
        break;
      }
    }
    if (conv && out !== undefined) out = conv.finish(out.slice(0, -1), Date.now() / 1000) + '\n';
    if (strength) process.stderr.write((await strength) + '\n');
    if (cfg.verbose) process.stderr.write(`connections: ${connector.opened}, TLS sessions resumed: ${connector.resumed}\n`);
    return { stdout: out, code: Exit.OK };
  } finally {
    wipeAll(pwds);
    // passwords read ahead but not taken (setup failed first)
    if (pwds.length === 0) pwdsP?.then(wipeAll, () => undefined);
    masterkey?.fill(0);
    solver?.close();
    connector?.discard();
  }
}

async function qr(cmd: { svg: boolean; key: boolean }, cfg: ClientConfig): Promise<Result> {
  const q = await import('./qr.js');
  const mk = cmd.key ? readMasterkey(cfg.datadir) : null;
  const payload = q.qrPayload(cfg, mk);
  mk?.fill(0);
  try {
    let out: string;
    if (cmd.svg) out = await q.renderSvg(payload);
    else {
      const color = process.env['NO_COLOR'] ? false : process.env['FORCE_COLOR'] ? process.env['FORCE_COLOR'] !== '0' : isatty(1);
      out = q.renderHalfBlocks(q.qrMatrix(payload), { ansi: color });
    }
    if (cmd.key) process.stderr.write(q.KEY_WARNING + '\n');
    return { stdout: out, code: Exit.OK };
  } finally {
    payload.fill(0);
  }
}

/**
 * `sphinx totp`: the current RFC 6238 code of the base32 secret on stdin (a
 * no-echo prompt on a terminal). No config, no oracle: scripts that hold an
 * otp:// record's secret (`get --raw`) compute the code when they need it
 * (contrib/sphinx-x11).
 */
async function totpCode(): Promise<Result> {
  const [line] = await readPasswords(['TOTP secret (base32): ']);
  const secret = line!.toString('utf8');
  line!.fill(0);
  const { totp } = await import('./converters.js');
  try {
    return { stdout: totp(secret, Date.now() / 1000) + '\n', code: Exit.OK };
  } catch (e) {
    throw new ClientError(`${(e as Error).message}; nothing to print`);
  }
}

async function run(inv: Invocation): Promise<Result> {
  const cmd = inv.command;
  if (cmd.cmd === 'help') return { stdout: await help(cmd.topic), code: Exit.OK };
  if (cmd.cmd === 'version') return { stdout: `sphinx ${packageVersion()} (sphinx-ts)\n`, code: Exit.OK };
  if (cmd.cmd === 'completion') return { stdout: await (await import('./cli-yargs.js')).completionScript(cmd.shell), code: Exit.OK };
  if (cmd.cmd === 'totp') return totpCode();
  refuseBeforeSending(cmd);
  const { cfg, loaded, paths } = loadClientSettings(inv.config);
  if (cmd.cmd === 'config') return { stdout: showConfig(cfg, loaded, paths), code: Exit.OK };
  if (cfg.verbose) process.stderr.write(describeConfig(cfg).join('\n') + '\n');
  if (cmd.cmd === 'init') {
    const path = initMasterkey(cfg.datadir);
    process.stderr.write(`created ${path}; back it up: without it no password can be recovered\n`);
    return { code: Exit.OK };
  }
  if (cmd.cmd === 'qr') return qr(cmd, cfg);
  return network(cmd, cfg);
}

function errorResult(e: unknown): { line: string; code: number } {
  if (e instanceof ClientError) return { line: `error: ${e.message}`, code: e.exitCode };
  if (e instanceof UsageError) return { line: `error: ${e.message}`, code: Exit.ERROR };
  if (e instanceof ProtocolError) return { line: `error: the oracle broke the protocol (${e.message}); try again, and check the oracle`, code: Exit.ERROR };
  const u = unexplained(e);
  return { line: `error: ${u.message}`, code: u.exitCode };
}

/** Runs the command line; returns the exit code. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  if (argv[0] === '--get-yargs-completions') {
    // a Tab in a shell that sourced `sphinx completion bash|zsh`
    const out = await (await import('./cli-yargs.js')).completions([...argv]);
    await new Promise<void>((r) => process.stdout.write(out, () => r()));
    return Exit.OK;
  }
  let inv: Invocation;
  try {
    inv = buildInvocation(tokenize(argv));
  } catch (e) {
    if (!(e instanceof CliUsageError)) throw e;
    let usage = '';
    try {
      const cmd = argv.find((a) => !a.startsWith('-'));
      usage = await help(cmd);
    } catch {
      /* usage text is a nicety */
    }
    process.stderr.write(`error: ${e.message}\n\n${usage}`);
    return Exit.USAGE;
  }
  let res: Result;
  try {
    res = await run(inv);
  } catch (e) {
    const { line, code } = errorResult(e);
    process.stderr.write(line.split('\n')[0] + '\n');
    return code;
  }
  if (res.stdout) await new Promise<void>((r) => process.stdout.write(res.stdout!, () => r()));
  return res.code;
}

function isEntry(): boolean {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

/** Build time: exercise the get path so that the code cache holds it (client/warmup.ts). */
export const warmUp = (): Promise<void> => import('./warmup.js').then((w) => w.warmUp());

/** Runs `sphinx` as a command: main(), then exit with its code. The bin (build/launcher.ts) calls it. */
export function runAsBin(): void {
  // Ctrl-C outside a prompt (a prompt reads it as a key in raw mode): exit 130, terminal restored.
  process.once('SIGINT', () => {
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
    process.stderr.write('\ninterrupted\n');
    process.exit(Exit.INTERRUPTED);
  });
  main().then(
    (code) => {
      mark('exit');
      flushTimings();
      process.exit(code);
    },
    (e) => {
      process.stderr.write(`error: ${unexplained(e).message}\n`);
      process.exit(Exit.UNEXPLAINED);
    },
  );
}

// `node dist/client/main.js` (the unbundled build) runs too
if (isEntry()) runAsBin();
