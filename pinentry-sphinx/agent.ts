// The client side of gpg-agent's Assuan socket, free of I/O, for `protect`:
// the commands that set a key's passphrase without any pinentry (loopback:
// gpg-agent INQUIREs the current and the new passphrase from us), how to
// read its KEYINFO status, and what its errors mean for the user.
import { percentEncode, type Line } from '../client/assuan.js';

/** Set `grip`'s passphrase: gpg-agent inquires PASSPHRASE (only when the key has one) and NEW_PASSPHRASE. */
export const passwdCommands = (grip: string): string[] => ['OPTION pinentry-mode=loopback', `PASSWD ${grip}`];

/** The answer to an INQUIRE: D line (escaped), END. */
export const inquiryAnswer = (secret: string): string[] => [`D ${percentEncode(secret)}`, 'END'];

export type Protection = 'protected' | 'clear' | 'unknown';

/** `S KEYINFO <grip> <type> <serialno> <idstr> <cached> <protection> ...`: P protected, C clear. */
export function keyinfoProtection(status: string, grip: string): Protection | null {
  const f = status.split(' ');
  if (f[0] !== 'S' || f[1] !== 'KEYINFO' || f[2]?.toUpperCase() !== grip) return null;
  return f[7] === 'P' ? 'protected' : f[7] === 'C' ? 'clear' : 'unknown';
}

/** An ERR line's libgpg-error code (without its source) and text. */
export function agentError(text: string): { code: number; text: string } {
  const m = /^(\d+)\s*(.*)$/.exec(text);
  return m ? { code: Number(m[1]) & 0xffff, text: m[2]! } : { code: 0, text };
}

export const GPG_ERR_BAD_PASSPHRASE = 11;
export const GPG_ERR_NO_SECKEY = 17;
export const GPG_ERR_NOT_FOUND = 27;
export const GPG_ERR_CANCELED = 99;

/** One transaction's progress: the commands left, what gpg-agent said. */
export type Step =
  | { kind: 'send'; line: string }
  | { kind: 'inquire'; keyword: string }
  | { kind: 'status'; text: string }
  | { kind: 'done' }
  | { kind: 'error'; code: number; text: string; command: string }
  | { kind: 'wait' };

/**
 * Runs `commands` one after another: each must end in OK; an INQUIRE asks
 * the shell for data; S lines are passed up; the first ERR ends it.
 * Starts with the greeting (`greeted` false).
 */
export class Transaction {
  private i = -1;
  constructor(
    readonly commands: readonly string[],
    greeted = false,
  ) {
    if (greeted) this.i = 0;
  }

  /** The first command to send once greeted (or wait for the greeting). */
  start(): Step {
    return this.i === 0 ? { kind: 'send', line: this.commands[0]! } : { kind: 'wait' };
  }

  feed(line: Line, raw: string): Step {
    switch (line.kind) {
      case 'OK':
        this.i++;
        return this.i < this.commands.length ? { kind: 'send', line: this.commands[this.i]! } : { kind: 'done' };
      case 'ERR': {
        const e = agentError(line.text);
        return { kind: 'error', ...e, command: this.i < 0 ? '(greeting)' : this.commands[this.i]!.split(' ')[0]! };
      }
      case 'INQUIRE':
        return { kind: 'inquire', keyword: line.keyword };
      case 'D':
        line.data.fill(0);
        return { kind: 'wait' };
      case 'skip':
        return raw.startsWith('S ') ? { kind: 'status', text: raw } : { kind: 'wait' };
      case 'other':
        return { kind: 'error', code: 0, text: 'gpg-agent does not speak Assuan (unexpected reply)', command: this.commands[Math.max(this.i, 0)]!.split(' ')[0]! };
    }
  }
}

/** What a failed PASSWD means, in words and with what to do. */
export function passwdFailure(e: { code: number; text: string; command: string }): string {
  if (e.code === GPG_ERR_BAD_PASSPHRASE) return `gpg-agent refused the key's current passphrase (${e.text})`;
  if (e.code === GPG_ERR_NO_SECKEY || (e.code === GPG_ERR_NOT_FOUND && e.command === 'KEYINFO')) return `gpg-agent holds no such secret key (${e.text}; check the keygrip: gpg --with-keygrip -K)`;
  if (e.code === GPG_ERR_CANCELED) return `cancelled (${e.text})`;
  const loopback = e.command === 'PASSWD' || e.command === 'OPTION' ? ' (is loopback off: no-allow-loopback-pinentry in gpg-agent.conf?)' : '';
  return `gpg-agent answered ${e.command} with: ${e.text || `error ${e.code}`}${loopback}`;
}
