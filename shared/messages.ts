// Codecs for every message of the SPHINX v1 wire protocol (protocol.md §4, §5),
// shared by the oracle and the client. Small pure functions over Uint8Array:
// no sockets, no clock, no crypto (signatures are passed in, as bytes or as a
// sign callback; verifying is the caller's job, with the `signed` bytes the
// parsers return).
//
// Conventions:
// - Builders take our own values; a wrong-sized argument is a programming
//   error and throws RangeError.
// - Parsers take peer bytes; any size or field problem throws ProtocolError.
//   Parsers of oracle replies (s2c) throw OracleFailure (a ProtocolError) when
//   handed exactly the fail packet "\x00\x04fail"; a client that reads "up to
//   N bytes or EOF", or a u16be length then that many bytes, hands them over
//   as they came and gets OracleFailure for a fail.
// - Parsers return copies, never views into the input.
import { concat, readU16be, u16be, constantTimeEqual } from './bytes.js';
import {
  CHALLENGE_HEAD_SIZE,
  CHALLENGE_SIZE,
  FAIL,
  ID_SIZE,
  MAX_BLOB_SIZE,
  NONCE_SIZE,
  OK,
  Op,
  PK_SIZE,
  POINT_SIZE,
  RATE_LIMITED_OPS,
  READ_REQUEST_SIZE,
  REQUEST_SIZE,
  RULE_SIZE,
  SEAL_OVERHEAD,
  SIG_SIZE,
} from './constants.js';
import { ProtocolError, UsageError } from './errors.js';

/**
 * A copy of buf[start..end) as a plain Uint8Array. Parsed fields never share
 * memory with the received bytes: on a Node Buffer, `slice` is a view, so a
 * caller wiping or reusing the input would change them.
 */
function copyOf(buf: Uint8Array, start = 0, end = buf.length): Uint8Array {
  return new Uint8Array(buf.subarray(start, end));
}

/** The oracle answered the fail packet where data was expected. */
export class OracleFailure extends ProtocolError {
  override name = 'OracleFailure';
  constructor(what: string) {
    super(`oracle answered fail (${what})`);
  }
}

/** A detached signature (64 bytes), or a function that signs the given bytes. */
export type Signature = Uint8Array | ((msg: Uint8Array) => Uint8Array);

/** A message part signed by its sender: verify with verifyDetached(pk, signed, sig). */
export interface Signed {
  signed: Uint8Array;
  sig: Uint8Array;
}

// ---------------------------------------------------------------- helpers

/** Exactly the 6-byte fail packet "\x00\x04fail". */
export const isFail = (buf: Uint8Array): boolean => buf.length === FAIL.length && constantTimeEqual(buf, FAIL);
/** Exactly "ok". */
export const isOk = (buf: Uint8Array): boolean => buf.length === OK.length && constantTimeEqual(buf, OK);

function need(arg: Uint8Array, size: number, what: string): void {
  if (!(arg instanceof Uint8Array) || arg.length !== size) throw new RangeError(`${what} must be ${size} bytes`);
}

/** Size check for a message from the peer. */
function expect(buf: Uint8Array, size: number, what: string): void {
  if (buf.length !== size) throw new ProtocolError(`${what}: expected ${size} bytes, got ${buf.length}`);
}

/** Size check for a reply from the oracle: recognises the fail packet first. */
function expectReply(buf: Uint8Array, size: number, what: string): void {
  if (isFail(buf)) throw new OracleFailure(what);
  expect(buf, size, what);
}

function signWith(sig: Signature, msg: Uint8Array): Uint8Array {
  const s = typeof sig === 'function' ? sig(msg) : sig;
  need(s, SIG_SIZE, 'signature');
  return s;
}

/** The oracle's "ok" after a mutation; throws OracleFailure / ProtocolError otherwise. */
export function parseOk(buf: Uint8Array): void {
  expectReply(buf, OK.length, 'ok');
  if (!isOk(buf)) throw new ProtocolError('expected "ok"');
}

// ---------------------------------------------------------------- requests

/** A rate-limited request: op | id | alpha (65), or READ: op | id (33). */
export interface Request {
  op: number;
  id: Uint8Array;
  /** null for READ */
  alpha: Uint8Array | null;
}

/** Size of a rate-limited request with this op byte; ProtocolError for any other op. */
export function requestSize(op: number): number {
  if (!RATE_LIMITED_OPS.has(op)) throw new ProtocolError(`not a rate-limited op: 0x${op.toString(16).padStart(2, '0')}`);
  return op === Op.READ ? READ_REQUEST_SIZE : REQUEST_SIZE;
}

