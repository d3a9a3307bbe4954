// The client's flows (client/flows.ts) bound to a user's config: the
// masterkey is read for each operation and wiped after it. What the programs
// that run flows for someone else use (websphinx's host, pinentry-sphinx).
import type { RuleSpec } from './args.js';
import type { ClientConfig } from './config.js';
import type { FlowEnv } from './flows.js';
import { readMasterkey } from './masterkey.js';
import type { Solver } from './puzzle.js';
import type { Connector } from './tls.js';

/** The client's flows (client/flows.ts), bound to the user's config and masterkey. */
export interface Flows {
  get(pwd: Uint8Array, user: string, host: string): Promise<string>;
  create(pwd: Uint8Array, user: string, host: string, spec: RuleSpec): Promise<string>;
  currentRule(pwd: Uint8Array, user: string, host: string): Promise<RuleSpec>;
  change(oldPwd: Uint8Array, newPwd: Uint8Array, user: string, host: string, spec: RuleSpec): Promise<string>;
  commit(pwd: Uint8Array, user: string, host: string): Promise<void>;
  undo(pwd: Uint8Array, user: string, host: string): Promise<void>;
  del(pwd: Uint8Array, user: string, host: string): Promise<void>;
  list(host: string): Promise<string[]>;
}

/** client/flows.ts with the user's config; the masterkey is read for each operation and wiped after it. Warnings go to stderr prefixed with `who`. */
export function bindFlows(cfg: ClientConfig, connector: Connector, solver: Solver, who = 'websphinx'): Flows {
  const flowsP = import('../client/flows.js');
  const run = async <T>(fn: (f: typeof import('../client/flows.js'), env: FlowEnv) => Promise<T>): Promise<T> => {
    const f = await flowsP;
    const masterkey = readMasterkey(cfg.datadir);
    try {
      return await fn(f, {
        connect: connector.connect,
        masterkey,
        rwdKeys: cfg.rwdKeys,
        validatePassword: cfg.validatePassword,
        solve: solver.solve,
        warn: (l) => process.stderr.write(`${who}: ${l}\n`),
      });
    } finally {
      masterkey.fill(0);
    }
  };
  return {
    get: (p, u, h) => run((f, e) => f.get(e, p, u, h)),
    create: (p, u, h, s) => run((f, e) => f.create(e, p, u, h, s)),
    currentRule: (p, u, h) => run((f, e) => f.currentRule(e, p, u, h)),
    change: (o, n, u, h, s) => run((f, e) => f.change(e, o, n, u, h, s)),
    commit: (p, u, h) => run((f, e) => f.commit(e, p, u, h)),
    undo: (p, u, h) => run((f, e) => f.undo(e, p, u, h)),
    del: (p, u, h) => run((f, e) => f.del(e, p, u, h)),
    list: (h) => run((f, e) => f.list(e, h)),
  };
}

