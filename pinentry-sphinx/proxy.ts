// The shell of pinentry-sphinx as gpg-agent's pinentry: gpg-agent on
// stdin/stdout, the real pinentry as a child (started at once with our own
// arguments, e.g. --display, so its greeting is ours), the oracle through the
// client's flows. session.ts decides; this file moves lines. A password (the
// master password from the real pinentry, the derived one for gpg-agent)
// lives only in buffers that are wiped after use and is never logged.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { homedir, constants as osConstants } from 'node:os';
import { bindFlows, type Flows } from '../client/bound-flows.js';
import { clientConfig, type ClientConfig } from '../client/config.js';
import { Solver } from '../client/puzzle.js';
import { Connector, loadPinned } from '../client/tls.js';
import { configPaths, loadConfigFiles } from '../shared/config.js';
import { parseLine } from '../client/assuan.js';
import { pinentryConfig, type PinentryConfig } from './config.js';
import { LineReader } from '../client/line-reader.js';
import {
  classify,
  decide,
  errLine,
  GpgErr,
  failureAnswer,
  initialSession,
  MASTER_TRIES,
  masterPasswordCommands,
  messageCommands,
  passphraseLines,
  noteCommands,
  refusedNote,
  unknownKeyNote,
  type Failure,
  type KeyRef,
} from './session.js';

export interface Settings {
  client: ClientConfig;
  pinentry: PinentryConfig;
}

/** The config files `sphinx` reads, from the user's home (gpg-agent starts us in /). */
export function loadSettings(): Settings {
  try {
    process.chdir(homedir());
  } catch {
    /* no home directory: the files under it are missing anyway */
  }
  const sections = loadConfigFiles(configPaths(), false, (l) => note(l));
  return { client: clientConfig(sections), pinentry: pinentryConfig(sections) };
}

/** One line on stderr (gpg-agent's log with debug-pinentry); never a secret. */
export const note = (line: string): void => void process.stderr.write(`pinentry-sphinx: ${line}\n`);

/** Flows bound to the user's config; close() ends the connector and solver. */
export function openFlows(cfg: ClientConfig): { flows: Flows; close(): void } {
  const connector = new Connector({ host: cfg.address, port: cfg.port, pinned: cfg.sslCert ? loadPinned(cfg.sslCert) : undefined, sslCertPath: cfg.sslCert });
  const solver = new Solver();
  return {
    flows: bindFlows(cfg, connector, solver, 'pinentry-sphinx'),
    close() {
      solver.close();
      connector.discard();
    },
  };
}

const write = (out: NodeJS.WritableStream, bytes: Buffer): Promise<void> => new Promise((res) => out.write(bytes, () => res()));
/** Writes one line from a fresh buffer, wiped once written (a relayed line may be a D line with a passphrase). */
async function writeLine(out: NodeJS.WritableStream, l: string | Buffer): Promise<void> {
  const b = Buffer.concat([typeof l === 'string' ? Buffer.from(l, 'utf8') : l, Buffer.from('\n')]);
  await write(out, b);
  b.fill(0);
}

/** An ERR line with GPG_ERR_CANCELED (99), from any error source. */
const isCancel = (errLine: string): boolean => {
  const code = Number(/^ERR (\d+)/.exec(errLine)?.[1] ?? NaN);
  return (code & 0xffff) === GpgErr.CANCELED;
};

/** Set for the real pinentry: a pinentry-sphinx started as its own real pinentry stops at once instead of recursing. */
const NESTED = 'PINENTRY_SPHINX_PROXY';

