// `pinentry-sphinx protect KEYGRIP`: enrolment. Asks the master password
// (twice) through the real pinentry, creates the SPHINX record (user =
// KEYGRIP at [pinentry] host), and sets the key's passphrase in gpg-agent to
// the derived password over gpg-agent's own socket (loopback: gpg-agent
// inquires the passphrases from us). No secret in argv, the environment or a
// file; when gpg-agent refuses, the record is deleted again.
import { execFile } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import type { RuleSpec } from '../client/args.js';
import { SYMBOLS } from '../shared/constants.js';
import { parseLine } from '../client/assuan.js';
import { Pinentry } from '../client/pinentry.js';
import { inquiryAnswer, keyinfoProtection, passwdCommands, passwdFailure, Transaction, type Protection } from './agent.js';
import { LineReader } from '../client/line-reader.js';
import { classify, failureAnswer } from './session.js';
import { loadSettings, openFlows } from './proxy.js';

/** A failure of protect: its one line for stderr. */
export class ProtectError extends Error {
  override name = 'ProtectError';
  constructor(
    message: string,
    /** pinentry-sphinx's exit status: 1, or 128 + the signal that interrupted protect */
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The rule of the derived passphrase: every character class, every symbol, as long as the entropy gives. */
export const PASSPHRASE_RULE: RuleSpec = { classes: 'uld', symbols: SYMBOLS, size: 0 };

const run = promisify(execFile);

/** gpg-agent's socket (honours GNUPGHOME), the agent started if it is not running. */
async function agentSocket(): Promise<string> {
  try {
    await run('gpgconf', ['--launch', 'gpg-agent']);
    const { stdout } = await run('gpgconf', ['--list-dirs', 'agent-socket']);
    return stdout.trim();
  } catch (e) {
    throw new ProtectError(`cannot find gpg-agent (gpgconf: ${(e as Error).message.split('\n')[0]}); install gnupg`);
  }
}

/** One Assuan connection to gpg-agent. */
class Agent {
  private readonly lines: LineReader;
  private greeted = false;
  /** the inquiries answered so far (NEW_PASSPHRASE: gpg-agent may have re-encrypted the key from then on) */
  readonly answered: string[] = [];
  private constructor(private readonly sock: Socket) {
    this.lines = new LineReader(sock);
  }

  static open(path: string): Promise<Agent> {
    return new Promise((res, rej) => {
      const s = connect(path);
      s.once('connect', () => res(new Agent(s)));
      s.once('error', (e) => rej(new ProtectError(`cannot connect to gpg-agent at ${path}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    });
  }

  /** Runs the commands; `inquire` gives the data for an INQUIRE (lines to send, wiped after). Statuses are returned. */
  async transact(commands: string[], inquire: (keyword: string) => Promise<string[]> = async () => ['END']): Promise<string[]> {
    const t = new Transaction(commands, this.greeted);
    const statuses: string[] = [];
    let step = t.start();
    for (;;) {
      if (step.kind === 'send') this.sock.write(step.line + '\n');
      else if (step.kind === 'status') statuses.push(step.text);
      else if (step.kind === 'inquire') {
        const answer = Buffer.from((await inquire(step.keyword)).join('\n') + '\n', 'utf8');
        await new Promise<void>((res) => this.sock.write(answer, () => res())); // written from this buffer: wiped once sent
        answer.fill(0);
        this.answered.push(step.keyword);
      } else if (step.kind === 'done') return statuses;
      else if (step.kind === 'error') throw Object.assign(new ProtectError(passwdFailure(step)), { agent: step });
      const raw = await this.lines.next();
      if (raw === null) throw new ProtectError('gpg-agent closed the connection');
      const text = raw.toString('utf8');
      const line = parseLine(raw);
      raw.fill(0);
      step = t.feed(line, text); // the greeting's OK sends the first command
      this.greeted = true;
    }
  }

  close(): void {
    this.lines.wipe();
    this.sock.end('BYE\n');
  }
}

/** The terminal we run on, for a terminal pinentry (pinentry-tty, pinentry-curses): its --ttyname. */
function ttyArgs(): string[] {
  if (!process.stdin.isTTY) return [];
  try {
    return ['--ttyname', readlinkSync('/proc/self/fd/0')];
  } catch {
    return [];
  }
}

export async function protect(grip: string): Promise<number> {
  const settings = loadSettings();
  const host = settings.pinentry.host;
  const pinentry = new Pinentry(settings.pinentry.pinentry, { args: ['-g', ...ttyArgs()], setting: '[pinentry] pinentry' });
  const title = 'pinentry-sphinx';
  const say = (l: string): void => void process.stderr.write(`pinentry-sphinx: ${l}\n`);

  const agent = await Agent.open(await agentSocket());
  const secrets: Buffer[] = [];
  // From here until gpg-agent has answered PASSWD, a signal must not leave a record without a key
  // behind it: it is noted, and acted on at the next step (a terminal's Ctrl-C also ends the pinentry
  // dialog under way, in the same process group).
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupted ??= sig;
  };
  const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const sig of SIGNALS) process.on(sig, onSignal);
  /** 128 + the signal's number once interrupted (what a shell reports), else 1 */
  const failCode = (): number => (interrupted ? 128 + osConstants.signals[interrupted] : 1);
  const stopIfInterrupted = (what: string): void => {
    if (interrupted) throw new ProtectError(`interrupted (${interrupted}); ${what}`, failCode());
  };
  let bound: ReturnType<typeof openFlows> | null = null;
  try {
    bound = openFlows(settings.client);
    // 1. the key exists, and whether it has a passphrase now
    let protection: Protection = 'unknown';
    for (const s of await agent.transact([`KEYINFO ${grip}`])) protection = keyinfoProtection(s, grip) ?? protection;
    // 2. no record yet
    let users: string[];
    try {
      users = await bound.flows.list(host);
    } catch (e) {
      const f = classify(e);
      throw new ProtectError(`cannot list the SPHINX records of ${host}: ${'why' in f ? f.why : f.kind}; nothing was changed`);
    }
    if (users.includes(grip)) {
      throw new ProtectError(
        `a SPHINX record for user ${grip} at ${host} exists already (the key is probably protected); nothing was changed (to enrol it again: set another passphrase with gpg --passwd, then \`sphinx delete ${grip} ${host}\`)`,
      );
    }
    // 3. the master password, twice; the current passphrase if there is one
    const ask = async (description: string, prompt: string): Promise<Buffer> => {
      const p = await pinentry.getPin({ title, description, prompt });
      if (p === null) throw new ProtectError('cancelled (or an empty answer); nothing was changed');
      secrets.push(p);
      return p;
    };
    const what = `the key with keygrip ${grip}`;
    const pwd = await ask(`Protect ${what} with SPHINX: its passphrase becomes the SPHINX password of user ${grip} at ${host}. Enter your SPHINX master password.`, 'SPHINX master password:');
    const again = await ask(`Protect ${what} with SPHINX: enter the SPHINX master password again.`, 'SPHINX master password:');
    if (!pwd.equals(again)) throw new ProtectError('the two master passwords differ; nothing was changed');
    let current: Buffer | null = null;
    const askCurrent = async (): Promise<Buffer> =>
      (current ??= await ask(`gpg-agent needs the current passphrase of ${what} to change it.`, 'Current passphrase:'));
    if (protection === 'protected') await askCurrent();
    stopIfInterrupted('nothing was changed');
    // 4. the record
    let derived: string;
    try {
      derived = await bound.flows.create(pwd, grip, host, PASSPHRASE_RULE);
    } catch (e) {
      const f = classify(e);
      throw new ProtectError(`cannot create the SPHINX record: ${'why' in f ? f.why : f.kind}; nothing was changed`);
    }
    // 5. the key's passphrase; undo the record when the key is certainly unchanged
    try {
      stopIfInterrupted('the new SPHINX record is deleted again');
      await agent.transact(passwdCommands(grip), async (keyword) => {
        if (keyword === 'NEW_PASSPHRASE') {
          stopIfInterrupted('the new SPHINX record is deleted again');
          return inquiryAnswer(derived);
        }
        if (keyword === 'PASSPHRASE') return inquiryAnswer((await askCurrent()).toString('utf8'));
        return ['END'];
      });
    } catch (e) {
      const why = (e as Error).message;
      // gpg-agent's own ERR, or a failure before it had the new passphrase: the key is unchanged.
      // Otherwise (the connection lost after NEW_PASSPHRASE) it may be encrypted with the derived
      // password already: the record is its only way back, so it is kept.
      const agentCode = (e as { agent?: { code: number } }).agent?.code;
      const refused = agentCode !== undefined && agentCode !== 0; // 0: not gpg-agent's ERR, a reply it should not send
      if (!refused && agent.answered.includes('NEW_PASSPHRASE')) {
        throw new ProtectError(
          `gpg-agent had the new passphrase when this failed (${why}): the key may be protected by SPHINX already, so the record for user ${grip} at ${host} was KEPT; ` +
            `check with a gpg operation on the key (pinentry-sphinx asks the master password if it is); if the key still has its old passphrase, \`sphinx delete ${grip} ${host}\``,
          failCode(),
        );
      }
      try {
        await bound.flows.del(pwd, grip, host);
      } catch (d) {
        const f = classify(d);
        throw new ProtectError(
          `cannot set the passphrase in gpg-agent: ${why}; and the new SPHINX record could not be deleted (${'why' in f ? f.why : failureAnswer(f).err}): delete it with \`sphinx delete ${grip} ${host}\`; the key was not changed`,
        );
      }
      throw new ProtectError(`cannot set the passphrase in gpg-agent: ${why}; the new SPHINX record was deleted again, nothing was changed`, failCode());
    }
    say(`the key with keygrip ${grip} is now protected by SPHINX (user ${grip} at ${host}); gpg-agent unlocks it through pinentry-sphinx (pinentry-program in gpg-agent.conf)`);
    return 0;
  } finally {
    for (const sig of SIGNALS) process.off(sig, onSignal);
    for (const s of secrets) s.fill(0);
    bound?.close();
    agent.close();
  }
}
