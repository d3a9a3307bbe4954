// The Assuan server side of pinentry-sphinx, free of I/O: what gpg-agent
// sends (one line at a time) and what to do with it. Everything is relayed
// to the real pinentry byte for byte, except a GETPIN for a key gpg-agent
// named with SETKEYINFO n/<keygrip> or s/<keygrip> (an OpenPGP or an SSH
// key): that one the shell may answer itself from SPHINX (proxy.ts). The
// commands of our own dialog on the real pinentry (the master password, an
// error message) and the lines that answer gpg-agent are built here too.
import { BadCheckDigit, ClientError, ConnectionError, ShortReadError } from '../client/errors.js';
import { UsageError } from '../shared/errors.js';
import { percentDecode, percentEncode } from '../client/assuan.js';

/** A keygrip as gpg prints it (`gpg --with-keygrip -K`): 40 hex digits, upper case. */
export const KEYGRIP = /^[0-9A-F]{40}$/;

/** The canonical (upper-case) keygrip, or null when `s` is not 40 hex digits. */
export function parseKeygrip(s: string): string | null {
  const u = s.trim().toUpperCase();
  return KEYGRIP.test(u) ? u : null;
}

/** The key gpg-agent asks about: n/ an OpenPGP key, s/ an SSH key it holds. */
export interface KeyRef {
  kind: 'n' | 's';
  grip: string;
}

/** SETKEYINFO's argument: a key we may answer for, or null (--clear, another kind, malformed). */
export function parseKeyInfo(arg: string): KeyRef | null {
  const m = /^([ns])\/([0-9A-Fa-f]{40})$/.exec(arg.trim());
  return m ? { kind: m[1] as 'n' | 's', grip: m[2]!.toUpperCase() } : null;
}

export interface Session {
  /** the key of the last SETKEYINFO, if one we may answer for */
  key: KeyRef | null;
  /** gpg-agent's last arguments (still percent-encoded, as sent), to restore after our own dialog */
  keyinfo: string | null;
  desc: string | null;
  prompt: string | null;
  /** gpg-agent asked for a new passphrase (SETREPEAT): never ours to answer */
  repeat: boolean;
  /** the real pinentry shows our texts, not gpg-agent's */
  dirty: boolean;
}

export const initialSession = (): Session => ({ key: null, keyinfo: null, desc: null, prompt: null, repeat: false, dirty: false });

export type Decision =
  /** send `restore` (our own commands: gpg-agent's texts back), then relay `line` and the real pinentry's answer */
  | { kind: 'relay'; restore: string[]; end: boolean }
  /** a GETPIN for a key that may have a SPHINX record; `restore` goes first if it is relayed after all */
  | { kind: 'unlock'; key: KeyRef; description: string; restore: string[] };

/** The command word and the rest of a line (latin1: the arguments are relayed, not interpreted). */
function split(line: Buffer): { cmd: string; arg: string } {
  const s = line.toString('latin1');
  const sp = s.indexOf(' ');
  return sp < 0 ? { cmd: s.toUpperCase(), arg: '' } : { cmd: s.slice(0, sp).toUpperCase(), arg: s.slice(sp + 1) };
}

/** gpg-agent's texts back on the real pinentry, when our own dialog replaced them. */
export function restoreCommands(s: Session): string[] {
  if (!s.dirty) return [];
  // the arguments were kept as latin1 (byte = char); the shell writes lines as UTF-8, which is what gpg-agent sent
  const raw = (a: string | null, dflt: string): string => (a === null ? dflt : Buffer.from(a, 'latin1').toString('utf8'));
  return [`SETKEYINFO ${raw(s.keyinfo, '--clear')}`, `SETDESC ${raw(s.desc, '')}`, `SETPROMPT ${raw(s.prompt, '')}`];
}

/** One line from gpg-agent: the next session and what to do. */
export function decide(s: Session, line: Buffer): { session: Session; decision: Decision } {
  const { cmd, arg } = split(line);
  const next: Session = { ...s };
  switch (cmd) {
    case 'SETKEYINFO':
      next.keyinfo = arg;
      next.key = parseKeyInfo(arg);
      next.repeat = false;
      break;
    case 'SETDESC':
      next.desc = arg;
      break;
    case 'SETPROMPT':
      next.prompt = arg;
      break;
    case 'SETREPEAT':
    case 'SETQUALITYBAR': // gpg-agent shows a quality bar, or offers to generate one, only for a new passphrase
    case 'SETGENPIN':
      next.repeat = true;
      break;
    case 'RESET': // the real pinentry forgets every text too
      return { session: initialSession(), decision: { kind: 'relay', restore: [], end: false } };
    case 'GETPIN':
      if (s.key && !s.repeat) {
        const description = s.desc === null ? '' : percentDecode(Buffer.from(s.desc, 'latin1')).toString('utf8');
        return { session: next, decision: { kind: 'unlock', key: s.key, description, restore: restoreCommands(s) } };
      }
      break;
  }
  const end = cmd === 'BYE';
  const restore = end ? [] : restoreCommands(s); // nothing is shown after BYE
  next.dirty = false;
  return { session: next, decision: { kind: 'relay', restore, end } };
}

// ---------------------------------------------------------------- our own dialog on the real pinentry

export const MASTER_PROMPT = 'SPHINX master password:';

