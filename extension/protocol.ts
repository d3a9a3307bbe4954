// The host protocol (websphinx.md §2-§3) as the extension speaks it: the
// requests it sends and what a reply means, as pure functions. Nothing else
// goes to the host; the master password never passes here (the host asks
// pinentry for it).

/** Character classes of a new password: u upper, l lower, d digits, s symbols. */
export type ClassLetter = 'u' | 'l' | 'd' | 's';

export interface HostRequest {
  cmd: 'list' | 'login' | 'create' | 'change' | 'commit' | 'undo';
  mode: string;
  site: string;
  name?: string;
  rules?: string;
  size?: number;
}

/** The largest size the host accepts (client/args.ts MAX_SIZE); 0 = the longest the rule allows. */
export const MAX_SIZE = 127;

/** The site a tab's URL stands for: its host name, as the websphinx extensions send it. null: not a web page. */
export function siteOf(url: string | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname ? u.hostname : null;
  } catch {
    return null;
  }
}

export const listRequest = (site: string): HostRequest => ({ cmd: 'list', mode: 'init', site });
export const loginRequest = (site: string, name: string): HostRequest => ({ cmd: 'login', mode: 'insert', site, name });
/** No rules, no size: the host keeps the record's rule (§2). */
export const changeRequest = (site: string, name: string): HostRequest => ({ cmd: 'change', mode: 'insert', site, name });
export const commitRequest = (site: string, name: string): HostRequest => ({ cmd: 'commit', mode: 'insert', site, name });
export const undoRequest = (site: string, name: string): HostRequest => ({ cmd: 'undo', mode: 'insert', site, name });

/** A create request, or why the popup's choice is not one. */
export function createRequest(site: string, name: string, classes: readonly ClassLetter[], size: number): HostRequest | string {
  if (name.trim() === '') return 'Type the user name for the new account.';
  const rules = (['u', 'l', 'd', 's'] as const).filter((c) => classes.includes(c)).join('');
  if (!rules) return 'Choose at least one kind of character.';
  if (!Number.isInteger(size) || size < 0 || size > MAX_SIZE) return `The size is a whole number from 0 (the longest) to ${MAX_SIZE}.`;
  return { cmd: 'create', mode: 'insert', site, name, rules, size };
}

export type Outcome =
  | { kind: 'names'; names: string[] }
  | { kind: 'password'; password: string; name: string }
  | { kind: 'done' }
  | { kind: 'fail' };

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What a reply to `req` says; anything that is not the reply §3 describes for it counts as a failure. */
export function readReply(req: HostRequest, msg: unknown): Outcome {
  if (!isObj(msg) || !isObj(msg['results'])) return { kind: 'fail' };
  const r = msg['results'];
  if (r['cmd'] !== req.cmd || r['site'] !== req.site) return { kind: 'fail' };
  switch (req.cmd) {
    case 'list': {
      const names = r['names'];
      if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) return { kind: 'fail' };
      // the reference host's "no users found" is not a user (§3)
      return { kind: 'names', names: names.filter((n) => n !== 'no users found') };
    }
    case 'login':
    case 'create':
    case 'change':
      return typeof r['password'] === 'string' && r['password'] !== '' && r['name'] === req.name
        ? { kind: 'password', password: r['password'], name: req.name ?? '' }
        : { kind: 'fail' };
    case 'commit':
    case 'undo':
      return r['result'] === true && r['name'] === req.name ? { kind: 'done' } : { kind: 'fail' };
  }
}
