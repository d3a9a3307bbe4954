// libsodium, ready on import (ES module top-level await), for the oracle,
// the tests and the benchmarks. The client's code imports shared/libsodium.ts
// and awaits sodiumReady itself (its bundle is CommonJS: no top-level await).
import { sodiumReady } from './libsodium.js';

export { sodium, sodiumReady, wipe } from './libsodium.js';
await sodiumReady;