/** Does `req` have a rate-limited op byte and the size that op requires? */
export function isValidRequest(req: Uint8Array): boolean {
  return req.length > 0 && RATE_LIMITED_OPS.has(req[0]!) && req.length === (req[0] === Op.READ ? READ_REQUEST_SIZE : REQUEST_SIZE);
}

/** op | id | alpha, or for READ op | id (alpha must then be absent). */
export function buildRequest(op: number, id: Uint8Array, alpha?: Uint8Array): Uint8Array {
  if (!RATE_LIMITED_OPS.has(op)) throw new RangeError(`buildRequest: not a rate-limited op: ${op}`);
  need(id, ID_SIZE, 'id');
  if (op === Op.READ) {
    if (alpha !== undefined) throw new RangeError('READ carries no alpha');
    return concat(Uint8Array.of(op), id);
  }
  if (alpha === undefined) throw new RangeError('alpha required');
  need(alpha, POINT_SIZE, 'alpha');
  return concat(Uint8Array.of(op), id, alpha);
}

export function parseRequest(buf: Uint8Array): Request {
  if (buf.length === 0) throw new ProtocolError('empty request');
  const op = buf[0]!;
  expect(buf, requestSize(op), 'request');
  return {
    op,
    id: copyOf(buf, 1, 1 + ID_SIZE),
    alpha: op === Op.READ ? null : copyOf(buf, 1 + ID_SIZE, REQUEST_SIZE),
  };
}

// ---------------------------------------------------------------- puzzle (§4)

/** Connection 1, client: 0x5a | req. */
export function challengeCreatePacket(req: Uint8Array): Uint8Array {
  if (!isValidRequest(req)) throw new RangeError('challengeCreatePacket: not a rate-limited request');
  return concat(Uint8Array.of(Op.CHALLENGE_CREATE), req);
}

/** Oracle: the whole connection-1 message. Returns the request bytes and fields. */
export function parseChallengeCreatePacket(buf: Uint8Array): { req: Uint8Array; request: Request } {
  if (buf.length === 0 || buf[0] !== Op.CHALLENGE_CREATE) throw new ProtocolError('not a CHALLENGE_CREATE packet');
  const req = copyOf(buf, 1);
  return { req, request: parseRequest(req) };
}

/** n(1) | k(1) | ts u64le: the part of the challenge the MAC covers (after req). */
export function encodeChallengeHead(n: number, k: number, ts: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xff || !Number.isInteger(k) || k < 0 || k > 0xff) throw new RangeError('n/k out of range');
  if (!Number.isSafeInteger(ts) || ts < 0) throw new RangeError(`ts out of range: ${ts}`);
  const out = new Uint8Array(CHALLENGE_HEAD_SIZE);
  out[0] = n;
  out[1] = k;
  new DataView(out.buffer).setBigUint64(2, BigInt(ts), true);
  return out;
}

export interface Challenge {
  n: number;
  k: number;
  /** unix seconds (u64le on the wire) */
  ts: number;
  mac: Uint8Array;
  /** the 42 bytes as received; echo these back, they are also the start of the puzzle seed */
  bytes: Uint8Array;
}

