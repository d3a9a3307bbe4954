#!/usr/bin/env node
// `websphinx`: the native-messaging host of the websphinx browser extension
// (websphinx.md), and its `install` / `uninstall` commands. Started by a
// browser (arguments: the extension's origin, or Firefox's manifest path and
// extension id), it serves framed requests on stdin until EOF.
import { spawn } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { isatty } from 'node:tty';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HUGE_PAGES_TUNABLE } from '../shared/argon2id.js';
import { BROWSERS, install, InstallError, uninstall, type Browser } from './install.js';

export const USAGE = `usage:
  websphinx                      run as the browser's native-messaging host
                                 (the browser starts it; framed JSON on stdin/stdout)
  websphinx install [--browser firefox|chromium|chrome|all] [--system]
                                 write the host manifests the browsers look for
  websphinx uninstall [--browser firefox|chromium|chrome|all] [--system]
                                 remove them
  websphinx --help | --version

Configuration: the files \`sphinx\` reads ([client] section), plus
  [websphinx]
  pinentry = /usr/bin/pinentry-gnome3   (default: pinentry on PATH)
  log = ~/.cache/websphinx.log          (optional; never holds a password)
Without --browser, install writes manifests for the browsers this user has
run (their profile directory exists); --system writes the system-wide ones
(as root). Exit codes: 0 ok, 1 error, 100 usage error. See websphinx(1).
`;

const EXIT_USAGE = 100;

/** This package's version (package.json, two levels up in the build, one in the sources). */
export function version(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, d = dirname(d)) {
    try {
      const p = JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (p.name === 'sphinx-ts' && p.version) return p.version;
    } catch {
      /* keep looking */
    }
  }
  return 'unknown';
}

/** Management commands; null: run the host (whatever else the browser passed). */
export function parseCommand(argv: readonly string[]): { cmd: 'help' } | { cmd: 'version' } | { cmd: 'install' | 'uninstall'; browser?: Browser | 'all'; system: boolean } | null {
  const first = argv[0];
  if (first === '--help' || first === '-h' || first === 'help') return { cmd: 'help' };
  if (first === '--version' || first === '-V') return { cmd: 'version' };
  if (first !== 'install' && first !== 'uninstall') {
    if (first?.startsWith('-')) throw new InstallError(`unknown option ${first}`);
    return null;
  }
  const { values, positionals } = parseArgs({ args: argv.slice(1), options: { browser: { type: 'string' }, system: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  if (values.help) return { cmd: 'help' };
  if (positionals.length) throw new InstallError(`unexpected argument ${positionals[0]}`);
  const b = values.browser;
  if (b !== undefined && b !== 'all' && !(BROWSERS as readonly string[]).includes(b)) throw new InstallError(`--browser takes firefox, chromium, chrome or all, not "${b}"`);
  return { cmd: first, ...(b !== undefined ? { browser: b as Browser | 'all' } : {}), system: !!values.system };
}


const needsTunable = (env: NodeJS.ProcessEnv): boolean => process.platform === 'linux' && !(env['GLIBC_TUNABLES'] ?? '').includes(HUGE_PAGES_TUNABLE.split('=')[0]!);

/** Runs the host again with the tunable (once per browser connection: one node start); stdin/stdout are inherited, untouched here. */
function relaunchWithTunable(argv: readonly string[]): Promise<number> {
  const t = process.env['GLIBC_TUNABLES'];
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...argv], {
    stdio: 'inherit',
    env: { ...process.env, GLIBC_TUNABLES: t ? `${t}:${HUGE_PAGES_TUNABLE}` : HUGE_PAGES_TUNABLE },
  });
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, () => child.kill(s));
  return new Promise((resolve) => {
    child.on('error', (e) => {
      process.stderr.write(`websphinx: cannot start the host: ${e.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 1)));
  });
}

/** The installed host: this file, symlinks resolved (what a manifest's absolute path names). */
export const hostPath = (): string => realpathSync(fileURLToPath(import.meta.url));

export async function main(argv: readonly string[]): Promise<number> {
  let cmd: ReturnType<typeof parseCommand>;
  try {
    cmd = parseCommand(argv);
  } catch (e) {
    process.stderr.write(`websphinx: error: ${(e as Error).message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (!cmd) {
    if (needsTunable(process.env)) return relaunchWithTunable(argv);
    if (isatty(0)) process.stderr.write('websphinx: this is the browser\'s native-messaging host; it reads framed messages on stdin (see websphinx --help)\n');
    // A browser starts the host in its own directory: read the config as the CLI does from the user's home.
    try {
      process.chdir(homedir());
    } catch {
      /* no home directory: the config files under it are missing anyway */
    }
    const { runHost } = await import('./host.js');
    return runHost();
  }
  if (cmd.cmd === 'help') return process.stdout.write(USAGE), 0;
  if (cmd.cmd === 'version') return process.stdout.write(`websphinx (sphinx-ts) ${version()}\n`), 0;
  try {
    const o = { ...(cmd.browser ? { browser: cmd.browser } : {}), system: cmd.system, home: homedir() };
    if (cmd.cmd === 'install') for (const f of install(o, hostPath())) process.stdout.write(`wrote ${f}\n`);
    else {
      const removed = uninstall(o);
      for (const f of removed) process.stdout.write(`removed ${f}\n`);
      if (!removed.length) process.stderr.write('websphinx: no host manifest was installed\n');
    }
    return 0;
  } catch (e) {
    process.stderr.write(`websphinx: error: ${e instanceof InstallError ? e.message : (e as Error).message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`websphinx: unexpected failure (${(e as Error).message?.split('\n')[0]})\n`);
    process.exit(3);
  },
);
