import { randomInt } from 'node:crypto';

/**
 * The first Equihash nonce the client tries: random. Two requests that get
 * the same challenge (READ has no random alpha, and the challenge's clock
 * counts seconds) then send different solutions, which an oracle keying its
 * replay cache on the solution tells apart from a replay. Any nonce is as
 * good for the oracle (the reference solver starts at 0).
 */
export const startNonce = (): number => randomInt(0, 2 ** 31);
