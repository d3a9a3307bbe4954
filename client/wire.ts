// The wire-level building blocks every operation shares: reading replies
// (the oracle's fail packet, truncation, silence) and the two-connection
// rate-limit puzzle exchange (protocol.md §4).
import { concat } from '../shared/bytes.js';
import { CHALLENGE_SIZE, DIFFICULTIES, OK } from '../shared/constants.js';
import { ProtocolError } from '../shared/errors.js';
import * as msg from '../shared/messages.js';
import type { Conn, Connect } from './conn.js';
import { ClientError } from './errors.js';
import type { Solve } from './puzzle.js';

/** What the rate-limited exchange needs. */
export interface WireEnv {
  connect: Connect;
  solve: Solve;
  /** open the second connection while solving puzzles up to this n (0: never) */
  earlyConnectMaxN?: number;
  /** phase timestamps for the benchmark */
  mark?: (phase: string) => void;
  /** called once the challenge request is on its way (get.ts loads argon2 then) */
  sent?: () => void;
}

/** Puzzles this easy solve in tens of milliseconds: connect meanwhile. */
export const EARLY_CONNECT_MAX_N = 70;

// ---------------------------------------------------------------- reading replies

/** The oracle answered fail where this step expected data. */
export class Refused extends Error {}

/** Reads an n-byte reply: Refused for the fail packet, ClientError for silence or truncation. */
export async function readReply(c: Conn, n: number, what: string): Promise<Uint8Array> {
  const b = await c.read(n);
  if (msg.isFail(b)) throw new Refused(what);
  if (b.length === 0) throw new ClientError(`the oracle closed the connection instead of sending ${what}; try again, and see the oracle's log if it persists`);
  if (b.length < n) throw new ClientError(`the oracle sent a truncated ${what} (${b.length} of ${n} bytes); try again`);
  return b;
}

/** "ok" (2 bytes); its first two bytes may also start the 6-byte fail packet. */
export async function readOk(c: Conn, what: string): Promise<void> {
  const b = await c.read(OK.length);
  if (b.length === 2 && b[0] === 0x00 && b[1] === 0x04) {
    const rest = await c.read(4);
    if (msg.isFail(concat(b, rest))) throw new Refused(what);
  }
  if (b.length === 0) throw new ClientError(`the oracle closed the connection before confirming ${what}; the operation may or may not have happened: check with \`sphinx get\` or \`sphinx list\``);
  if (!msg.isOk(b)) throw new ClientError(`the oracle sent an unexpected answer instead of confirming ${what}`);
}

/** u16be length | body: a stored blob, 00 00 when none; the fail packet reads as length 4 + "fail". */
export async function readBlobReply(c: Conn, what: string): Promise<Uint8Array | null> {
  const head = await readReply(c, msg.BLOB_PREFIX_SIZE, what);
  const len = msg.blobBodySize(head);
  if (len === 0) return null;
  const body = await c.read(len);
  try {
    return msg.parseUserListReply(concat(head, body));
  } catch (e) {
    if (e instanceof msg.OracleFailure) throw new Refused(what);
    if (body.length < len) throw new ClientError(`the oracle sent a truncated ${what}; try again`);
    throw new ClientError(`the oracle sent a malformed ${what} (${(e as Error).message})`);
  }
}

/** Turns a Refused from `fn` into a ClientError with the operation's own explanation. */
export async function refusedMeans<T>(explanation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof Refused) throw new ClientError(explanation);
    throw e;
  }
}

/** Protocol/crypto failures on oracle data become one clear line. */
export function badAnswer(e: unknown, what: string): never {
  if (e instanceof ClientError) throw e;
  if (e instanceof ProtocolError) throw new ClientError(`the oracle's ${what} is invalid (${e.message}); the oracle may be faulty or the connection tampered with`);
  throw e;
}

/**
 * §4: connection 1 fetches the challenge, the puzzle is solved (off the main
 * thread), connection 2 carries the proof; the request is then handled on it.
 */
export async function rateLimited(env: WireEnv, req: Uint8Array): Promise<Conn> {
  const c1 = await env.connect();
  env.mark?.('conn1');
  let ch: msg.Challenge;
  try {
    c1.write(msg.challengeCreatePacket(req));
    env.sent?.();
    const b = await refusedMeans('the oracle refused to hand out a rate-limit challenge; try again later', () =>
      readReply(c1, CHALLENGE_SIZE, 'the rate-limit challenge'),
    );
    ch = msg.parseChallenge(b);
    env.mark?.('challenge');
  } finally {
    c1.close();
  }
  if (!DIFFICULTIES.some((d) => d.n === ch.n && d.k === ch.k)) {
    throw new ClientError(`the oracle sent a puzzle of unknown difficulty (n=${ch.n}, k=${ch.k}); is it a SPHINX v1 oracle?`);
  }
  const seed = msg.puzzleSeed(ch.bytes, req);
  const early = ch.n <= (env.earlyConnectMaxN ?? EARLY_CONNECT_MAX_N) ? env.connect() : null;
  early?.catch(() => undefined); // surfaced below
  // Small puzzles are solved on this thread (puzzle.ts): let the event loop
  // see the TCP connect and send the ClientHello first, so the handshake's
  // round trip happens during the solve.
  if (early) for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
  let solution: Uint8Array;
  try {
    solution = await env.solve(ch.n, ch.k, seed);
    env.mark?.('solved');
  } catch (e) {
    early?.then((c) => c.close(), () => undefined);
    throw e instanceof ClientError ? e : new ClientError(`solving the oracle's puzzle failed (${(e as Error).message})`, 3);
  }
  const c2 = await (early ?? env.connect());
  env.mark?.('conn2');
  c2.write(msg.challengeVerifyPacket(ch.bytes, req, solution));
  return c2;
}

