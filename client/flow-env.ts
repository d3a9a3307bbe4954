// What every client operation (client/flows.ts, client/get.ts) is given: the
// wire (connections, puzzle solver) and the user's keys and settings.
import type { WireEnv } from './wire.js';

export interface FlowEnv extends WireEnv {
  masterkey: Uint8Array;
  rwdKeys: boolean;
  validatePassword: boolean;
  /** OPRF blinding; tests inject recorded scalars */
  blind?: (pwd: Uint8Array) => { r: Uint8Array; alpha: Uint8Array };
  /** randomness for xormasks and seal nonces (default: the system's); tests inject recorded values */
  random?: (n: number) => Uint8Array;
  /** warnings for stderr (never secrets) */
  warn?: (line: string) => void;
  /**
   * change: with validatePassword, first check the current master password
   * against the record's check digit (one GET). The CLI sets it; off, the
   * exchange is exactly the reference's (the transcript tests).
   */
  checkCurrentFirst?: boolean;
  /**
   * create, change, get: return render(the record's secret) instead of the
   * site password (the key converters, client/converters.ts). The secret is
   * wiped after the call.
   */
  render?: (recordSecret: Uint8Array) => string;
}
