// The client's crypto before argon2 on the `get` path, without libsodium.
// Loading libsodium-wrappers-sumo costs ~40-60 ms of main-thread time, and on
// the GET path everything before the first byte sent (record id, OPRF
// blinding) and before argon2 (unblinding) is on the critical path. These few
// operations are small: keyed BLAKE2b (over shared/blake2b.ts's compression
// function) and ristretto255 (RFC 9496) over a small WebAssembly module for
// GF(2^255-19) (below: ~1 ms to compile and first use in a fresh process,
// then ~0.3 ms per scalar multiplication; bench/fastcrypto.ts). The rest of
// GET (rule opening, derive) runs while argon2 does.
//
// Byte-identical to libsodium (crypto_generichash, crypto_core_ristretto255_
// from_hash, crypto_scalarmult_ristretto255, scalar_invert), proven by
// test/client.fastcrypto.test.ts (oprf.json vectors; random and edge-case
// crosschecks against libsodium and @noble/curves).
//
// Side channels. The field and point arithmetic is WebAssembly i64 code with
// no branch and no memory address that depends on data: equality, sign and
// every selection are masks (cmov). The scalar multiplication uses fixed
// 4-bit signed windows, each doing the same work whatever the digit (4
// doublings, a masked scan of the whole 9-entry table, a masked negation, one
// complete addition); the digits are recoded arithmetically. The JS driving it
// passes secret digits and 0/1 flags as numbers and never branches on them.
// What is not constant-time: invertScalar is BigInt arithmetic, whose timing
// depends on the values, so it runs on r·u for a fresh random u (blinding)
// rather than on r; randomScalar compares its candidate with L as a BigInt;
// and WebAssembly gives no formal timing guarantee (i64.mul is constant-time
// on current x86-64 and ARMv8 cores). decode's validity branch depends on
// public data (a received point) or holds for every input (H0 is valid).
// Wiping: the module's memory (temporaries, points, table) is zeroed when each
// exported function returns, as are the byte arrays it owns; BigInts
// (invertScalar's) are immutable and cannot be wiped.
import { randomFillSync } from 'node:crypto';
import { compress, initState } from '../shared/blake2b.js';

// ------------------------------------------------------------------ BLAKE2b

/** BLAKE2b with an optional key (0..64 bytes) and outlen 1..64: libsodium crypto_generichash. */
export function blake2b(msg: Uint8Array, key: Uint8Array | null, outlen = 32): Uint8Array {
  const keylen = key ? key.length : 0;
  if (keylen > 64) throw new RangeError('blake2b: key longer than 64 bytes');
  const h = initState(outlen);
  h[0]! ^= keylen << 8;
  // keyed: the key padded to one 128-byte block comes first
  const data = new Uint8Array((keylen ? 128 : 0) + msg.length);
  if (keylen) data.set(key!, 0);
  data.set(msg, keylen ? 128 : 0);
  const m = new Int32Array(32);
  const len = data.length;
  const nblocks = Math.max(1, Math.ceil(len / 128));
  for (let b = 0; b < nblocks; b++) {
    const last = b === nblocks - 1;
    m.fill(0);
    const end = Math.min(len, b * 128 + 128);
    for (let i = b * 128; i < end; i++) {
      const j = i - b * 128;
      m[j >> 2]! |= data[i]! << ((j & 3) << 3);
    }
    compress(h, m, last ? len : (b + 1) * 128, last, h);
  }
  data.fill(0);
  m.fill(0);
  const out = new Uint8Array(outlen);
  for (let i = 0; i < outlen; i++) out[i] = (h[i >> 2]! >>> ((i & 3) << 3)) & 0xff;
  h.fill(0);
  return out;
}

// ------------------------------------------------------------------ BigInt helpers and constants

const P = (1n << 255n) - 19n;
/** The canonical representative in [0, P) of any integer. */
const canon = (x: bigint): bigint => ((x % P) + P) % P;

/** RFC 9496 constants (checked in the tests against their definitions). */
export const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;
export const SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752n;
export const SQRT_AD_MINUS_ONE = 25063068953384623474111414158702152701244531502492656460079210482610430750235n;
export const INVSQRT_A_MINUS_D = 54469307008909316920995813868745141605393597292927456921205312896311721017578n;
export const ONE_MINUS_D_SQ = 1159843021668779879193775521855586647937357759715417654439879720876111806838n;
export const D_MINUS_ONE_SQ = 40440834346308536858101042469323190826248399146238708352240133220865137265952n;
const D2 = (2n * D) % P;

/** 32 bytes little-endian → bigint (four 64-bit reads). */
function leInt(b: Uint8Array): bigint {
  const v = new DataView(b.buffer, b.byteOffset, 32);
  return v.getBigUint64(0, true) | (v.getBigUint64(8, true) << 64n) | (v.getBigUint64(16, true) << 128n) | (v.getBigUint64(24, true) << 192n);
}
/** 0 <= x < 2^256 → 32 bytes little-endian (setBigUint64 keeps the low 64 bits). */
function intLe(x: bigint): Uint8Array {
  const out = new Uint8Array(32);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, x, true);
  v.setBigUint64(8, x >> 64n, true);
  v.setBigUint64(16, x >> 128n, true);
  v.setBigUint64(24, x >> 192n, true);
  return out;
}

// ------------------------------------------------------------------ GF(2^255-19) in WebAssembly
//
// Why WebAssembly: `sphinx get` runs this code once per process, cold. With
// BigInt every field operation is a builtin call plus a heap allocation while
// the interpreter runs the formulas: ~2 ms per scalar multiplication even
// with a 4-bit window and addition chains, plus the young-generation
// collections its ~0.5 MB of garbage triggers (~1 ms each in a young
// process). The WebAssembly module compiles in ~0.3 ms (Liftoff) and then
// does i64 arithmetic without allocating. As in shared/blake2b.ts there is no
// toolchain: the module's bytes are emitted by the generators below; the CLI
// loads a copy of their output (FIELD_WASM, checked by the tests) because
// running the generators cold costs ~1.5 ms more.
//
// A field element is 10 signed 64-bit limbs in radix 2^25.5 (ref10's
// representation: limb i holds bits OFF[i] .. OFF[i]+W[i]-1), 80 bytes of the
// module's memory; the functions take byte addresses. Products sum the limb
// products with the 2^255 = 19 fold (ref10's fe_mul), then carry twice. Every
// stored element has limbs 1..9 in [0, 2^W[i]) and limb 0 in [-38, 2^26+38],
// which keeps every column sum of a product below 2^60 (no overflow).
// `freeze` is the only canonicalisation: [0, P) as 32 bytes little-endian.

const W = [26, 25, 26, 25, 26, 25, 26, 25, 26, 25];
const OFF = [0, 26, 51, 77, 102, 128, 153, 179, 204, 230];
const FE = 80; // bytes per field element
const PT = 4 * FE; // a point X, Y, Z, T; or a cached point Y+X, Y-X, 2Z, 2dT

// Memory map (one 64 KiB page). Bytes 0..127: four 32-byte buffers, then
// field-element slots. Everything from byte 0 up to MEM_END except the
// constants is wiped (zeroed) when a public function returns.
const IO0 = 0; // bytes in/out
const IO1 = 32;
const FRZ1 = 64; // scratch of iseq / isneg
const FRZ2 = 96;
const slot = (k: number): number => 128 + FE * k;
const C_ZERO = slot(0); // constants: the module's data segment
const C_ONE = slot(1);
const C_MINUS_ONE = slot(2);
const C_D = slot(3);
const C_D2 = slot(4);
const C_SQRT_M1 = slot(5);
const C_SQRT_AD_MINUS_ONE = slot(6);
const C_INVSQRT_A_MINUS_D = slot(7);
const C_ONE_MINUS_D_SQ = slot(8);
const C_D_MINUS_ONE_SQ = slot(9);
const CONST_END = slot(10);
const S0 = slot(10); // scratch of the WebAssembly point functions: slots 10..18
const ABS_TMP = slot(19); // ctAbs, ctNeg
const POW = slot(20); // JS-side temporaries: each function owns a range
const SQR = slot(24);
const DEC = slot(32);
const ENC = slot(42);
const ELL = slot(56);
const P1 = slot(70); // points
const P2 = slot(74);
const ACC = slot(78);
const SEL = slot(82);
const TAB = slot(86); // 9 cached points: 0·p .. 8·p
const Q = slot(122); // j·p for j = 2..8 while the table is built: Q + (j-2)·PT
const MEM_END = slot(150);