const keyName = (k: KeyRef): string => `${k.kind === 's' ? 'SSH key' : 'OpenPGP key'} ${k.grip}`;

/** The master-password question: no keyinfo (so no external cache keeps it), our description quoting gpg-agent's. */
export function masterPasswordCommands(k: KeyRef, agentDescription: string, site: string, attempt = 1): string[] {
  const quoted = agentDescription.trim() ? `\n\ngpg-agent asks:\n${agentDescription.trim()}` : '';
  const desc = `Unlock the ${keyName(k)} with SPHINX: enter your SPHINX master password (the key's passphrase is the SPHINX password of user ${k.grip} at ${site}).${quoted}`;
  const retry = attempt > 1 ? [`SETERROR ${percentEncode(`Wrong SPHINX master password (bad check digit); try ${attempt} of ${MASTER_TRIES}`)}`] : [];
  return ['SETKEYINFO --clear', `SETDESC ${percentEncode(desc)}`, `SETPROMPT ${percentEncode(MASTER_PROMPT)}`, ...retry, 'GETPIN'];
}

/** Master passwords the check digit rejects before the unlock fails (gpg-agent's own count for passphrases). */
export const MASTER_TRIES = 3;

/** A message box on the real pinentry (MESSAGE: one button). */
export const messageCommands = (text: string): string[] => [`SETDESC ${percentEncode(text)}`, 'MESSAGE'];

/** A note above gpg-agent's own prompt, when we relay it (SETERROR: the line pinentries show in red). */
export const noteCommands = (text: string): string[] => [`SETERROR ${percentEncode(`pinentry-sphinx: ${text}`)}`];

/** The oracle could not say whether the key is ours. */
export const unknownKeyNote = (why: string): string => `${why}; a SPHINX-protected key cannot be unlocked now (Cancel); another key: type its passphrase`;

/** gpg-agent asks again for a key we answered: it refused the SPHINX password (a stale record). */
export const refusedNote = 'gpg-agent refused the SPHINX password of this key (passphrase changed since protect? then sphinx delete the record); type its passphrase';

// ---------------------------------------------------------------- answers to gpg-agent

/** libgpg-error codes with source 5 (GPG_ERR_SOURCE_PINENTRY), as pinentry itself sends them; gpg prints their text. */
const PINENTRY_SOURCE = 5 << 24;
export const GpgErr = {
  /** "Bad passphrase" */
  BAD_PASSPHRASE: 11,
  /** "Network error" */
  NETWORK: 48,
  /** "pinentry error" */
  PINENTRY: 86,
  /** "Operation cancelled" */
  CANCELED: 99,
  /** "No passphrase given" */
  NO_PASSPHRASE: 177,
} as const;

export const errLine = (code: number, text: string): string => `ERR ${PINENTRY_SOURCE + code} ${text.replace(/[\r\n]/g, ' ')} <Pinentry>`;

/** Exactly what pinentry answers when the user cancels. */
export const CANCELLED = errLine(GpgErr.CANCELED, 'Operation cancelled');

/** The passphrase for gpg-agent: D line (%, CR, LF and other controls escaped), then OK. */
export function passphraseLines(password: string): string[] {
  return [`D ${percentEncode(password)}`, 'OK'];
}

/** How the SPHINX side of an unlock ended. */
export type Failure =
  | { kind: 'cancelled' }
  | { kind: 'empty' }
  | { kind: 'bad-master-password' }
  | { kind: 'unreachable'; why: string }
  | { kind: 'failed'; why: string };

/** For a failed unlock: the message the user reads on the real pinentry (none for a cancel), and the ERR for gpg-agent. */
export function failureAnswer(f: Failure): { message: string | null; err: string } {
  switch (f.kind) {
    case 'cancelled':
      return { message: null, err: CANCELLED };
    case 'empty':
      return { message: null, err: errLine(GpgErr.NO_PASSPHRASE, 'No passphrase given') };
    case 'bad-master-password':
      return {
        message: `pinentry-sphinx: wrong SPHINX master password (bad check digit), ${MASTER_TRIES} times. The key stays locked.`,
        err: errLine(GpgErr.BAD_PASSPHRASE, 'Bad passphrase'),
      };
    case 'unreachable':
      return { message: `pinentry-sphinx: cannot reach the SPHINX oracle: ${f.why}. The key stays locked; try again when the oracle answers.`, err: errLine(GpgErr.NETWORK, 'Network error') };
    case 'failed':
      return { message: `pinentry-sphinx: ${f.why}. The key stays locked.`, err: errLine(GpgErr.PINENTRY, 'pinentry error') };
  }
}

const firstLine = (e: Error): string => e.message.split('\n')[0]!.slice(0, 300);

/** What a failed list or get means for the user (client/errors.ts classes). */
export function classify(e: unknown): Failure {
  if (e instanceof BadCheckDigit) return { kind: 'bad-master-password' };
  if (e instanceof ConnectionError || e instanceof ShortReadError) return { kind: 'unreachable', why: firstLine(e) };
  if (e instanceof ClientError || e instanceof UsageError) return { kind: 'failed', why: firstLine(e) };
  return { kind: 'failed', why: `unexpected failure (${e instanceof Error ? `${e.name}: ${firstLine(e)}` : String(e)})` };
}
