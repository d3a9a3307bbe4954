// Every fixed fact of the SPHINX v1 protocol (protocol.md), in one place.

/** Operation codes: the first byte of a request (protocol.md §1). */
export const Op = {
  CREATE: 0x00,
  READ: 0x33,
  UNDO: 0x55,
  GET: 0x66,
  COMMIT: 0x99,
  CHANGE: 0xaa,
  DELETE: 0xff,
  CHALLENGE_CREATE: 0x5a,
  CHALLENGE_VERIFY: 0xa5,
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];

/** Operations that must go through the Equihash puzzle. */
export const RATE_LIMITED_OPS: ReadonlySet<number> = new Set([Op.READ, Op.UNDO, Op.GET, Op.COMMIT, Op.CHANGE, Op.DELETE]);

export const OP_NAMES: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.entries(Op).map(([name, code]) => [code, name])),
);

/** The oracle's only error reply: "\x00\x04fail". */
export const FAIL = Uint8Array.of(0x00, 0x04, 0x66, 0x61, 0x69, 0x6c);
/** The oracle's success reply after a mutation. */
export const OK = Uint8Array.of(0x6f, 0x6b); // "ok"

/** Blob format version byte (sealed rules and user lists). */
export const VERSION = 0x00;

// Sizes (bytes).
export const ID_SIZE = 32;
export const POINT_SIZE = 32; // alpha, beta
export const SCALAR_SIZE = 32;
export const KEY_SIZE = 32; // record key, masterkey, oracle MAC key, seal key
export const RWD_SIZE = 32;
export const NONCE_SIZE = 32; // auth nonce sent by the oracle
export const SIG_SIZE = 64; // Ed25519 detached signature
export const PK_SIZE = 32; // Ed25519 public key
export const SEAL_NONCE_SIZE = 24; // XChaCha20-Poly1305 nonce
export const SEAL_TAG_SIZE = 16;
export const SEAL_OVERHEAD = 1 + SEAL_NONCE_SIZE + SEAL_TAG_SIZE; // version | nonce | ... | tag
export const RULE_PLAIN_SIZE = 38; // 6-byte packed integer | 32-byte xormask
export const RULE_SIZE = 79; // sealed rule blob
export const XORMASK_SIZE = 32;
/** op | id | alpha */
export const REQUEST_SIZE = 1 + ID_SIZE + POINT_SIZE; // 65
/** READ: op | id */
export const READ_REQUEST_SIZE = 1 + ID_SIZE; // 33
/** n(1) | k(1) | ts u64le */
export const CHALLENGE_HEAD_SIZE = 10;
export const MAC_SIZE = 32;
/** n | k | ts | mac: what the oracle sends after CHALLENGE_CREATE. */
export const CHALLENGE_SIZE = CHALLENGE_HEAD_SIZE + MAC_SIZE; // 42
/** Sealed user lists must stay below this (u16be length prefix). */
export const MAX_BLOB_SIZE = 0xffff;
/** Per-record rate-limit state file: level u8 | count u32le | ts u32le. */
export const DIFFICULTY_STATE_SIZE = 9;

/** Context strings of the client derivations (protocol.md §3). */
export const Ctx = {
  ENC: 'sphinx encryption key',
  SIGN: 'sphinx signing key',
  SALT: 'sphinx host salt',
  PASS: 'sphinx password context',
  CHECK: 'sphinx check digit context',
} as const;

/** The 33 symbols, in canonical order (bit 10+i of the packed rule). */
export const SYMBOLS = ' !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const DIGITS = '0123456789';

/** Argon2id parameters = libsodium crypto_pwhash INTERACTIVE, argon2id13. */
export const ARGON2 = {
  timeCost: 2,
  memoryCost: 65536, // KiB = 64 MiB
  parallelism: 1,
  hashLength: 32,
  version: 0x13,
  saltLength: 16,
} as const;

/** Equihash difficulty levels (k = 4 for all); timeout in seconds. */
export const DIFFICULTIES: ReadonlyArray<Readonly<{ n: number; k: number; timeout: number }>> = Object.freeze([
  { n: 60, k: 4, timeout: 1 },
  { n: 65, k: 4, timeout: 2 },
  { n: 70, k: 4, timeout: 4 },
  { n: 75, k: 4, timeout: 9 },
  { n: 80, k: 4, timeout: 16 },
  { n: 85, k: 4, timeout: 32 },
  { n: 90, k: 4, timeout: 80 },
  { n: 95, k: 4, timeout: 160 },
  { n: 100, k: 4, timeout: 320 },
  { n: 105, k: 4, timeout: 640 },
  { n: 110, k: 4, timeout: 1280 },
  { n: 115, k: 4, timeout: 2560 },
  { n: 120, k: 4, timeout: 5120 },
]);

/** Defaults of the [server] and [client] config sections (protocol.md §6). */
export const DEFAULT_PORT = 2355;
export const RATE_LIMIT_DEFAULTS = Object.freeze({ rl_decay: 1800, rl_threshold: 1, rl_gracetime: 10 });