// ---- a minimal WebAssembly assembler
//
// It writes straight into one byte array (plain functions over module state).
// The tests run it and compare its output with FIELD_WASM; when a generator
// changes, the failing test prints the new FIELD_WASM to paste in.

let out = new Uint8Array(0);
let at = 0;
/** parameters and i32 locals of the function being written: its i64 local k is np + ni + k */
let np = 0;
let ni = 0;

function byte(b: number): void {
  out[at++] = b;
}
function bytes(bs: readonly number[]): void {
  for (let i = 0; i < bs.length; i++) out[at++] = bs[i]!;
}
function uleb(n: number): void {
  while (n > 0x7f) {
    out[at++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[at++] = n;
}
function sleb(n: number): void {
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out[at++] = b;
      return;
    }
    out[at++] = b | 0x80;
  }
}
/** Room for a size (a 3-byte LEB128, patched by `patch`). */
function reserve(): number {
  at += 3;
  return at;
}
function patch(start: number): void {
  const n = at - start;
  out[start - 3] = (n & 0x7f) | 0x80;
  out[start - 2] = ((n >>> 7) & 0x7f) | 0x80;
  out[start - 1] = n >>> 14;
}

// opcodes
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_AND = 0x71;
const I32_XOR = 0x73;
const I32_SHR_U = 0x76;
const I32_EQ = 0x46;
const I32_LE_S = 0x4c;
const I64_EQZ = 0x50;
const I64_ADD = 0x7c;
const I64_SUB = 0x7d;
const I64_MUL = 0x7e;
const I64_AND = 0x83;
const I64_OR = 0x84;
const I64_XOR = 0x85;
const I64_SHL = 0x86;
const I64_SHR_S = 0x87;
const I64_SHR_U = 0x88;
const I64_EXTEND_I32_U = 0xad;

/** Start a function body with `params` i32 parameters, `i32s` i32 locals and `i64s` i64 locals. */
function begin(params: number, i32s: number, i64s: number): number {
  const start = reserve();
  np = params;
  ni = i32s;
  byte((i32s ? 1 : 0) + (i64s ? 1 : 0));
  if (i32s) {
    uleb(i32s);
    byte(0x7f);
  }
  if (i64s) {
    uleb(i64s);
    byte(0x7e);
  }
  return start;
}
function end(start: number): void {
  byte(0x0b);
  patch(start);
}
/** the index of i64 local k */
const l = (k: number): number => np + ni + k;
function get(x: number): void {
  byte(0x20);
  uleb(x);
}
function set(x: number): void {
  byte(0x21);
  uleb(x);
}
function i32(n: number): void {
  byte(0x41);
  sleb(n);
}
function i64(n: number): void {
  byte(0x42);
  sleb(n);
}
/** push the address in local x plus off */
function addr(x: number, off: number): void {
  get(x);
  if (off !== 0) {
    i32(off);
    byte(I32_ADD);
  }
}
/** i64.load [local x + off] */
function load(x: number, off: number): void {
  get(x);
  byte(0x29);
  byte(3);
  uleb(off);
}
/** i64.store (address and value already pushed) at + off */
function storeOp(off: number): void {
  byte(0x37);
  byte(3);
  uleb(off);
}
function call(f: number): void {
  byte(0x10);
  uleb(f);
}

// function indices, in module order
const F_MUL = 0;
const F_ADD = 1;
const F_SUB = 2;
const F_CMOV = 3;
const F_SQN = 4;
const F_FREEZE = 5;
const F_FROMBYTES = 6;
const F_DBL = 7;
const F_TOCACHED = 8;
const F_ADDC = 9;
const F_SELECT = 10;
const F_ISNEG = 11;
const F_ISEQ = 12;

/** One carry pass over the limbs in i64 locals h..h+9 (floor carries); the carry out of limb 9 folds back as 19·c, or is dropped. */
function carry(h: number, c: number, fold: boolean): void {
  for (let i = 0; i < 10; i++) {
    get(h + i);
    i64(W[i]!);
    byte(I64_SHR_S);
    set(c);
    get(h + i);
    i64(2 ** W[i]! - 1);
    byte(I64_AND);
    set(h + i);
    if (i < 9) {
      get(h + i + 1);
      get(c);
      byte(I64_ADD);
      set(h + i + 1);
    } else if (fold) {
      get(h);
      get(c);
      i64(19);
      byte(I64_MUL);
      byte(I64_ADD);
      set(h);
    }
  }
}
/** i64 locals h..h+9 = the limbs at [param x] */
function loadFe(x: number, h: number): void {
  for (let i = 0; i < 10; i++) {
    load(x, 8 * i);
    set(h + i);
  }
}
/** the limbs at [param o] = i64 locals h..h+9 */
function storeFe(o: number, h: number): void {
  for (let i = 0; i < 10; i++) {
    get(o);
    get(h + i);
    storeOp(8 * i);
  }
}

/** mul(o, a, b): o = a·b (o may be a or b). */
function genMul(): void {
  const s = begin(3, 0, 45);
  const f = l(0); // f0..f9
  const g = l(10); // g0..g9
  const g19 = l(19); // g19 + j = 19·g[j], j = 1..9
  const f2 = l(29); // f2 + (i >> 1) = 2·f[i], odd i
  const h = l(34); // h0..h9
  const c = l(44);
  loadFe(1, f);
  loadFe(2, g);
  for (let j = 1; j < 10; j++) {
    get(g + j);
    i64(19);
    byte(I64_MUL);
    set(g19 + j);
  }
  for (let i = 1; i < 10; i += 2) {
    get(f + i);
    get(f + i);
    byte(I64_ADD);
    set(f2 + (i >> 1));
  }
  // h[k] = sum over i of f[i]·g[j], j = k - i mod 10: doubled when i and j are
  // both odd (OFF[i] + OFF[j] = OFF[i+j] + 1), times 19 when i + j >= 10
  for (let k = 0; k < 10; k++) {
    for (let i = 0; i < 10; i++) {
      const j = (k - i + 10) % 10;
      get((i & j & 1) === 1 ? f2 + (i >> 1) : f + i);
      get(i + j >= 10 ? g19 + j : g + j);
      byte(I64_MUL);
      if (i > 0) byte(I64_ADD);
    }
    set(h + k);
  }
  carry(h, c, true);
  carry(h, c, true);
  storeFe(0, h);
  end(s);
}

/** add(o, a, b) / sub(o, a, b): limb-wise, then one carry pass. */
function genAddSub(opcode: number): void {
  const s = begin(3, 0, 11);
  const h = l(0);
  for (let i = 0; i < 10; i++) {
    load(1, 8 * i);
    load(2, 8 * i);
    byte(opcode);
    set(h + i);
  }
  carry(h, l(10), true);
  storeFe(0, h);
  end(s);
}

/** cmov(o, a, flag): o = a if flag is 1, unchanged if 0 (by mask, no branch). */
function genCmov(): void {
  const s = begin(3, 0, 2);
  const m = l(0);
  const t = l(1);
  i64(0);
  get(2);
  byte(I64_EXTEND_I32_U);
  byte(I64_SUB);
  set(m); // 0 or -1
  for (let i = 0; i < 10; i++) {
    load(0, 8 * i);
    set(t);
    get(0);
    get(t);
    load(1, 8 * i);
    get(t);
    byte(I64_XOR);
    get(m);
    byte(I64_AND);
    byte(I64_XOR);
    storeOp(8 * i); // o ^ ((o ^ a) & m)
  }
  end(s);
}

/** sqn(o, a, n): o = a^(2^n), n >= 1 (public). */
function genSqn(): void {
  const s = begin(3, 0, 0);
  get(0);
  get(1);
  get(1);
  call(F_MUL);
  bytes([0x02, 0x40, 0x03, 0x40]); // block, loop
  get(2);
  i32(1);
  bytes([I32_LE_S, 0x0d, 1]); // br_if out when n <= 1
  get(0);
  get(0);
  get(0);
  call(F_MUL);
  get(2);
  i32(1);
  byte(I32_SUB);
  set(2);
  bytes([0x0c, 0, 0x0b, 0x0b]); // br loop; end; end
  end(s);
}