/** Connection 1, client: the oracle's 42-byte n | k | ts u64le | mac. */
export function parseChallenge(buf: Uint8Array): Challenge {
  expectReply(buf, CHALLENGE_SIZE, 'challenge');
  const ts = new DataView(buf.buffer, buf.byteOffset, buf.length).getBigUint64(2, true);
  if (ts > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtocolError('challenge timestamp out of range');
  return { n: buf[0]!, k: buf[1]!, ts: Number(ts), mac: copyOf(buf, CHALLENGE_HEAD_SIZE), bytes: copyOf(buf) };
}

/** The Equihash seed: challenge(42) | req. */
export function puzzleSeed(challenge: Uint8Array, req: Uint8Array): Uint8Array {
  need(challenge, CHALLENGE_SIZE, 'challenge');
  if (!isValidRequest(req)) throw new RangeError('puzzleSeed: not a rate-limited request');
  return concat(challenge, req);
}

/** Connection 2, client: 0xa5 | challenge(42) | req | solution. */
export function challengeVerifyPacket(challenge: Uint8Array, req: Uint8Array, solution: Uint8Array): Uint8Array {
  need(challenge, CHALLENGE_SIZE, 'challenge');
  if (!isValidRequest(req)) throw new RangeError('challengeVerifyPacket: not a rate-limited request');
  if (solution.length === 0) throw new RangeError('empty solution');
  return concat(Uint8Array.of(Op.CHALLENGE_VERIFY), challenge, req, solution);
}

/** Bytes of 0xa5 | challenge that precede the request's op byte (43). */
export const VERIFY_PREFIX_SIZE = 1 + CHALLENGE_SIZE;

/** Size of 0xa5 | challenge | req for a request with this op byte (76 or 108). */
export const verifyHeaderSize = (op: number): number => VERIFY_PREFIX_SIZE + requestSize(op);

export interface VerifyHeader {
  /** the 42 challenge bytes as the client echoed them (check with checkChallenge) */
  challenge: Uint8Array;
  /** the raw request bytes (what the MAC covers, and the tail of the seed) */
  req: Uint8Array;
  request: Request;
}

/**
 * Oracle, connection 2: 0xa5 | challenge(42) | req, without the solution.
 * Read VERIFY_PREFIX_SIZE + 1 bytes, then up to verifyHeaderSize(op).
 */
export function parseVerifyHeader(buf: Uint8Array): VerifyHeader {
  if (buf.length === 0 || buf[0] !== Op.CHALLENGE_VERIFY) throw new ProtocolError('not a CHALLENGE_VERIFY packet');
  if (buf.length <= VERIFY_PREFIX_SIZE) throw new ProtocolError('CHALLENGE_VERIFY packet too short');
  expect(buf, verifyHeaderSize(buf[VERIFY_PREFIX_SIZE]!), 'CHALLENGE_VERIFY header');
  const req = copyOf(buf, VERIFY_PREFIX_SIZE);
  return { challenge: copyOf(buf, 1, VERIFY_PREFIX_SIZE), req, request: parseRequest(req) };
}

/** A whole connection-2 message; `solsize` (from shared/equihash.ts) gives the solution length for (n, k). */
export function parseVerifyPacket(
  buf: Uint8Array,
  solsize: (n: number, k: number) => number,
): VerifyHeader & { solution: Uint8Array } {
  if (buf.length <= VERIFY_PREFIX_SIZE) throw new ProtocolError('CHALLENGE_VERIFY packet too short');
  const headerSize = verifyHeaderSize(buf[VERIFY_PREFIX_SIZE]!);
  const header = parseVerifyHeader(buf.subarray(0, Math.min(headerSize, buf.length)));
  expect(buf, headerSize + solsize(header.challenge[0]!, header.challenge[1]!), 'CHALLENGE_VERIFY packet');
  return { ...header, solution: copyOf(buf, headerSize) };
}

// ---------------------------------------------------------------- CREATE (§5)

/** CREATE step 1, client: 0x00 | id | alpha (65). */
export function createRequest(id: Uint8Array, alpha: Uint8Array): Uint8Array {
  need(id, ID_SIZE, 'id');
  need(alpha, POINT_SIZE, 'alpha');
  return concat(Uint8Array.of(Op.CREATE), id, alpha);
}

export function parseCreateRequest(buf: Uint8Array): { id: Uint8Array; alpha: Uint8Array } {
  expect(buf, REQUEST_SIZE, 'CREATE request');
  if (buf[0] !== Op.CREATE) throw new ProtocolError('not a CREATE request');
  return { id: copyOf(buf, 1, 1 + ID_SIZE), alpha: copyOf(buf, 1 + ID_SIZE) };
}

/** A 32-byte point from the oracle: beta of CREATE step 1 and of CHANGE. */
export function parseBeta(buf: Uint8Array): Uint8Array {
  expectReply(buf, POINT_SIZE, 'beta');
  return copyOf(buf);
}

/** A 32-byte point from the client: alpha' of CHANGE. */
export function parseAlpha(buf: Uint8Array): Uint8Array {
  expect(buf, POINT_SIZE, 'alpha');
  return copyOf(buf);
}

/** Size of pk | rule | sig (175). */
export const KEY_RULE_SIZE = PK_SIZE + RULE_SIZE + SIG_SIZE;

/**
 * CREATE step 2 (and CHANGE's pk' | rule' | sig'), client:
 * pk | rule | sig(pk | rule), signed by the record's auth key.
 */
export function createStep2(pk: Uint8Array, rule: Uint8Array, sig: Signature): Uint8Array {
  need(pk, PK_SIZE, 'public key');
  need(rule, RULE_SIZE, 'sealed rule');
  const signed = concat(pk, rule);
  return concat(signed, signWith(sig, signed));
}

/** Oracle: verify with verifyDetached(pk, signed, sig) before storing. */
export function parseCreateStep2(buf: Uint8Array): { pk: Uint8Array; rule: Uint8Array } & Signed {
  expect(buf, KEY_RULE_SIZE, 'public key | rule | signature');
  return {
    pk: copyOf(buf, 0, PK_SIZE),
    rule: copyOf(buf, PK_SIZE, PK_SIZE + RULE_SIZE),
    signed: copyOf(buf, 0, PK_SIZE + RULE_SIZE),
    sig: copyOf(buf, PK_SIZE + RULE_SIZE),
  };
}

// ---------------------------------------------------------------- GET

/** Size of the GET reply beta | rules (111). */
export const GET_REPLY_SIZE = POINT_SIZE + RULE_SIZE;

export function getReply(beta: Uint8Array, rules: Uint8Array): Uint8Array {
  need(beta, POINT_SIZE, 'beta');
  need(rules, RULE_SIZE, 'sealed rule');
  return concat(beta, rules);
}

export function parseGetReply(buf: Uint8Array): { beta: Uint8Array; rules: Uint8Array } {
  expectReply(buf, GET_REPLY_SIZE, 'GET reply');
  return { beta: copyOf(buf, 0, POINT_SIZE), rules: copyOf(buf, POINT_SIZE) };
}

// ---------------------------------------------------------------- auth

/** Oracle: beta | nonce32 for a record with a key, nonce32 alone for a user-list record. */
export function authChallenge(nonce: Uint8Array, beta: Uint8Array | null): Uint8Array {
  need(nonce, NONCE_SIZE, 'nonce');
  if (beta === null) return copyOf(nonce);
  need(beta, POINT_SIZE, 'beta');
  return concat(beta, nonce);
}

/** Client: `withBeta` is false for READ (user-list record: no key, no beta), true otherwise. */
export function parseAuthChallenge(buf: Uint8Array, withBeta: boolean): { beta: Uint8Array | null; nonce: Uint8Array } {
  if (!withBeta) {
    expectReply(buf, NONCE_SIZE, 'auth nonce');
    return { beta: null, nonce: copyOf(buf) };
  }
  expectReply(buf, POINT_SIZE + NONCE_SIZE, 'auth beta | nonce');
  return { beta: copyOf(buf, 0, POINT_SIZE), nonce: copyOf(buf, POINT_SIZE) };
}

/** Client: sig(nonce) (64). */
export function authResponse(nonce: Uint8Array, sig: Signature): Uint8Array {
  need(nonce, NONCE_SIZE, 'nonce');
  return copyOf(signWith(sig, nonce));
}

/** Oracle: the signature; verify with verifyDetached(pub, nonce, sig). */
export function parseAuthResponse(buf: Uint8Array): Uint8Array {
  expect(buf, SIG_SIZE, 'auth signature');
  return copyOf(buf);
}

// ---------------------------------------------------------------- blobs and user lists

/** The oracle's reply to a user-list request when the host has no list yet. */
export const NO_USER_LIST = Uint8Array.of(0x00, 0x00);
/** Bytes of a blob's length prefix. */
export const BLOB_PREFIX_SIZE = 2;

/** u16be len | sealed. UsageError when the sealed list reaches 65536 bytes (too many users). */
export function encodeBlob(sealed: Uint8Array): Uint8Array {
  if (sealed.length < SEAL_OVERHEAD) throw new RangeError('not a sealed blob');
  if (sealed.length > MAX_BLOB_SIZE) throw new UsageError('the user list is too large to store (sealed size must stay below 65536 bytes)');
  return concat(u16be(sealed.length), sealed);
}

/** The length announced by a 2-byte blob prefix (how many bytes follow). */
export function blobBodySize(prefix: Uint8Array): number {
  expect(prefix, BLOB_PREFIX_SIZE, 'blob length');
  return readU16be(prefix);
}

function checkSealedSize(len: number): void {
  if (len < SEAL_OVERHEAD) throw new ProtocolError(`sealed blob too short: ${len} bytes`);
}

/** u16be len | sealed → sealed. OracleFailure for the fail packet (it reads as length 4). */
export function parseBlob(buf: Uint8Array): Uint8Array {
  if (isFail(buf)) throw new OracleFailure('blob');
  if (buf.length < BLOB_PREFIX_SIZE) throw new ProtocolError('blob too short');
  const len = readU16be(buf);
  checkSealedSize(len);
  expect(buf, BLOB_PREFIX_SIZE + len, 'blob');
  return copyOf(buf, BLOB_PREFIX_SIZE);
}

/** Client: the oracle's answer to uid | sig(uid): 00 00 (no list yet) → null, else the stored blob's sealed list. */
export function parseUserListReply(buf: Uint8Array): Uint8Array | null {
  if (buf.length === NO_USER_LIST.length && readU16be(buf) === 0) return null;
  return parseBlob(buf);
}

/** Client: READ's final answer, the stored blob; an empty answer (list record without blob) → null. */
export function parseReadReply(buf: Uint8Array): Uint8Array | null {
  if (buf.length === 0) return null;
  return parseUserListReply(buf);
}

/** Size of uid | sig(uid) (96). */
export const USER_LIST_REQUEST_SIZE = ID_SIZE + SIG_SIZE;

/** CREATE step 3 / DELETE, client: uid | sig(uid) by the user-list auth key. */
export function userListRequest(uid: Uint8Array, sig: Signature): Uint8Array {
  need(uid, ID_SIZE, 'user-list id');
  return concat(uid, signWith(sig, uid));
}

/** Oracle: verify (when the list exists) with verifyDetached(storedPub, signed, sig). */
export function parseUserListRequest(buf: Uint8Array): { uid: Uint8Array } & Signed {
  expect(buf, USER_LIST_REQUEST_SIZE, 'user-list id | signature');
  return { uid: copyOf(buf, 0, ID_SIZE), signed: copyOf(buf, 0, ID_SIZE), sig: copyOf(buf, ID_SIZE) };
}

/** Head of a new-list message, upk | u16be len (34): read it, then blobBodySize(head.subarray(32)) + 64 more. */
export const NEW_USER_LIST_HEAD_SIZE = PK_SIZE + BLOB_PREFIX_SIZE;

/** New list, client: upk | u16be len | sealed | sig(upk | len | sealed). */
export function newUserList(upk: Uint8Array, sealed: Uint8Array, sig: Signature): Uint8Array {
  need(upk, PK_SIZE, 'user-list public key');
  const signed = concat(upk, encodeBlob(sealed));
  return concat(signed, signWith(sig, signed));
}

/** Oracle: verify with verifyDetached(pk, signed, sig); store `pk` and `blob` (= u16be len | sealed). */
export function parseNewUserList(buf: Uint8Array): { pk: Uint8Array; blob: Uint8Array; sealed: Uint8Array } & Signed {
  if (buf.length < NEW_USER_LIST_HEAD_SIZE) throw new ProtocolError('new user list too short');
  const len = readU16be(buf, PK_SIZE);
  checkSealedSize(len);
  expect(buf, NEW_USER_LIST_HEAD_SIZE + len + SIG_SIZE, 'new user list');
  const end = NEW_USER_LIST_HEAD_SIZE + len;
  return {
    pk: copyOf(buf, 0, PK_SIZE),
    blob: copyOf(buf, PK_SIZE, end),
    sealed: copyOf(buf, NEW_USER_LIST_HEAD_SIZE, end),
    signed: copyOf(buf, 0, end),
    sig: copyOf(buf, end),
  };
}

/** Existing list, client: u16be len | sealed | sig(len | sealed). */
export function updatedUserList(sealed: Uint8Array, sig: Signature): Uint8Array {
  const signed = encodeBlob(sealed);
  return concat(signed, signWith(sig, signed));
}

/** Oracle: verify with verifyDetached(storedPub, signed, sig); store `blob`. Read 2 bytes, then blobBodySize + 64. */
export function parseUpdatedUserList(buf: Uint8Array): { blob: Uint8Array; sealed: Uint8Array } & Signed {
  if (buf.length < BLOB_PREFIX_SIZE) throw new ProtocolError('user list too short');
  const len = readU16be(buf);
  checkSealedSize(len);
  expect(buf, BLOB_PREFIX_SIZE + len + SIG_SIZE, 'user list');
  const end = BLOB_PREFIX_SIZE + len;
  return { blob: copyOf(buf, 0, end), sealed: copyOf(buf, BLOB_PREFIX_SIZE, end), signed: copyOf(buf, 0, end), sig: copyOf(buf, end) };
}