/** Runs the proxy until gpg-agent says BYE or closes stdin; resolves with the exit code. */
export async function runProxy(argv: readonly string[]): Promise<number> {
  for (const k of ['log', 'info', 'warn', 'debug'] as const) console[k] = console.error; // stdout is Assuan only
  let settings: Settings | null = null;
  let setupError = '';
  try {
    settings = loadSettings();
  } catch (e) {
    setupError = (e as Error).message.split('\n')[0]!;
    note(`configuration error: ${setupError}`);
  }
  const program = settings?.pinentry.pinentry ?? 'pinentry';
  if (process.env[NESTED] === '1') {
    note(`[pinentry] pinentry names pinentry-sphinx itself (${program}); set it to the real pinentry, e.g. /usr/bin/pinentry-gnome3`);
    return 1;
  }
  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn(program, [...argv], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, [NESTED]: '1' } }) as unknown as ChildProcessWithoutNullStreams;
  } catch (e) {
    note(`cannot start the real pinentry ${program}: ${(e as Error).message} (set [pinentry] pinentry in the config)`);
    return 1;
  }
  const started = new Promise<string | null>((res) => {
    child.once('spawn', () => res(null));
    child.once('error', (e) => res((e as NodeJS.ErrnoException).code ?? e.message));
  });
  const startError = await started;
  if (startError) {
    note(`cannot start the real pinentry ${program}: ${startError} (set [pinentry] pinentry in the config)`);
    return 1;
  }
  child.stdin.on('error', () => undefined); // its end shows on stdout
  const agent = new LineReader(process.stdin);
  const pin = new LineReader(child.stdout);
  const leave = (code: number): never => {
    agent.wipe();
    pin.wipe();
    process.exit(code);
  };
  // Ending in the middle of a command ends the real pinentry's dialog too (SIGINT, as gpg-agent stops
  // a pinentry): a dialog left on screen would take a master password nobody reads.
  const quit = (code: number, why: string): never => {
    note(why);
    child.kill('SIGINT');
    return leave(code);
  };
  // Between commands (and after BYE) the real pinentry shows nothing, and ends by itself when its
  // stdin closes with ours: gpg-agent SIGINTs its pinentry when it is done with it, so it is left to
  // finish.
  let betweenCommands = false;
  /** BYE is being relayed: gpg-agent may close its end before the real pinentry's OK reaches it */
  let closing = false;
  for (const sig of ['SIGHUP', 'SIGINT', 'SIGTERM'] as const) {
    const code = 128 + osConstants.signals[sig];
    process.once(sig, () => (betweenCommands || closing ? leave(code) : quit(code, `stopped by ${sig}`)));
  }
  process.stdout.on('error', (e: NodeJS.ErrnoException) => (closing ? leave(0) : quit(1, `gpg-agent went away (${e.code ?? e.message})`)));
  // gpg-agent closing our stdin while we ask the master password or the oracle: nobody waits for the answer
  let unlocking = false;
  process.stdin.once('end', () => {
    if (unlocking) quit(1, 'gpg-agent went away during an unlock');
  });
  const toAgent = (l: string | Buffer): Promise<void> => writeLine(process.stdout, l);
  const toPin = (l: string | Buffer): Promise<void> => writeLine(child.stdin, l);

  /** Our own command on the real pinentry: its D data (for GETPIN) and whether it said OK. */
  /** Our own command on the real pinentry: its D data (for GETPIN), whether it said OK, and its ERR line if not. */
  const own = async (cmd: string): Promise<{ ok: boolean; data: Buffer[]; err?: string } | null> => {
    await toPin(cmd);
    const data: Buffer[] = [];
    for (;;) {
      const raw = await pin.next();
      if (raw === null) return null;
      const l = parseLine(raw);
      const text = l.kind === 'ERR' ? raw.toString('utf8') : '';
      raw.fill(0);
      if (l.kind === 'D') data.push(l.data);
      else if (l.kind === 'INQUIRE') await toPin('END'); // nothing to add to our own questions
      else if (l.kind === 'OK' || l.kind === 'ERR') return { ok: l.kind === 'OK', data, ...(text ? { err: text } : {}) };
    }
  };
  const ownAll = async (cmds: string[]): Promise<boolean> => {
    for (const c of cmds) {
      const r = await own(c);
      if (r === null) return false;
      for (const d of r.data) d.fill(0);
    }
    return true;
  };

  /** `line` to the real pinentry; its answer, and any inquiry's data from gpg-agent, relayed until its OK or ERR. */
  const relay = async (line: Buffer): Promise<boolean> => {
    await toPin(line);
    for (;;) {
      const raw = await pin.next();
      if (raw === null) return false;
      await toAgent(raw);
      const l = parseLine(raw);
      raw.fill(0);
      if (l.kind === 'D') l.data.fill(0);
      if (l.kind === 'OK' || l.kind === 'ERR') return true;
      if (l.kind === 'INQUIRE') {
        for (;;) {
          const a = await agent.next();
          if (a === null) return false;
          await toPin(a);
          const w = a.toString('latin1', 0, 3);
          a.fill(0);
          if (w === 'END' || w === 'CAN') break;
        }
      }
    }
  };

  /** A GETPIN for a key: answered from SPHINX when the oracle lists its keygrip, else the real pinentry's. */
  /** keys answered from SPHINX in this session: gpg-agent asking again means it refused that password */
  const answered = new Set<string>();
  const unlock = async (line: Buffer, key: KeyRef, description: string, restore: string[]): Promise<'relayed' | 'answered' | 'gone'> => {
    unlocking = true;
    try {
      return await unlockKey(line, key, description, restore);
    } finally {
      unlocking = false;
    }
  };
  const unlockKey = async (line: Buffer, key: KeyRef, description: string, restore: string[]): Promise<'relayed' | 'answered' | 'gone'> => {
    /** gpg-agent's own prompt after all, with a note above it when the oracle could not tell */
    const pass = async (why?: string): Promise<'relayed' | 'gone'> =>
      (await ownAll([...restore, ...(why ? noteCommands(why) : [])])) && (await relay(line)) ? 'relayed' : 'gone';
    if (!settings) return pass(unknownKeyNote(`configuration error: ${setupError}`));
    if (answered.has(key.grip)) {
      // a stale record (the key's passphrase changed since protect): the user can still type the real one
      note(`${key.grip}: gpg-agent did not accept the SPHINX password; its own prompt is shown`);
      return pass(refusedNote);
    }
    const host = settings.pinentry.host;
    let bound: ReturnType<typeof openFlows> | null = null;
    const failed = async (f: Failure): Promise<'answered' | 'gone'> => {
      const a = failureAnswer(f);
      note(`${key.grip}: ${a.message ?? f.kind}`);
      if (a.message && !(await ownAll(messageCommands(a.message)))) return 'gone';
      await toAgent(a.err);
      return 'answered';
    };
    try {
      bound = openFlows(settings.client);
      let users: string[];
      try {
        users = await bound.flows.list(host);
      } catch (e) {
        const f = classify(e);
        const why = 'why' in f ? f.why : f.kind;
        note(`${key.grip}: cannot list the SPHINX records of ${host}: ${why}`);
        return pass(unknownKeyNote(`cannot ask the SPHINX oracle (${why})`));
      }
      if (!users.includes(key.grip)) return pass();
      for (let attempt = 1; ; attempt++) {
        const cmds = masterPasswordCommands(key, description, host, attempt);
        if (!(await ownAll(cmds.slice(0, -1)))) return 'gone';
        const r = await own(cmds[cmds.length - 1]!);
        if (r === null) return 'gone';
        const pwd = Buffer.concat(r.data);
        for (const d of r.data) d.fill(0);
        try {
          if (!r.ok) {
            // the real pinentry's own ERR (a timeout, say) goes to gpg-agent as it is; a cancel is exactly pinentry's
            if (r.err && !isCancel(r.err)) {
              await toAgent(r.err);
              return 'answered';
            }
            return await failed({ kind: 'cancelled' });
          }
          if (pwd.length === 0) return await failed({ kind: 'empty' });
          let password: string;
          try {
            password = await bound.flows.get(pwd, key.grip, host);
          } catch (e) {
            const f = classify(e);
            if (f.kind === 'bad-master-password' && attempt < MASTER_TRIES) continue; // asked again, with SETERROR
            return await failed(f);
          }
          const out = Buffer.from(passphraseLines(password).join('\n') + '\n', 'utf8');
          await write(process.stdout, out);
          out.fill(0);
          answered.add(key.grip);
          note(`${key.grip}: unlocked with SPHINX (user ${key.grip} at ${host})`);
          return 'answered';
        } finally {
          pwd.fill(0);
        }
      }
    } catch (e) {
      return failed({ kind: 'failed', why: (e as Error).message.split('\n')[0]! });
    } finally {
      bound?.close();
    }
  };

  const childGone = new Promise<number>((res) => child.on('close', (code) => res(code ?? 1)));
  let cutOff = false;
  try {
    const greeting = await pin.next();
    if (greeting === null || parseLine(greeting).kind !== 'OK') {
      note(`the real pinentry ${program} did not greet (is it a pinentry?)`);
      return 1;
    }
    await toAgent(greeting);
    let session = initialSession();
    for (;;) {
      betweenCommands = true;
      const line = await agent.next();
      betweenCommands = false;
      if (line === null) break;
      const { session: next, decision } = decide(session, line);
      session = next;
      if (decision.kind === 'unlock') {
        const r = await unlock(line, decision.key, decision.description, decision.restore);
        if (r === 'gone') cutOff = true;
        if (r === 'gone') break;
        // answered: our texts are on the real pinentry now; relayed: gpg-agent's are
        session = { ...session, dirty: r === 'answered' };
      } else {
        if (decision.end) closing = true;
        const ok = (await ownAll(decision.restore)) && (await relay(line));
        if (!ok) cutOff = true;
        if (!ok || decision.end) break;
      }
      line.fill(0);
    }
    if (cutOff) {
      // the real pinentry ended in the middle of a command: gpg-agent gets an answer, not an end of file
      note(`the real pinentry ${program} ended in the middle of a dialog`);
      await toAgent(errLine(GpgErr.PINENTRY, 'the real pinentry ended')).catch(() => undefined);
    }
  } finally {
    betweenCommands = true; // done: the real pinentry ends with its stdin
    agent.wipe();
    pin.wipe();
    child.stdin.end();
  }
  const t = setTimeout(() => child.kill(), 5000);
  await childGone;
  clearTimeout(t);
  return cutOff ? 1 : 0;
}