/**
 * freeze(out, a): a's canonical value in [0, P), 32 bytes LE at out. A
 * folding carry pass leaves limbs 1..9 in range, limb 0 in [0, 2^26 + 18] and
 * the value V in [0, 2^255 + 18] (one pass is enough from within the bounds;
 * the second is margin). q = (V + 19) >> 255 is 1 exactly when V >= P; the
 * result is V + 19q with bit 255 dropped. No branch.
 */
function genFreeze(): void {
  const s = begin(2, 0, 15);
  const h = l(0);
  const c = l(10);
  const w = l(11); // four 64-bit output words
  loadFe(1, h);
  carry(h, c, true);
  carry(h, c, true);
  get(h);
  i64(19);
  byte(I64_ADD);
  i64(26);
  byte(I64_SHR_S);
  set(c);
  for (let i = 1; i < 10; i++) {
    get(h + i);
    get(c);
    byte(I64_ADD);
    i64(W[i]!);
    byte(I64_SHR_S);
    set(c);
  }
  get(h);
  get(c);
  i64(19);
  byte(I64_MUL);
  byte(I64_ADD);
  set(h);
  carry(h, c, false);
  for (let k = 0; k < 4; k++) {
    i64(0);
    set(w + k);
  }
  for (let i = 0; i < 10; i++) {
    const k = OFF[i]! >> 6;
    const sh = OFF[i]! & 63;
    get(w + k);
    get(h + i);
    i64(sh);
    byte(I64_SHL);
    byte(I64_OR);
    set(w + k);
    if (sh + W[i]! > 64) {
      get(w + k + 1);
      get(h + i);
      i64(64 - sh);
      byte(I64_SHR_U);
      byte(I64_OR);
      set(w + k + 1);
    }
  }
  for (let k = 0; k < 4; k++) {
    get(0);
    get(w + k);
    storeOp(8 * k);
  }
  end(s);
}

/** frombytes(o, in): the 32 bytes LE at in, bit 255 ignored (as libsodium's fe25519_frombytes). */
function genFrombytes(): void {
  const s = begin(2, 0, 4);
  const w = l(0);
  for (let k = 0; k < 4; k++) {
    load(1, 8 * k);
    set(w + k);
  }
  for (let i = 0; i < 10; i++) {
    const k = OFF[i]! >> 6;
    const sh = OFF[i]! & 63;
    get(0);
    get(w + k);
    i64(sh);
    byte(I64_SHR_U);
    if (sh + W[i]! > 64) {
      get(w + k + 1);
      i64(64 - sh);
      byte(I64_SHL);
      byte(I64_OR);
    }
    i64(2 ** W[i]! - 1);
    byte(I64_AND);
    storeOp(8 * i);
  }
  end(s);
}

// scratch of the point functions
const S_A = S0;
const S_B = S0 + FE;
const S_C = S0 + 2 * FE;
const S_D = S0 + 3 * FE;
const S_E = S0 + 4 * FE;
const S_F = S0 + 5 * FE;
const S_G = S0 + 6 * FE;
const S_H = S0 + 7 * FE;
const S_TMP = S0 + 8 * FE;

/** push the address of field element k of the point at parameter x */
const pa = (x: number, k: number): void => addr(x, k * FE);

/**
 * dbl(o, p): o = 2p, extended coordinates (o may be p). dbl-2008-hwcd with
 * a = -1, every output negated (the same projective point) so that each is a
 * plain product: A = X², B = Y², S = A+B, G = B-A, F = 2Z² - G, E = (X+Y)² - S;
 * X' = E·F, Y' = G·S, Z' = F·G, T' = E·S. T is not read.
 */
function genDbl(): void {
  const s = begin(2, 0, 0);
  i32(S_A), pa(1, 0), pa(1, 0), call(F_MUL); // A = X²
  i32(S_B), pa(1, 1), pa(1, 1), call(F_MUL); // B = Y²
  i32(S_C), i32(S_A), i32(S_B), call(F_ADD); // S = A + B
  i32(S_G), i32(S_B), i32(S_A), call(F_SUB); // G = B - A
  i32(S_F), pa(1, 2), pa(1, 2), call(F_MUL); // Z²
  i32(S_F), i32(S_F), i32(S_F), call(F_ADD); // 2Z²
  i32(S_F), i32(S_F), i32(S_G), call(F_SUB); // F = 2Z² - G
  i32(S_E), pa(1, 0), pa(1, 1), call(F_ADD); // X + Y
  i32(S_E), i32(S_E), i32(S_E), call(F_MUL); // (X + Y)²
  i32(S_E), i32(S_E), i32(S_C), call(F_SUB); // E = (X + Y)² - S
  pa(0, 0), i32(S_E), i32(S_F), call(F_MUL);
  pa(0, 1), i32(S_G), i32(S_C), call(F_MUL);
  pa(0, 2), i32(S_F), i32(S_G), call(F_MUL);
  pa(0, 3), i32(S_E), i32(S_C), call(F_MUL);
  end(s);
}

/** tocached(c, p): c = (Y+X, Y-X, 2Z, 2dT) of the extended point p (c is not p). */
function genToCached(): void {
  const s = begin(2, 0, 0);
  pa(0, 0), pa(1, 1), pa(1, 0), call(F_ADD);
  pa(0, 1), pa(1, 1), pa(1, 0), call(F_SUB);
  pa(0, 2), pa(1, 2), pa(1, 2), call(F_ADD);
  pa(0, 3), pa(1, 3), i32(C_D2), call(F_MUL);
  end(s);
}

/** addc(o, p, c): o = p + c, p extended, c cached (o may be p). add-2008-hwcd-3, complete. */
function genAddc(): void {
  const s = begin(3, 0, 0);
  i32(S_A), pa(1, 1), pa(1, 0), call(F_SUB); // Y1 - X1
  i32(S_A), i32(S_A), pa(2, 1), call(F_MUL); // A = (Y1 - X1)(Y2 - X2)
  i32(S_B), pa(1, 1), pa(1, 0), call(F_ADD);
  i32(S_B), i32(S_B), pa(2, 0), call(F_MUL); // B = (Y1 + X1)(Y2 + X2)
  i32(S_C), pa(1, 3), pa(2, 3), call(F_MUL); // C = T1 · 2d T2
  i32(S_D), pa(1, 2), pa(2, 2), call(F_MUL); // D = Z1 · 2 Z2
  i32(S_E), i32(S_B), i32(S_A), call(F_SUB); // E = B - A
  i32(S_F), i32(S_D), i32(S_C), call(F_SUB); // F = D - C
  i32(S_G), i32(S_D), i32(S_C), call(F_ADD); // G = D + C
  i32(S_H), i32(S_B), i32(S_A), call(F_ADD); // H = B + A
  pa(0, 0), i32(S_E), i32(S_F), call(F_MUL);
  pa(0, 1), i32(S_G), i32(S_H), call(F_MUL);
  pa(0, 2), i32(S_F), i32(S_G), call(F_MUL);
  pa(0, 3), i32(S_E), i32(S_H), call(F_MUL);
  end(s);
}

/**
 * select(o, tab, d): o = d·p as a cached point, for d in [-8, 8] and tab the
 * cached 0·p .. 8·p. Every entry is read and moved under a mask (|d| = j);
 * a negative d then swaps Y+X and Y-X and negates 2dT, under masks too.
 */
function genSelect(): void {
  const s = begin(3, 2, 0);
  const neg = np;
  const abs = np + 1;
  get(2), i32(31), byte(I32_SHR_U), set(neg); // 1 when d < 0
  get(2), i32(0), get(neg), byte(I32_SUB), byte(I32_XOR), get(neg), byte(I32_ADD), set(abs); // |d|
  for (let j = 0; j < 9; j++) {
    for (let k = 0; k < 4; k++) {
      pa(0, k), addr(1, j * PT + k * FE);
      if (j === 0) i32(1);
      else get(abs), i32(j), byte(I32_EQ);
      call(F_CMOV);
    }
  }
  i32(S_TMP), pa(0, 0), i32(1), call(F_CMOV); // TMP = Y+X
  pa(0, 0), pa(0, 1), get(neg), call(F_CMOV);
  pa(0, 1), i32(S_TMP), get(neg), call(F_CMOV);
  i32(S_TMP), i32(C_ZERO), pa(0, 3), call(F_SUB); // -2dT
  pa(0, 3), i32(S_TMP), get(neg), call(F_CMOV);
  end(s);
}

