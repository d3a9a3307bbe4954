// The master password strength estimate that create/change print on stderr
// (protocol.md §7), from @zxcvbn-ts. client/main.ts imports this module only
// for create/change, so get never pays for zxcvbn. (Static imports: in the
// CommonJS bundle they become require()s inside this module's lazy
// initialiser; a dynamic import() there would need Node's ES module loader.)
// The estimate needs the password as a string; that copy cannot be wiped.
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';

const UNITS: ReadonlyArray<[string, number]> = [
  ['second', 1],
  ['minute', 60],
  ['hour', 3600],
  ['day', 86400],
  ['month', 86400 * 31],
  ['year', 86400 * 365],
];

/** "less than a second", "3 hours", "centuries". Pure. */
export function humanTime(seconds: number): string {
  if (!(seconds >= 1)) return 'less than a second';
  if (seconds >= 86400 * 365 * 100) return 'centuries';
  let unit = UNITS[0]!;
  for (const u of UNITS) if (seconds >= u[1]) unit = u;
  const n = Math.round(seconds / unit[1]);
  return `${n} ${unit[0]}${n === 1 ? '' : 's'}`;
}

export interface Estimate {
  score: number; // 0..4
  guesses: number;
  onlineSeconds: number; // throttled online attack, 100 guesses per hour
  offlineSeconds: number; // slow hash offline attack, 1e4 guesses per second
}

/** The line the reference prints (stars, score, crack times, guesses). Pure. */
export function strengthLine(e: Estimate): string {
  const s = Math.max(0, Math.min(4, Math.round(e.score)));
  return (
    `your ${'★'.repeat(s)}${'☆'.repeat(4 - s)} (${s}/4) master password can be recovered online in ${humanTime(e.onlineSeconds)}, ` +
    `and offline in ${humanTime(e.offlineSeconds)}, trying ~${Math.round(e.guesses).toLocaleString('en-US')} guesses`
  );
}

/** Runs zxcvbn on the password bytes (UTF-8, invalid sequences replaced). */
export async function estimate(pwd: Uint8Array): Promise<Estimate> {
  const z = new ZxcvbnFactory({ dictionary: { ...common.dictionary }, graphs: common.adjacencyGraphs });
  const r = z.check(Buffer.from(pwd.buffer, pwd.byteOffset, pwd.length).toString('utf8'));
  return {
    score: r.score,
    guesses: r.guesses,
    onlineSeconds: r.crackTimes.onlineThrottlingXPerHour.seconds,
    offlineSeconds: r.crackTimes.offlineSlowHashingXPerSecond.seconds,
  };
}
