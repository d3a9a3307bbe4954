// The oracle's log: one line per event on stderr, "<ISO time> <level> <message>".
// Never pass secrets (record keys, the MAC key, beta, signatures) to it: the
// callers log op names, outcomes, durations and short record-id prefixes only.

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  readonly verbose: boolean;
  /** Only with `verbose` (one line per request, peer errors). */
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface LoggerOptions {
  verbose: boolean;
  /** Defaults to process.stderr. */
  write?: (line: string) => void;
  /** Prefix lines with an ISO timestamp (default true; journald adds its own, but a plain terminal does not). */
  timestamps?: boolean;
}

const oneLine = (s: string): string => s.replace(/[\r\n]+/g, ' | ');

export function createLogger(opts: LoggerOptions): Logger {
  const write = opts.write ?? ((line: string) => void process.stderr.write(line));
  const stamp = opts.timestamps ?? true;
  const emit = (level: Level, msg: string): void => {
    write(`${stamp ? new Date().toISOString() + ' ' : ''}${level} ${oneLine(msg)}\n`);
  };
  return {
    verbose: opts.verbose,
    debug: (m) => {
      if (opts.verbose) emit('debug', m);
    },
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
  };
}

/** A logger that drops everything (tests that do not look at the log). */
export const silentLogger: Logger = { verbose: false, debug() {}, info() {}, warn() {}, error() {} };

/** Short, printable description of an error without its stack. */
export function errText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return code && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}