/** isneg(a) -> the low bit of a's canonical value. */
function genIsneg(): void {
  const s = begin(1, 0, 0);
  i32(FRZ1), get(0), call(F_FREEZE);
  i32(FRZ1), bytes([0x2d, 0, 0]), i32(1), byte(I32_AND); // i32.load8_u & 1
  end(s);
}

/** iseq(a, b) -> 1 when a = b mod P, else 0 (XOR/OR over the canonical bytes). */
function genIseq(): void {
  const s = begin(2, 0, 1);
  const r = l(0);
  i32(FRZ1), get(0), call(F_FREEZE);
  i32(FRZ2), get(1), call(F_FREEZE);
  i64(0), set(r);
  for (let k = 0; k < 4; k++) {
    get(r), i32(FRZ1), bytes([0x29, 3, 8 * k]), i32(FRZ2), bytes([0x29, 3, 8 * k]);
    byte(I64_XOR), byte(I64_OR), set(r);
  }
  get(r), byte(I64_EQZ);
  end(s);
}

/**
 * The module: memory "M" (one page) holding the constants (a data segment),
 * and the functions above, exported as "a", "b", ... in index order.
 */
function buildFieldModule(): Uint8Array {
  out = new Uint8Array(8192);
  at = 0;
  bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  // types: 0 (i32 i32 i32) -> (); 1 (i32 i32) -> (); 2 (i32) -> i32; 3 (i32 i32) -> i32
  bytes([1, 23, 4, 0x60, 3, 0x7f, 0x7f, 0x7f, 0, 0x60, 2, 0x7f, 0x7f, 0, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 2, 0x7f, 0x7f, 1, 0x7f]);
  bytes([3, 14, 13, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 2, 3]); // functions' types, in index order
  bytes([5, 3, 1, 0x00, 1]); // memory 0: one page
  bytes([7, 57, 14, 1, 0x4d, 0x02, 0]); // exports: "M" = memory 0, then
  for (let i = 0; i < 13; i++) bytes([1, 0x61 + i, 0x00, i]); // "a".."m" = functions 0..12
  byte(10);
  const code = reserve();
  byte(13);
  genMul();
  genAddSub(I64_ADD);
  genAddSub(I64_SUB);
  genCmov();
  genSqn();
  genFreeze();
  genFrombytes();
  genDbl();
  genToCached();
  genAddc();
  genSelect();
  genIsneg();
  genIseq();
  patch(code);
  // data: the constants' limbs at C_ONE .. CONST_END (C_ZERO is zero memory)
  byte(11);
  const data = reserve();
  bytes([1, 0x00]);
  i32(C_ONE);
  byte(0x0b);
  uleb(CONST_END - C_ONE);
  for (const x of [1n, P - 1n, D, D2, SQRT_M1, SQRT_AD_MINUS_ONE, INVSQRT_A_MINUS_D, ONE_MINUS_D_SQ, D_MINUS_ONE_SQ]) {
    for (let i = 0; i < 10; i++) {
      const limb = Number((x >> BigInt(OFF[i]!)) & ((1n << BigInt(W[i]!)) - 1n));
      bytes([limb & 0xff, (limb >>> 8) & 0xff, (limb >>> 16) & 0xff, limb >>> 24, 0, 0, 0, 0]);
    }
  }
  patch(data);
  if (at > out.length) throw new Error('buildFieldModule: the module outgrew its buffer');
  const mod = out.slice(0, at);
  out = new Uint8Array(0);
  return mod;
}

/**
 * buildFieldModule()'s output (base64, whitespace ignored): what fld()
 * compiles. Running the generator in a cold process costs ~1.5 ms of
 * interpreted JS, so the CLI loads this copy; test/client.fastcrypto.test.ts
 * asserts that it is byte-identical to buildFieldModule(), and prints the new
 * value when a generator changes. Read the generators, not this.
 */
