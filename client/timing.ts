// Phase timestamps for the benchmark (bench/client.ts), printed to stderr as
// one JSON line when SPHINX_TIMING is set. Never includes data, only times
// (ms since the process started).
import { sinceStartMs } from '../shared/clock.js';

const on = !!process.env['SPHINX_TIMING'];
const marks: Array<[string, number]> = [];

export function mark(name: string): void {
  if (on) marks.push([name, Math.round(sinceStartMs() * 100) / 100]);
}

export function flushTimings(): void {
  if (on && marks.length) process.stderr.write(`SPHINX_TIMING ${JSON.stringify(Object.fromEntries(marks))}\n`);
}
