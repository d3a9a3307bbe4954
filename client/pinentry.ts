// The shell around assuan.ts: runs the user's pinentry program for one
// dialog (as the reference websphinx host does: one process per question;
// pinentry-sphinx protect asks the same way), checks
// every reply, and returns the PIN bytes, or null when the user cancels. The
// PIN travels only through the pipe; it is never logged.
import { spawn } from 'node:child_process';
import { confirmCommands, parseLine, pinCommands, type Texts } from './assuan.js';
import { LineReader } from './line-reader.js';

export class PinentryError extends Error {
  override name = 'PinentryError';
}

interface Outcome {
  ok: boolean;
  data: Buffer[];
}

/** Talks one dialog: greeting, then each command must answer OK, except the last (OK or ERR). */
function dialog(program: string, o: PinentryOptions, commands: string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(program, o.args ?? ['-g'], { stdio: ['pipe', 'pipe', 'ignore'] });
    } catch (e) {
      reject(new PinentryError(`cannot start pinentry ${program}: ${(e as Error).message}`));
      return;
    }
    const data: Buffer[] = [];
    const reader = new LineReader(child.stdout);
    let settled = false;
    const finish = (err: Error | null, out?: Outcome): void => {
      if (settled) return;
      settled = true;
      reader.wipe();
      child.stdin.end('BYE\n');
      if (err) {
        for (const d of data) d.fill(0);
        child.kill();
        reject(err);
      } else resolve(out!);
    };
    child.on('error', (e) => finish(new PinentryError(`cannot start pinentry ${program}: ${(e as NodeJS.ErrnoException).code ?? e.message} (set ${o.setting ?? '[websphinx] pinentry'} in the config)`)));
    child.stdin.on('error', () => undefined); // reported by 'close'
    // after the last line was read: lines are taken in microtasks, 'close' comes later
    child.on('close', (code) => finish(new PinentryError(`pinentry ${program} ended early (exit code ${code})`)));
    void (async () => {
      let step = -1; // -1: awaiting the greeting
      for (;;) {
        const raw = await reader.next();
        if (raw === null || settled) {
          raw?.fill(0);
          return; // the end is reported by 'close'
        }
        const line = parseLine(raw);
        raw.fill(0);
        const last = step === commands.length - 1;
        if (line.kind === 'skip') continue;
        if (line.kind === 'D' && last) data.push(line.data);
        else if (line.kind === 'OK') {
          if (last) finish(null, { ok: true, data });
          else child.stdin.write(commands[++step]! + '\n');
        } else if (line.kind === 'ERR' && last) finish(null, { ok: false, data });
        else if (line.kind === 'ERR') finish(new PinentryError(`pinentry ${program} refused ${commands[step]!.split(' ')[0]}: ${line.text}`));
        else {
          if (line.kind === 'D') line.data.fill(0);
          finish(new PinentryError(`pinentry ${program} does not speak Assuan (unexpected reply)`));
        }
      }
    })();
  });
}

export interface PinentryOptions {
  /** the program's arguments (default -g: no global grab) */
  args?: string[];
  /** the config setting that names the program, for errors (default [websphinx] pinentry) */
  setting?: string;
}

export class Pinentry {
  constructor(
    readonly program: string,
    readonly options: PinentryOptions = {},
  ) {}

  /** The PIN (decoded bytes; the caller wipes it), or null on cancel or an empty PIN. */
  async getPin(t: Texts & { prompt: string }): Promise<Buffer | null> {
    const r = await dialog(this.program, this.options, pinCommands(t));
    const pin = Buffer.concat(r.data);
    for (const d of r.data) d.fill(0);
    if (!r.ok || pin.length === 0) {
      pin.fill(0);
      return null;
    }
    return pin;
  }

  /** true when the user chose `ok`. */
  async confirm(t: Texts & { ok: string; cancel: string }): Promise<boolean> {
    return (await dialog(this.program, this.options, confirmCommands(t))).ok;
  }
}