const FIELD_WASM = `
AGFzbQEAAAABFwRgA39/fwBgAn9/AGABfwF/YAJ/fwF/Aw4NAAAAAAABAQEBAAACAwUDAQABBzkOAU0CAAFhAAABYgABAWMAAgFk
AAMBZQAEAWYABQFnAAYBaAAHAWkACAFqAAkBawAKAWwACwFtAAwKvqgADYCLAAEtfiABKQMAIQMgASkDCCEEIAEpAxAhBSABKQMY
IQYgASkDICEHIAEpAyghCCABKQMwIQkgASkDOCEKIAEpA0AhCyABKQNIIQwgAikDACENIAIpAwghDiACKQMQIQ8gAikDGCEQIAIp
AyAhESACKQMoIRIgAikDMCETIAIpAzghFCACKQNAIRUgAikDSCEWIA5CE34hFyAPQhN+IRggEEITfiEZIBFCE34hGiASQhN+IRsg
E0ITfiEcIBRCE34hHSAVQhN+IR4gFkITfiEfIAQgBHwhICAGIAZ8ISEgCCAIfCEiIAogCnwhIyAMIAx8ISQgAyANfiAgIB9+fCAF
IB5+fCAhIB1+fCAHIBx+fCAiIBt+fCAJIBp+fCAjIBl+fCALIBh+fCAkIBd+fCElIAMgDn4gBCANfnwgBSAffnwgBiAefnwgByAd
fnwgCCAcfnwgCSAbfnwgCiAafnwgCyAZfnwgDCAYfnwhJiADIA9+ICAgDn58IAUgDX58ICEgH358IAcgHn58ICIgHX58IAkgHH58
ICMgG358IAsgGn58ICQgGX58IScgAyAQfiAEIA9+fCAFIA5+fCAGIA1+fCAHIB9+fCAIIB5+fCAJIB1+fCAKIBx+fCALIBt+fCAM
IBp+fCEoIAMgEX4gICAQfnwgBSAPfnwgISAOfnwgByANfnwgIiAffnwgCSAefnwgIyAdfnwgCyAcfnwgJCAbfnwhKSADIBJ+IAQg
EX58IAUgEH58IAYgD358IAcgDn58IAggDX58IAkgH358IAogHn58IAsgHX58IAwgHH58ISogAyATfiAgIBJ+fCAFIBF+fCAhIBB+
fCAHIA9+fCAiIA5+fCAJIA1+fCAjIB9+fCALIB5+fCAkIB1+fCErIAMgFH4gBCATfnwgBSASfnwgBiARfnwgByAQfnwgCCAPfnwg
CSAOfnwgCiANfnwgCyAffnwgDCAefnwhLCADIBV+ICAgFH58IAUgE358ICEgEn58IAcgEX58ICIgEH58IAkgD358ICMgDn58IAsg
DX58ICQgH358IS0gAyAWfiAEIBV+fCAFIBR+fCAGIBN+fCAHIBJ+fCAIIBF+fCAJIBB+fCAKIA9+fCALIA5+fCAMIA1+fCEuICVC
GochLyAlQv///x+DISUgJiAvfCEmICZCGYchLyAmQv///w+DISYgJyAvfCEnICdCGochLyAnQv///x+DIScgKCAvfCEoIChCGYch
LyAoQv///w+DISggKSAvfCEpIClCGochLyApQv///x+DISkgKiAvfCEqICpCGYchLyAqQv///w+DISogKyAvfCErICtCGochLyAr
Qv///x+DISsgLCAvfCEsICxCGYchLyAsQv///w+DISwgLSAvfCEtIC1CGochLyAtQv///x+DIS0gLiAvfCEuIC5CGYchLyAuQv//
/w+DIS4gJSAvQhN+fCElICVCGochLyAlQv///x+DISUgJiAvfCEmICZCGYchLyAmQv///w+DISYgJyAvfCEnICdCGochLyAnQv//
/x+DIScgKCAvfCEoIChCGYchLyAoQv///w+DISggKSAvfCEpIClCGochLyApQv///x+DISkgKiAvfCEqICpCGYchLyAqQv///w+D
ISogKyAvfCErICtCGochLyArQv///x+DISsgLCAvfCEsICxCGYchLyAsQv///w+DISwgLSAvfCEtIC1CGochLyAtQv///x+DIS0g
LiAvfCEuIC5CGYchLyAuQv///w+DIS4gJSAvQhN+fCElIAAgJTcDACAAICY3AwggACAnNwMQIAAgKDcDGCAAICk3AyAgACAqNwMo
IAAgKzcDMCAAICw3AzggACAtNwNAIAAgLjcDSAu/gwABC34gASkDACACKQMAfCEDIAEpAwggAikDCHwhBCABKQMQIAIpAxB8IQUg
ASkDGCACKQMYfCEGIAEpAyAgAikDIHwhByABKQMoIAIpAyh8IQggASkDMCACKQMwfCEJIAEpAzggAikDOHwhCiABKQNAIAIpA0B8
IQsgASkDSCACKQNIfCEMIANCGochDSADQv///x+DIQMgBCANfCEEIARCGYchDSAEQv///w+DIQQgBSANfCEFIAVCGochDSAFQv//
/x+DIQUgBiANfCEGIAZCGYchDSAGQv///w+DIQYgByANfCEHIAdCGochDSAHQv///x+DIQcgCCANfCEIIAhCGYchDSAIQv///w+D
IQggCSANfCEJIAlCGochDSAJQv///x+DIQkgCiANfCEKIApCGYchDSAKQv///w+DIQogCyANfCELIAtCGochDSALQv///x+DIQsg
DCANfCEMIAxCGYchDSAMQv///w+DIQwgAyANQhN+fCEDIAAgAzcDACAAIAQ3AwggACAFNwMQIAAgBjcDGCAAIAc3AyAgACAINwMo
IAAgCTcDMCAAIAo3AzggACALNwNAIAAgDDcDSAu/gwABC34gASkDACACKQMAfSEDIAEpAwggAikDCH0hBCABKQMQIAIpAxB9IQUg
ASkDGCACKQMYfSEGIAEpAyAgAikDIH0hByABKQMoIAIpAyh9IQggASkDMCACKQMwfSEJIAEpAzggAikDOH0hCiABKQNAIAIpA0B9
IQsgASkDSCACKQNIfSEMIANCGochDSADQv///x+DIQMgBCANfCEEIARCGYchDSAEQv///w+DIQQgBSANfCEFIAVCGochDSAFQv//
/x+DIQUgBiANfCEGIAZCGYchDSAGQv///w+DIQYgByANfCEHIAdCGochDSAHQv///x+DIQcgCCANfCEIIAhCGYchDSAIQv///w+D
IQggCSANfCEJIAlCGochDSAJQv///x+DIQkgCiANfCEKIApCGYchDSAKQv///w+DIQogCyANfCELIAtCGochDSALQv///x+DIQsg
DCANfCEMIAxCGYchDSAMQv///w+DIQwgAyANQhN+fCEDIAAgAzcDACAAIAQ3AwggACAFNwMQIAAgBjcDGCAAIAc3AyAgACAINwMo
IAAgCTcDMCAAIAo3AzggACALNwNAIAAgDDcDSAuQggABAn5CACACrX0hAyAAKQMAIQQgACAEIAEpAwAgBIUgA4OFNwMAIAApAwgh
BCAAIAQgASkDCCAEhSADg4U3AwggACkDECEEIAAgBCABKQMQIASFIAODhTcDECAAKQMYIQQgACAEIAEpAxggBIUgA4OFNwMYIAAp
AyAhBCAAIAQgASkDICAEhSADg4U3AyAgACkDKCEEIAAgBCABKQMoIASFIAODhTcDKCAAKQMwIQQgACAEIAEpAzAgBIUgA4OFNwMw
IAApAzghBCAAIAQgASkDOCAEhSADg4U3AzggACkDQCEEIAAgBCABKQNAIASFIAODhTcDQCAAKQNIIQQgACAEIAEpA0ggBIUgA4OF
NwNIC6iAAAAgACABIAEQAAJAA0AgAkEBTA0BIAAgACAAEAAgAkEBayECDAALCwuriAABD34gASkDACECIAEpAwghAyABKQMQIQQg
ASkDGCEFIAEpAyAhBiABKQMoIQcgASkDMCEIIAEpAzghCSABKQNAIQogASkDSCELIAJCGochDCACQv///x+DIQIgAyAMfCEDIANC
GYchDCADQv///w+DIQMgBCAMfCEEIARCGochDCAEQv///x+DIQQgBSAMfCEFIAVCGYchDCAFQv///w+DIQUgBiAMfCEGIAZCGoch
DCAGQv///x+DIQYgByAMfCEHIAdCGYchDCAHQv///w+DIQcgCCAMfCEIIAhCGochDCAIQv///x+DIQggCSAMfCEJIAlCGYchDCAJ
Qv///w+DIQkgCiAMfCEKIApCGochDCAKQv///x+DIQogCyAMfCELIAtCGYchDCALQv///w+DIQsgAiAMQhN+fCECIAJCGochDCAC
Qv///x+DIQIgAyAMfCEDIANCGYchDCADQv///w+DIQMgBCAMfCEEIARCGochDCAEQv///x+DIQQgBSAMfCEFIAVCGYchDCAFQv//
/w+DIQUgBiAMfCEGIAZCGochDCAGQv///x+DIQYgByAMfCEHIAdCGYchDCAHQv///w+DIQcgCCAMfCEIIAhCGochDCAIQv///x+D
IQggCSAMfCEJIAlCGYchDCAJQv///w+DIQkgCiAMfCEKIApCGochDCAKQv///x+DIQogCyAMfCELIAtCGYchDCALQv///w+DIQsg
AiAMQhN+fCECIAJCE3xCGochDCADIAx8QhmHIQwgBCAMfEIahyEMIAUgDHxCGYchDCAGIAx8QhqHIQwgByAMfEIZhyEMIAggDHxC
GochDCAJIAx8QhmHIQwgCiAMfEIahyEMIAsgDHxCGYchDCACIAxCE358IQIgAkIahyEMIAJC////H4MhAiADIAx8IQMgA0IZhyEM
IANC////D4MhAyAEIAx8IQQgBEIahyEMIARC////H4MhBCAFIAx8IQUgBUIZhyEMIAVC////D4MhBSAGIAx8IQYgBkIahyEMIAZC
////H4MhBiAHIAx8IQcgB0IZhyEMIAdC////D4MhByAIIAx8IQggCEIahyEMIAhC////H4MhCCAJIAx8IQkgCUIZhyEMIAlC////
D4MhCSAKIAx8IQogCkIahyEMIApC////H4MhCiALIAx8IQsgC0IZhyEMIAtC////D4MhC0IAIQ1CACEOQgAhD0IAIRAgDSACQgCG
hCENIA0gA0IahoQhDSANIARCM4aEIQ0gDiAEQg2IhCEOIA4gBUINhoQhDiAOIAZCJoaEIQ4gDyAHQgCGhCEPIA8gCEIZhoQhDyAP
IAlCM4aEIQ8gECAJQg2IhCEQIBAgCkIMhoQhECAQIAtCJoaEIRAgACANNwMAIAAgDjcDCCAAIA83AxAgACAQNwMYC8yBAAEEfiAB
KQMAIQIgASkDCCEDIAEpAxAhBCABKQMYIQUgACACQgCIQv///x+DNwMAIAAgAkIaiEL///8PgzcDCCAAIAJCM4ggA0INhoRC////
H4M3AxAgACADQg2IQv///w+DNwMYIAAgA0ImiEL///8fgzcDICAAIARCAIhC////D4M3AyggACAEQhmIQv///x+DNwMwIAAgBEIz
iCAFQg2GhEL///8PgzcDOCAAIAVCDIhC////H4M3A0AgACAFQiaIQv///w+DNwNIC7CBAABBoAcgASABEABB8AcgAUHQAGogAUHQ
AGoQAEHACEGgB0HwBxABQYALQfAHQaAHEAJBsAogAUGgAWogAUGgAWoQAEGwCkGwCkGwChABQbAKQbAKQYALEAJB4AkgASABQdAA
ahABQeAJQeAJQeAJEABB4AlB4AlBwAgQAiAAQeAJQbAKEAAgAEHQAGpBgAtBwAgQACAAQaABakGwCkGACxAAIABB8AFqQeAJQcAI
EAALw4AAACAAIAFB0ABqIAEQASAAQdAAaiABQdAAaiABEAIgAEGgAWogAUGgAWogAUGgAWoQASAAQfABaiABQfABakHAAxAAC7aB
AABBoAcgAUHQAGogARACQaAHQaAHIAJB0ABqEABB8AcgAUHQAGogARABQfAHQfAHIAIQAEHACCABQfABaiACQfABahAAQZAJIAFB
oAFqIAJBoAFqEABB4AlB8AdBoAcQAkGwCkGQCUHACBACQYALQZAJQcAIEAFB0AtB8AdBoAcQASAAQeAJQbAKEAAgAEHQAGpBgAtB
0AsQACAAQaABakGwCkGACxAAIABB8AFqQeAJQdALEAALzYUAAQJ/IAJBH3YhAyACQQAgA2tzIANqIQQgACABQQEQAyAAQdAAaiAB
QdAAakEBEAMgAEGgAWogAUGgAWpBARADIABB8AFqIAFB8AFqQQEQAyAAIAFBwAJqIARBAUYQAyAAQdAAaiABQZADaiAEQQFGEAMg
AEGgAWogAUHgA2ogBEEBRhADIABB8AFqIAFBsARqIARBAUYQAyAAIAFBgAVqIARBAkYQAyAAQdAAaiABQdAFaiAEQQJGEAMgAEGg
AWogAUGgBmogBEECRhADIABB8AFqIAFB8AZqIARBAkYQAyAAIAFBwAdqIARBA0YQAyAAQdAAaiABQZAIaiAEQQNGEAMgAEGgAWog
AUHgCGogBEEDRhADIABB8AFqIAFBsAlqIARBA0YQAyAAIAFBgApqIARBBEYQAyAAQdAAaiABQdAKaiAEQQRGEAMgAEGgAWogAUGg
C2ogBEEERhADIABB8AFqIAFB8AtqIARBBEYQAyAAIAFBwAxqIARBBUYQAyAAQdAAaiABQZANaiAEQQVGEAMgAEGgAWogAUHgDWog
BEEFRhADIABB8AFqIAFBsA5qIARBBUYQAyAAIAFBgA9qIARBBkYQAyAAQdAAaiABQdAPaiAEQQZGEAMgAEGgAWogAUGgEGogBEEG
RhADIABB8AFqIAFB8BBqIARBBkYQAyAAIAFBwBFqIARBB0YQAyAAQdAAaiABQZASaiAEQQdGEAMgAEGgAWogAUHgEmogBEEHRhAD
IABB8AFqIAFBsBNqIARBB0YQAyAAIAFBgBRqIARBCEYQAyAAQdAAaiABQdAUaiAEQQhGEAMgAEGgAWogAUGgFWogBEEIRhADIABB
8AFqIAFB8BVqIARBCEYQA0GgDCAAQQEQAyAAIABB0ABqIAMQAyAAQdAAakGgDCADEANBoAxBgAEgAEHwAWoQAiAAQfABakGgDCAD
EAMLkoAAAEHAACAAEAVBwAAtAABBAXEL4YAAAQF+QcAAIAAQBUHgACABEAVCACECIAJBwAApAwBB4AApAwCFhCECIAJBwAApAwhB
4AApAwiFhCECIAJBwAApAxBB4AApAxCFhCECIAJBwAApAxhB4AApAxiFhCECIAJQCwvYhQABAEHQAQvQBQEAAAAAAAAAAAAAAAAA
AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA7P//AwAAAAD/
//8BAAAAAP///wMAAAAA////AQAAAAD///8DAAAAAP///wEAAAAA////AwAAAAD///8BAAAAAP///wMAAAAA////AQAAAACjeFkD
AAAAAIRy0wAAAAAAvW4VAwAAAAAOCmoAAAAAACnAAQAAAAAAmOh5AQAAAAC7PKADAAAAAJhxzgEAAAAA/7biAgAAAACzDUgBAAAA
AFnxsgIAAAAACeWmAQAAAAB63SoCAAAAAB0U1AAAAAAAUoADAAAAAAAw0fMAAAAAAHd5QAMAAAAAMeOcAQAAAAD/bcUBAAAAAGcb
kAAAAAAAsKAOAgAAAADSyYYBAAAAAJ0YjwAAAAAAf2k1AAAAAABgDL0AAAAAAKfX+wEAAAAAnkyAAgAAAABpZeEBAAAAAB38BAAA
AAAAkgyuAAAAAAAbLnsBAAAAABKo/QEAAAAA0q+XAgAAAADC22AAAAAAADh2vgIAAAAA/dH1AQAAAACYZH4CAAAAAOeBFQEAAAAA
NLjyAwAAAADGpN0AAAAAAOpAXQAAAAAAoGo/AAAAAAA501cCAAAAAAvSugAAAAAAWLx0AgAAAABA2AEAAAAAAP/IPQEAAAAA2EKU
AQAAAAD/+lwAAAAAACSy4QEAAAAAdsFfAAAAAABlcAIBAAAAAE/8oQIAAAAA8WrGAQAAAACEBrIAAAAAAOTfcAAAAAAA3+5VAgAA
AAAy8xoAAAAAAD4riwIAAAAAykEKAAAAAAAgTe0AAAAAAJGqVgEAAAAANSYzAwAAAADwgGUBAAAAACh5SgMAAAAA606bAAAAAACp
l2kCAAAAAJspSAAAAAAAwmavAwAAAADNomUBAAAAAA==
`;

