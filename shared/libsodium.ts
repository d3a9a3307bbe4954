// The one place libsodium is loaded; only the oracle's code uses it
// (oracle/crypto.ts, and the challenge MAC in shared/ratelimit.ts). Its
// WebAssembly instantiates asynchronously: `sodium` is usable once
// `sodiumReady` has resolved, which oracle/crypto.ts awaits at import. No
// top-level await here, so that importing a pure shared/ module never waits
// for libsodium. The client does not load libsodium at all (client/crypto.ts).
import _sodium from 'libsodium-wrappers-sumo';

export const sodium = _sodium;
export const sodiumReady: Promise<void> = _sodium.ready;
