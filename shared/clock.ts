// Clocks that load no module. The `performance` global loads perf_hooks on
// first use, about 1.5 ms of every `sphinx get` (BENCHMARKS.md), for what
// process.hrtime and process.uptime give for free.

/** A monotonic clock, in milliseconds. */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Milliseconds since this process started (what performance.now() gives). */
export const sinceStartMs = (): number => process.uptime() * 1000;
