// What the host does for one request (websphinx.md §2-§4), with its effects
// injected: which questions pinentry asks, in which order, and which client
// flow runs. No I/O here; host.ts binds the real pinentry and flows.
import type { RuleSpec } from '../client/args.js';
import type { Texts } from '../client/assuan.js';
import type { Flows } from '../client/bound-flows.js';
import { doneReply, listReply, passwordReply, qrReply, type Reply, type Request } from './requests.js';

export type { Flows } from '../client/bound-flows.js';

export interface PinDialogs {
  getPin(t: Texts & { prompt: string }): Promise<Buffer | null>;
  confirm(t: Texts & { ok: string; cancel: string }): Promise<boolean>;
}

export interface HostDeps {
  flows: Flows;
  pinentry: PinDialogs;
  rwdKeys: boolean;
  /** the zxcvbn line for a new master password (client/strength.ts) */
  strength(pwd: Uint8Array): Promise<string>;
  /** the public-config QR code as SVG (client/qr.ts) */
  qrSvg(): Promise<string>;
}

/** Why a request failed without an error: the user cancelled, or typed two different passwords. */
export class Declined extends Error {
  override name = 'Declined';
}

export const TITLE = 'websphinx';
export const PROMPT = 'master password';
export const REPEAT = 'REPEAT master password';
/** Rounds of "try another" before the host gives up on a create/change. */
export const MAX_ROUNDS = 5;

const who = (r: { name: string; site: string }): string => `${JSON.stringify(r.name)} at ${r.site}`;

async function ask(p: PinDialogs, description: string, prompt = PROMPT): Promise<Buffer> {
  const pin = await p.getPin({ title: TITLE, description, prompt });
  if (!pin) throw new Declined('cancelled');
  return pin;
}

/** A new master password: asked twice, then its strength confirmed; "try another" asks again. */
export async function askNew(deps: HostDeps, description: string): Promise<Buffer> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const a = await ask(deps.pinentry, description);
    let b: Buffer | null = null;
    try {
      b = await ask(deps.pinentry, description, REPEAT);
      if (!a.equals(b)) throw new Declined('the two passwords differ');
      const line = await deps.strength(a);
      if (await deps.pinentry.confirm({ title: TITLE, description: line, ok: 'use this', cancel: 'try another' })) {
        b.fill(0);
        return a;
      }
    } catch (e) {
      a.fill(0);
      throw e;
    } finally {
      b?.fill(0);
    }
    a.fill(0);
  }
  throw new Declined('no master password accepted');
}

/** Runs one parsed request; errors propagate (host.ts turns them into FAIL). */
export async function dispatch(r: Request, deps: HostDeps): Promise<Reply> {
  const held: Buffer[] = [];
  const keep = (b: Buffer): Buffer => (held.push(b), b);
  const f = deps.flows;
  try {
    switch (r.cmd) {
      case 'list':
        return listReply(r, await f.list(r.site));
      case 'qrcode':
        return qrReply(r, await deps.qrSvg());
      case 'login': {
        const pwd = keep(await ask(deps.pinentry, `login: ${who(r)}`));
        return passwordReply(r, await f.get(pwd, r.name, r.site));
      }
      case 'create': {
        const pwd = keep(await askNew(deps, `create a password for ${who(r)}`));
        return passwordReply(r, await f.create(pwd, r.name, r.site, r.rule));
      }
      case 'change': {
        const old = deps.rwdKeys ? keep(await ask(deps.pinentry, `change: the CURRENT master password for ${who(r)}`)) : null;
        const pwd = keep(await askNew(deps, `change the password of ${who(r)}: the NEW master password`));
        // with rwd_keys off the oracle does not check the current password: any will do
        const rule = r.rule ?? (await f.currentRule(old ?? pwd, r.name, r.site));
        return passwordReply(r, await f.change(old ?? pwd, pwd, r.name, r.site, rule));
      }
      case 'commit':
      case 'undo':
      case 'delete': {
        const pwd = deps.rwdKeys ? keep(await ask(deps.pinentry, `${r.cmd}: the CURRENT master password for ${who(r)}`)) : Buffer.alloc(0);
        await (r.cmd === 'commit' ? f.commit : r.cmd === 'undo' ? f.undo : f.del)(pwd, r.name, r.site);
        return doneReply(r);
      }
    }
    throw new Error('internal: a request parseRequest does not make');
  } finally {
    for (const b of held) b.fill(0);
  }
}

