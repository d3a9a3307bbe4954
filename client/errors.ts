// Exit codes and the client's error type, in one place (protocol.md §7; the
// reference client's codes: 0 ok, 1 error, 2 bad check digit, 3 unexplained
// failure, 100 usage; 130 interrupted, as a shell reports Ctrl-C). Messages are one line, say what happened and what to
// do, and never contain a secret.

export const Exit = {
  OK: 0,
  ERROR: 1,
  BAD_CHECK_DIGIT: 2,
  UNEXPLAINED: 3,
  USAGE: 100,
  /** Ctrl-C (at a prompt, or SIGINT): 128 + SIGINT, what a shell reports for it */
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof Exit)[keyof typeof Exit];

/** An error the client explains to the user: message for stderr, and the exit code. */
export class ClientError extends Error {
  override name = 'ClientError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = Exit.ERROR,
  ) {
    super(message);
  }
}

/** The command line is malformed: usage text follows, exit 100. */
export class CliUsageError extends ClientError {
  override name = 'CliUsageError';
  constructor(message: string) {
    super(message, Exit.USAGE);
  }
}

/** Ctrl-C at a prompt (the terminal is raw there, so no SIGINT): exit 130. */
export class Interrupted extends ClientError {
  override name = 'Interrupted';
  constructor() {
    super('interrupted; nothing was sent', Exit.INTERRUPTED);
  }
}

/** The rule's check digit does not match rwd: almost always a mistyped master password. */
export class BadCheckDigit extends ClientError {
  override name = 'BadCheckDigit';
  constructor() {
    super('bad check digit: the master password is probably mistyped; run the command again and retype it', Exit.BAD_CHECK_DIGIT);
  }
}

/** Failures while talking to the oracle (network, TLS), which the flows translate per operation. */
export class ConnectionError extends ClientError {
  override name = 'ConnectionError';
}

/** The peer closed or went quiet before sending what the protocol says comes next. */
export class ShortReadError extends ClientError {
  override name = 'ShortReadError';
}

/**
 * The one line printed for an error that was not foreseen (a bug, or a
 * library failure): exit 3 like the reference's "fail". No stack trace.
 */
export function unexplained(e: unknown): ClientError {
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new ClientError(`unexpected failure (${msg.split('\n')[0]}); run again with verbose = true in the [client] config and report it`, Exit.UNEXPLAINED);
}