// ---- instantiation

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (mod: object, imports: object) => { exports: Record<string, unknown> };
}
type F3 = (o: number, a: number, b: number) => void;
type F2 = (o: number, a: number) => void;
interface Field {
  mem: Uint8Array;
  mul: F3;
  add: F3;
  sub: F3;
  /** cmov(o, a, flag): o = a when flag is 1 (flag 0 or 1) */
  cmov: F3;
  /** sqn(o, a, n): o = a^(2^n) */
  sqn: F3;
  /** freeze(out, a): canonical 32 bytes */
  freeze: F2;
  /** frombytes(o, in): 32 bytes, bit 255 ignored */
  frombytes: F2;
  dbl: F2;
  tocached: F2;
  addc: F3;
  select: F3;
  isneg: (a: number) => number;
  iseq: (a: number, b: number) => number;
}

let field: Field | undefined;

/** The field module, compiled and instantiated on first use (once per process). */
function fld(): Field {
  if (field) return field;
  const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api) throw new Error('client/fastcrypto needs WebAssembly (not available in this node, e.g. --jitless)');
  const ex = new api.Instance(new api.Module(Buffer.from(FIELD_WASM, 'base64')), {}).exports;
  const fn = <T>(i: number): T => ex[String.fromCharCode(0x61 + i)] as T;
  const f: Field = {
    mem: new Uint8Array((ex['M'] as { buffer: ArrayBuffer }).buffer),
    mul: fn(F_MUL),
    add: fn(F_ADD),
    sub: fn(F_SUB),
    cmov: fn(F_CMOV),
    sqn: fn(F_SQN),
    freeze: fn(F_FREEZE),
    frombytes: fn(F_FROMBYTES),
    dbl: fn(F_DBL),
    tocached: fn(F_TOCACHED),
    addc: fn(F_ADDC),
    select: fn(F_SELECT),
    isneg: fn(F_ISNEG),
    iseq: fn(F_ISEQ),
  };
  field = f;
  return f;
}

/** Zero everything but the constants (the buffers, every temporary, point and table). */
function wipe(f: Field): void {
  f.mem.fill(0, 0, C_ZERO);
  f.mem.fill(0, CONST_END, MEM_END);
}

// ---- field helpers over slots (JS side)

/** x = |x| (CT_ABS): negated when its canonical value is odd, by mask. */
function ctAbs(f: Field, x: number): void {
  f.sub(ABS_TMP, C_ZERO, x);
  f.cmov(x, ABS_TMP, f.isneg(x));
}
/** x = -x when flag is 1. */
function ctNeg(f: Field, x: number, flag: number): void {
  f.sub(ABS_TMP, C_ZERO, x);
  f.cmov(x, ABS_TMP, flag);
}

