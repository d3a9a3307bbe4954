// Build time only (build/codecache.ts): runs the `get` path's computations
// once on made-up values, so that V8's code cache of the client bundle holds
// their compiled bytecode and `sphinx get` does not compile them lazily on
// every run. No I/O, no real secret: a fixed all-zero masterkey and password.
import { Op, SYMBOLS } from '../shared/constants.js';
import * as msg from '../shared/messages.js';

export async function warmUp(): Promise<void> {
  const c = await import('./crypto.js');
  await import('./get.js'); // its module initialisation (and noble's)
  const masterkey = new Uint8Array(32);
  const pwd = new Uint8Array(8);
  const id = c.recordId(masterkey, 'user', 'example.com');
  const { r, alpha } = c.challenge(pwd);
  msg.buildRequest(Op.GET, id, alpha);
  const beta = c.challengeWith(pwd, c.randomScalar()).alpha; // any other valid point
  const rwd0 = c.unblind(pwd, r, alpha, beta, c.blindInverse(r));
  const sk = c.sealKey(masterkey);
  const rule = c.unpackRule(sk, c.packRule(sk, { classes: 'uld', symbols: SYMBOLS, size: 0, checkDigit: 0, xormask: new Uint8Array(32) }));
  c.checkDigit(rwd0, true);
  c.sitePassword(rwd0, rule);
}
