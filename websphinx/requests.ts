// The extensions' requests and the host's replies (websphinx.md §2-§3), as
// pure functions: a frame body becomes a typed Request or the exact fail
// reply to send; results become the reply objects the extensions read.
import { MAX_SIZE, type RuleSpec } from '../client/args.js';
import { SYMBOLS } from '../shared/constants.js';

interface Echo {
  /** echoed back; absent when the request had none */
  mode?: string;
  site: string;
}

export type Request =
  | ({ cmd: 'list' } & Echo)
  | ({ cmd: 'login' | 'commit' | 'undo' | 'delete'; name: string } & Echo)
  | ({ cmd: 'create'; name: string; rule: RuleSpec } & Echo)
  /** rule absent: keep the record's current rule (what the extensions send) */
  | ({ cmd: 'change'; name: string; rule?: RuleSpec } & Echo)
  | { cmd: 'qrcode'; mode?: string };

export const FAIL = { results: 'fail' } as const;
export type Reply = { results: unknown } & Record<string, unknown>;

/** A request the host answers with a fail reply (and why, for the log: never a secret). */
export interface Rejected {
  reply: Reply;
  why: string;
}

const WEBAUTHN = new Set(['webauthn-create', 'webauthn-get']);

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The rule of a create request: `rules` a non-empty subset of "ulsd", `size` 0..127 (a number or numeric string). */
export function ruleOf(rules: unknown, size: unknown): RuleSpec | string {
  if (typeof rules !== 'string' || rules === '' || !/^[ulsd]+$/.test(rules)) return 'rules must be a non-empty string of the letters u, l, s, d';
  const n = typeof size === 'number' ? size : typeof size === 'string' && /^\s*\d+\s*$/.test(size) ? Number(size) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > MAX_SIZE) return `size must be a whole number from 0 to ${MAX_SIZE}`;
  // "s" = all symbols; "s" alone = symbols only (the extension's checkboxes, not the CLI's positional quirk)
  return { classes: [...'uld'].filter((c) => rules.includes(c)).join(''), symbols: rules.includes('s') ? SYMBOLS : '', size: n };
}

/** Parses one frame body. */
export function parseRequest(body: Uint8Array): Request | Rejected {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return { reply: FAIL, why: 'malformed message (not UTF-8 JSON)' };
  }
  if (!isObj(v) || typeof v['cmd'] !== 'string') return { reply: FAIL, why: 'malformed request (no cmd)' };
  const cmd = v['cmd'];
  if (WEBAUTHN.has(cmd)) return { reply: { results: 'fail', id: v['id'], tabId: v['tabId'], cmd }, why: `${cmd} is not supported` };
  const mode = v['mode'];
  if (mode !== undefined && typeof mode !== 'string') return { reply: FAIL, why: 'malformed request (mode)' };
  const echo = (site: string): Echo => (mode === undefined ? { site } : { mode, site });
  if (cmd === 'qrcode') return mode === undefined ? { cmd } : { cmd, mode };
  const site = v['site'];
  if (!['list', 'login', 'create', 'change', 'commit', 'undo', 'delete'].includes(cmd)) return { reply: FAIL, why: `unknown command ${JSON.stringify(cmd.slice(0, 40))}` };
  if (typeof site !== 'string' || site === '') return { reply: FAIL, why: `${cmd}: site missing` };
  if (cmd === 'list') return { cmd, ...echo(site) };
  const name = v['name'];
  if (typeof name !== 'string' || name === '') return { reply: FAIL, why: `${cmd}: name missing` };
  if (cmd === 'create') {
    const rule = ruleOf(v['rules'], v['size']);
    if (typeof rule === 'string') return { reply: FAIL, why: `create: ${rule}` };
    return { cmd, name, rule, ...echo(site) };
  }
  if (cmd === 'change') {
    if (v['rules'] === undefined && v['size'] === undefined) return { cmd, name, ...echo(site) };
    const rule = ruleOf(v['rules'] ?? 'ulsd', v['size'] ?? 0);
    if (typeof rule === 'string') return { reply: FAIL, why: `change: ${rule}` };
    return { cmd, name, rule, ...echo(site) };
  }
  return { cmd: cmd as 'login' | 'commit' | 'undo' | 'delete', name, ...echo(site) };
}

export const isRejected = (r: Request | Rejected): r is Rejected => 'reply' in r;

const echoOf = (r: Request): Record<string, unknown> => ({ ...('name' in r ? { name: r.name } : {}), ...('site' in r ? { site: r.site } : {}), cmd: r.cmd, ...(r.mode !== undefined ? { mode: r.mode } : {}) });

export const passwordReply = (r: Request, password: string): Reply => ({ results: { password, ...echoOf(r) } });
export const doneReply = (r: Request): Reply => ({ results: { result: true, ...echoOf(r) } });
export const listReply = (r: Request, names: string[]): Reply => ({ results: { names, ...echoOf(r) } });
export const qrReply = (r: Request, svg: string): Reply => ({ results: { qrcode: svg, ...echoOf(r) } });
