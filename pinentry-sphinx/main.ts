#!/usr/bin/env node
// `pinentry-sphinx`: a pinentry for gpg-agent (pinentry-program in
// gpg-agent.conf) that answers for keys protected by SPHINX and hands every
// other question to the real pinentry; and `pinentry-sphinx protect
// KEYGRIP`, which protects a key that way. See pinentry-sphinx(1).
import { packageVersion } from '../shared/version.js';
import { parseKeygrip } from './session.js';

export const USAGE = `usage:
  pinentry-sphinx [PINENTRY OPTIONS]   run as gpg-agent's pinentry (gpg-agent starts it;
                                       Assuan on stdin/stdout; options go to the real pinentry)
  pinentry-sphinx protect KEYGRIP      protect a key held by gpg-agent with SPHINX: create the
                                       record (user KEYGRIP at [pinentry] host) and set the
                                       key's passphrase to the derived password
  pinentry-sphinx --help | --version

KEYGRIP: 40 hex digits, as \`gpg --with-keygrip -K\` prints them (or, for SSH keys
gpg-agent holds, \`gpg-connect-agent 'keyinfo --ssh-list' /bye\`).

Configuration: the files \`sphinx\` reads ([client] section), plus
  [pinentry]
  host = gpg-agent                     (the SPHINX site of the records)
  pinentry = /usr/bin/pinentry-gnome3  (the real pinentry; default: pinentry on PATH)
In ~/.gnupg/gpg-agent.conf:  pinentry-program /path/to/pinentry-sphinx
Exit codes (protect): 0 ok, 1 error (nothing changed unless it says so), 100 usage error.
See pinentry-sphinx(1).
`;

const EXIT_USAGE = 100;

export async function main(argv: readonly string[]): Promise<number> {
  const first = argv[0];
  if (first === '--help' || first === '-h' || first === 'help') return process.stdout.write(USAGE), 0;
  if (first === '--version' || first === '-V') return process.stdout.write(`pinentry-sphinx (sphinx-ts) ${packageVersion()}\n`), 0;
  if (first === 'protect') {
    if (argv.length !== 2) {
      process.stderr.write(`pinentry-sphinx: error: protect takes one KEYGRIP\n\n${USAGE}`);
      return EXIT_USAGE;
    }
    const grip = parseKeygrip(argv[1]!);
    if (!grip) {
      process.stderr.write(`pinentry-sphinx: error: "${argv[1]!.slice(0, 80)}" is not a keygrip (40 hex digits; see gpg --with-keygrip -K)\n`);
      return EXIT_USAGE;
    }
    const { protect, ProtectError } = await import('./protect.js');
    try {
      return await protect(grip);
    } catch (e) {
      // ProtectError, and the client's own errors (no masterkey, a bad config line): their one line
      const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
      process.stderr.write(`pinentry-sphinx: error: ${e instanceof Error ? msg : `unexpected failure (${msg})`}\n`);
      return e instanceof ProtectError ? e.exitCode : 1;

    }
  }
  if (first !== undefined && !first.startsWith('-')) {
    process.stderr.write(`pinentry-sphinx: error: unknown command ${first}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  // gpg-agent's pinentry: its options (--display, --ttyname, ...) are the real pinentry's
  const { runProxy } = await import('./proxy.js');
  return runProxy(argv);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`pinentry-sphinx: unexpected failure (${(e as Error).message?.split('\n')[0]})\n`);
    process.exit(3);
  },
);