/** o = z^((P-5)/8) = z^(2^252-3): ref10's pow22523 chain, 251 squarings and 11 multiplications. */
function pow22523(f: Field, o: number, z: number): void {
  const t0 = POW;
  const t1 = POW + FE;
  const t2 = POW + 2 * FE;
  const t3 = POW + 3 * FE;
  f.mul(t0, z, z); // z^2
  f.sqn(t1, t0, 2); // z^8
  f.mul(t1, t1, z); // z^9
  f.mul(t0, t1, t0); // z^11
  f.mul(t2, t0, t0); // z^22
  f.mul(t1, t2, t1); // z^(2^5-1)
  f.sqn(t2, t1, 5);
  f.mul(t1, t2, t1); // z^(2^10-1)
  f.sqn(t2, t1, 10);
  f.mul(t2, t2, t1); // z^(2^20-1)
  f.sqn(t3, t2, 20);
  f.mul(t2, t3, t2); // z^(2^40-1)
  f.sqn(t2, t2, 10);
  f.mul(t1, t2, t1); // z^(2^50-1)
  f.sqn(t2, t1, 50);
  f.mul(t2, t2, t1); // z^(2^100-1)
  f.sqn(t3, t2, 100);
  f.mul(t2, t3, t2); // z^(2^200-1)
  f.sqn(t2, t2, 50);
  f.mul(t1, t2, t1); // z^(2^250-1)
  f.sqn(t1, t1, 2);
  f.mul(o, t1, z); // z^(2^252-3)
}

/**
 * RFC 9496 SQRT_RATIO_M1(u, v): r = sqrt(u/v) or sqrt(i·u/v), non-negative;
 * returns was_square (1 or 0). r must not be u or v. Selections by mask.
 */
function sqrtRatioM1(f: Field, r: number, u: number, v: number): number {
  const v3 = SQR;
  const v7 = SQR + FE;
  const t = SQR + 2 * FE;
  const check = SQR + 3 * FE;
  const nu = SQR + 4 * FE;
  f.mul(v3, v, v);
  f.mul(v3, v3, v); // v^3
  f.mul(v7, v3, v3);
  f.mul(v7, v7, v); // v^7
  f.mul(t, u, v7);
  pow22523(f, t, t);
  f.mul(r, u, v3);
  f.mul(r, r, t); // (u v^3) (u v^7)^((p-5)/8)
  f.mul(check, r, r);
  f.mul(check, check, v);
  const correct = f.iseq(check, u);
  f.sub(nu, C_ZERO, u);
  const flipped = f.iseq(check, nu);
  f.mul(nu, nu, C_SQRT_M1);
  const flippedI = f.iseq(check, nu);
  f.mul(t, r, C_SQRT_M1);
  f.cmov(r, t, flipped | flippedI);
  ctAbs(f, r);
  return correct | flipped;
}

// ------------------------------------------------------------------ ristretto255 (RFC 9496 §4)

/** DECODE into the extended point at p; false for a non-canonical, negative or invalid encoding. */
function decodeTo(f: Field, s: Uint8Array, p: number): boolean {
  if (s.length !== 32) return false;
  const m = f.mem;
  const s0 = DEC;
  const ss = DEC + FE;
  const u1 = DEC + 2 * FE;
  const u2 = DEC + 3 * FE;
  const u2sq = DEC + 4 * FE;
  const v = DEC + 5 * FE;
  const t = DEC + 6 * FE;
  const invsqrt = DEC + 7 * FE;
  const denX = DEC + 8 * FE;
  const denY = DEC + 9 * FE;
  m.set(s, IO0);
  f.frombytes(s0, IO0);
  f.freeze(IO1, s0);
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= m[IO0 + i]! ^ m[IO1 + i]!;
  // canonical (bit 255 included: frombytes ignores it, so the frozen value differs) and non-negative
  if ((diff | (s[0]! & 1)) !== 0) return false;
  f.mul(ss, s0, s0);
  f.sub(u1, C_ONE, ss);
  f.add(u2, C_ONE, ss);
  f.mul(u2sq, u2, u2);
  f.mul(t, u1, u1);
  f.mul(t, t, C_D);
  f.sub(v, C_ZERO, t);
  f.sub(v, v, u2sq); // -(D u1^2) - u2^2
  f.mul(t, v, u2sq);
  const wasSquare = sqrtRatioM1(f, invsqrt, C_ONE, t);
  f.mul(denX, invsqrt, u2);
  f.mul(denY, invsqrt, denX);
  f.mul(denY, denY, v);
  const X = p;
  const Y = p + FE;
  const Z = p + 2 * FE;
  const T = p + 3 * FE;
  f.add(X, s0, s0);
  f.mul(X, X, denX);
  ctAbs(f, X);
  f.mul(Y, u1, denY);
  f.cmov(Z, C_ONE, 1);
  f.mul(T, X, Y);
  return ((wasSquare ^ 1) | f.isneg(T) | f.iseq(Y, C_ZERO)) === 0;
}

/** ENCODE the extended point at p (left unchanged): a fresh 32-byte array. */
function encodeFrom(f: Field, p: number): Uint8Array {
  const x0 = p;
  const y0 = p + FE;
  const z0 = p + 2 * FE;
  const t0 = p + 3 * FE;
  const u1 = ENC;
  const u2 = ENC + FE;
  const t = ENC + 2 * FE;
  const invsqrt = ENC + 3 * FE;
  const den1 = ENC + 4 * FE;
  const den2 = ENC + 5 * FE;
  const zInv = ENC + 6 * FE;
  const ix0 = ENC + 7 * FE;
  const iy0 = ENC + 8 * FE;
  const ench = ENC + 9 * FE;
  const x = ENC + 10 * FE;
  const y = ENC + 11 * FE;
  const s = ENC + 12 * FE;
  f.add(t, z0, y0);
  f.sub(u1, z0, y0);
  f.mul(u1, u1, t); // (z0 + y0)(z0 - y0)
  f.mul(u2, x0, y0);
  f.mul(t, u1, u2);
  f.mul(t, t, u2);
  sqrtRatioM1(f, invsqrt, C_ONE, t);
  f.mul(den1, invsqrt, u1);
  f.mul(den2, invsqrt, u2);
  f.mul(zInv, den1, den2);
  f.mul(zInv, zInv, t0);
  f.mul(ix0, x0, C_SQRT_M1);
  f.mul(iy0, y0, C_SQRT_M1);
  f.mul(ench, den1, C_INVSQRT_A_MINUS_D);
  f.mul(t, t0, zInv);
  const rotate = f.isneg(t);
  f.cmov(x, x0, 1);
  f.cmov(x, iy0, rotate);
  f.cmov(y, y0, 1);
  f.cmov(y, ix0, rotate);
  f.cmov(den2, ench, rotate); // den_inv
  f.mul(t, x, zInv);
  ctNeg(f, y, f.isneg(t));
  f.sub(s, z0, y);
  f.mul(s, den2, s);
  ctAbs(f, s);
  f.freeze(IO0, s);
  return f.mem.slice(IO0, IO0 + 32);
}

/** MAP (the elligator of from_hash) of the field element at t into the extended point at p. */
function elligator(f: Field, t: number, p: number): void {
  const r = ELL;
  const u = ELL + FE;
  const v = ELL + 2 * FE;
  const s = ELL + 3 * FE;
  const tmp = ELL + 4 * FE;
  const sPrime = ELL + 5 * FE;
  const c = ELL + 6 * FE;
  const n = ELL + 7 * FE;
  const w0 = ELL + 8 * FE;
  const w1 = ELL + 9 * FE;
  const w2 = ELL + 10 * FE;
  const w3 = ELL + 11 * FE;
  const ss = ELL + 12 * FE;
  f.mul(r, t, t);
  f.mul(r, r, C_SQRT_M1); // SQRT_M1 t^2
  f.add(u, r, C_ONE);
  f.mul(u, u, C_ONE_MINUS_D_SQ); // (r + 1) ONE_MINUS_D_SQ
  f.mul(tmp, r, C_D);
  f.sub(tmp, C_MINUS_ONE, tmp);
  f.add(v, r, C_D);
  f.mul(v, tmp, v); // (-1 - r D)(r + D)
  const notSquare = sqrtRatioM1(f, s, u, v) ^ 1;
  f.mul(sPrime, s, t);
  ctAbs(f, sPrime);
  f.sub(sPrime, C_ZERO, sPrime); // -CT_ABS(s t)
  f.cmov(s, sPrime, notSquare);
  f.cmov(c, C_MINUS_ONE, 1);
  f.cmov(c, r, notSquare);
  f.sub(tmp, r, C_ONE);
  f.mul(n, c, tmp);
  f.mul(n, n, C_D_MINUS_ONE_SQ);
  f.sub(n, n, v); // c (r - 1) D_MINUS_ONE_SQ - v
  f.mul(ss, s, s);
  f.add(w0, s, s);
  f.mul(w0, w0, v);
  f.mul(w1, n, C_SQRT_AD_MINUS_ONE);
  f.sub(w2, C_ONE, ss);
  f.add(w3, C_ONE, ss);
  f.mul(p, w0, w3);
  f.mul(p + FE, w2, w1);
  f.mul(p + 2 * FE, w1, w3);
  f.mul(p + 3 * FE, w0, w2);
}

/** Extended coordinates (X:Y:Z:T) on edwards25519, a = -1 (the BigInt form of the exported decode/encode). */
type Pt = [bigint, bigint, bigint, bigint];

/** RFC 9496 DECODE: (x, y, 1, xy), canonical; null for an invalid encoding. */
export function decode(s: Uint8Array): Pt | null {
  const f = fld();
  try {
    if (!decodeTo(f, s, P1)) return null;
    const big = (a: number): bigint => {
      f.freeze(IO0, a);
      return leInt(f.mem.subarray(IO0, IO0 + 32));
    };
    return [big(P1), big(P1 + FE), 1n, big(P1 + 3 * FE)];
  } finally {
    wipe(f);
  }
}

/** RFC 9496 ENCODE of extended coordinates (any representatives mod P). */
export function encode(p: Pt): Uint8Array {
  const f = fld();
  try {
    for (let i = 0; i < 4; i++) {
      f.mem.set(intLe(canon(p[i]!)), IO0);
      f.frombytes(P1 + i * FE, IO0);
    }
    return encodeFrom(f, P1);
  } finally {
    wipe(f);
  }
}

/** crypto_core_ristretto255_from_hash (64 bytes → point encoding). */
export function fromHash(h: Uint8Array): Uint8Array {
  if (h.length !== 64) throw new RangeError('fromHash needs 64 bytes');
  const f = fld();
  const t = ELL + 13 * FE;
  try {
    f.mem.set(h.subarray(0, 32), IO0);
    f.frombytes(t, IO0); // bit 255 ignored, as libsodium
    elligator(f, t, P1);
    f.mem.set(h.subarray(32, 64), IO0);
    f.frombytes(t, IO0);
    elligator(f, t, P2);
    f.tocached(SEL, P2);
    f.addc(P1, P1, SEL);
    return encodeFrom(f, P1);
  } finally {
    wipe(f);
  }
}

/**
 * The scalar (32 bytes, bit 255 ignored) as 64 signed radix-16 digits: e[i]
 * in [-8, 7] for i < 63, e[63] in [0, 8], s = sum e[i]·16^i. ref10's
 * recoding: arithmetic on the digits, no branch on them.
 */
function recode(s: Uint8Array): Int8Array {
  const e = new Int8Array(64);
  for (let i = 0; i < 32; i++) {
    const b = i === 31 ? s[i]! & 0x7f : s[i]!;
    e[2 * i] = b & 15;
    e[2 * i + 1] = b >>> 4;
  }
  let carry = 0;
  for (let i = 0; i < 63; i++) {
    e[i]! += carry;
    carry = (e[i]! + 8) >> 4;
    e[i]! -= carry << 4;
  }
  e[63]! += carry;
  return e;
}

/**
 * crypto_scalarmult_ristretto255: the scalar with bit 255 cleared (not
 * reduced); null for an invalid point or an identity result.
 * Fixed 4-bit signed windows, most significant first: every window does the
 * same work (4 doublings, a masked scan of the whole 9-entry table, a masked
 * conditional negation, one complete addition), whatever the digit.
 */
export function scalarmult(scalar: Uint8Array, point: Uint8Array): Uint8Array | null {
  if (scalar.length !== 32) throw new RangeError('scalarmult needs a 32-byte scalar');
  const f = fld();
  const e = recode(scalar);
  try {
    if (!decodeTo(f, point, P1)) return null;
    // TAB + j·PT = j·p as cached points, built from q(j) = j·p (extended)
    const tab = (j: number): number => TAB + j * PT;
    const q = (j: number): number => (j === 1 ? P1 : Q + (j - 2) * PT);
    f.cmov(tab(0), C_ONE, 1); // the identity: Y+X = 1, Y-X = 1, 2Z = 2, 2dT = 0
    f.cmov(tab(0) + FE, C_ONE, 1);
    f.add(tab(0) + 2 * FE, C_ONE, C_ONE);
    f.cmov(tab(0) + 3 * FE, C_ZERO, 1);
    f.tocached(tab(1), P1);
    for (let j = 2; j <= 8; j++) {
      if ((j & 1) === 0) f.dbl(q(j), q(j >> 1));
      else f.addc(q(j), q(j - 1), tab(1));
      f.tocached(tab(j), q(j));
    }
    f.cmov(ACC, C_ZERO, 1); // the identity (0 : 1 : 1 : 0)
    f.cmov(ACC + FE, C_ONE, 1);
    f.cmov(ACC + 2 * FE, C_ONE, 1);
    f.cmov(ACC + 3 * FE, C_ZERO, 1);
    for (let i = 63; i >= 0; i--) {
      if (i !== 63) for (let k = 0; k < 4; k++) f.dbl(ACC, ACC);
      f.select(SEL, TAB, e[i]!);
      f.addc(ACC, ACC, SEL);
    }
    const out = encodeFrom(f, ACC);
    let nz = 0;
    for (let i = 0; i < 32; i++) nz |= out[i]!;
    return nz === 0 ? null : out;
  } finally {
    e.fill(0);
    wipe(f);
  }
}

/** A canonical, valid ristretto255 encoding (the identity included). */
export function isValidPoint(p: Uint8Array): boolean {
  const f = fld();
  try {
    return decodeTo(f, p, P1);
  } finally {
    wipe(f);
  }
}

// ------------------------------------------------------------------ scalars mod L (BigInt)

export const L = (1n << 252n) + 27742317777372353535851937790883648493n;

/** crypto_core_ristretto255_scalar_random: uniform in 1..L-1. */
export function randomScalar(): Uint8Array {
  const b = new Uint8Array(32);
  for (;;) {
    randomFillSync(b);
    b[31]! &= 0x1f;
    const x = leInt(b);
    b.fill(0);
    if (x !== 0n && x < L) return intLe(x);
  }
}

/** L - 2 in hex, most significant digit first: the public exponent of the inversion. */
const L_MINUS_2_HEX = (L - 2n).toString(16);

/**
 * crypto_core_ristretto255_scalar_invert; null for 0. BigInt: x^(L-2) mod L
 * with fixed 4-bit windows over the public exponent (249 squarings, 46
 * multiplications), computed on x·u for a fresh random u and multiplied by u
 * afterwards, so the (not constant-time) BigInt arithmetic runs on a uniformly
 * random value instead of r.
 */
export function invertScalar(r: Uint8Array): Uint8Array | null {
  if (r.length !== 32) throw new RangeError('invertScalar needs a 32-byte scalar');
  const x = leInt(r) % L;
  if (x === 0n) return null;
  const ub = randomScalar();
  const u = leInt(ub);
  ub.fill(0);
  const xu = (x * u) % L;
  const pw: bigint[] = [1n, xu];
  for (let j = 2; j < 16; j++) pw[j] = (pw[j - 1]! * xu) % L;
  let acc = pw[parseInt(L_MINUS_2_HEX[0]!, 16)]!;
  for (let i = 1; i < L_MINUS_2_HEX.length; i++) {
    for (let k = 0; k < 4; k++) acc = (acc * acc) % L;
    const nib = parseInt(L_MINUS_2_HEX[i]!, 16); // a digit of the public exponent
    if (nib !== 0) acc = (acc * pw[nib]!) % L;
  }
  return intLe((acc * u) % L);
}

// ------------------------------------------------------------------ for the tests

/**
 * For test/client.fastcrypto.test.ts only, not an API: the instantiated field
 * module and its layout, 36 free slots (the table's), the JS-side helpers, the
 * generator and the embedded copy of its output.
 */
export const testing = {
  field: (): Field => fld(),
  wipe: (): void => wipe(fld()),
  FE,
  W,
  OFF,
  IO0,
  C_ZERO,
  C_ONE,
  CONST_END,
  /** free slot k, 0 <= k < 36 */
  slot: (k: number): number => TAB + k * FE,
  pow22523: (o: number, z: number): void => pow22523(fld(), o, z),
  sqrtRatioM1: (r: number, u: number, v: number): number => sqrtRatioM1(fld(), r, u, v),
  buildModule: buildFieldModule,
  embeddedModule: (): Uint8Array => Uint8Array.from(Buffer.from(FIELD_WASM, 'base64')),
};
