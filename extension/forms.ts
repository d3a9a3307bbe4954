// What runs inside the page (chrome.scripting.executeScript, every frame):
// finding the forms and filling them. executeScript sends the function's
// source text alone, so it is self-contained (no imports, no helpers outside
// its body) and does both, scan and fill. Only fields a user can see and
// type into count: hidden, invisible, disabled and read-only ones are
// ignored. Values are set the way typing is seen by page scripts: through
// HTMLInputElement's own value setter (never a page's redefinition of
// `value`, such as React's value tracker), then input and change events,
// which is what page scripts listen to.

import type { FormKind } from './kinds.js';

export type { FormKind };

/** What a scan found in one frame: how many forms of each kind, and the frame's host name. */
export type Scan = Record<FormKind, number> & { host: string };

/** What to fill: `values` is [password] or, for change, [old, new]. */
export interface Fill {
  kind: FormKind;
  /** the site the password is for: nothing is filled in a frame of another host */
  site: string;
  name: string;
  values: string[];
}

export interface Filled {
  filled: boolean;
  why?: string;
}

/**
 * Runs in the page, one frame. Without `fill`: counts the fillable forms of
 * each kind. With it: fills the first form of that kind: login, the user
 * field and the password field; signup, the user field and every password
 * field; change, old, new, new. A form is the password fields of one <form>
 * (or of the page, for fields outside any form): one is a login form, two
 * (or one marked autocomplete=new-password) a sign-up form, three a change
 * form. Sign up takes a single password field when nothing else fits: the
 * user chose sign up.
 */
export function inPage(fill?: Fill): Scan | Filled {
  const visible = (el: HTMLInputElement): boolean => {
    if (el.disabled || el.readOnly || el.type === 'hidden') return false;
    for (let e: Element | null = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || s.visibility === 'collapse' || Number(s.opacity) === 0) return false;
    }
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1;
  };
  const inputs = Array.from(document.querySelectorAll<HTMLInputElement>('input')).filter(visible);
  const groupOf = (el: HTMLInputElement): Element => el.form ?? document.body;
  const groups = new Map<Element, HTMLInputElement[]>();
  for (const el of inputs) if (el.type === 'password') groups.set(groupOf(el), [...(groups.get(groupOf(el)) ?? []), el]);
  const fits = (pw: HTMLInputElement[], k: FormKind, loose: boolean): boolean =>
    k === 'change' ? pw.length === 3 : k === 'login' ? pw.length === 1 : loose ? pw.length === 1 : pw.length === 2 || (pw.length === 1 && pw[0]!.autocomplete === 'new-password');
  const all = [...groups.entries()];
  const find = (k: FormKind): Array<[Element, HTMLInputElement[]]> => {
    const strict = all.filter(([, pw]) => fits(pw, k, false));
    return strict.length || k !== 'signup' ? strict : all.filter(([, pw]) => fits(pw, k, true));
  };
  if (!fill) return { login: find('login').length, signup: find('signup').length, change: find('change').length, host: location.hostname };

  const set = (el: HTMLInputElement, v: string): void => {
    el.focus();
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(el, v);
    el.dispatchEvent(new InputEvent('input', { bubbles: true, composed: true, inputType: 'insertReplacementText' }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
    el.blur();
  };
  if (location.hostname !== fill.site) return { filled: false, why: 'another site' };
  const entry = find(fill.kind)[0];
  if (!entry) return { filled: false, why: 'no form' };
  const [group, pw] = entry;
  const [first, second] = fill.values;
  if (first === undefined || (fill.kind === 'change' && second === undefined)) return { filled: false, why: 'no password' };
  if (fill.kind === 'change') {
    set(pw[0]!, first);
    set(pw[1]!, second!);
    set(pw[2]!, second!);
    return { filled: true };
  }
  // the user field: a text-like field before the first password field in the same form (autocomplete username/email first, else the last one)
  const before = inputs.filter((el) => /^(text|email|tel|)$/.test(el.type) && groupOf(el) === group && el.compareDocumentPosition(pw[0]!) & Node.DOCUMENT_POSITION_FOLLOWING);
  const user = before.find((el) => el.autocomplete === 'username' || el.autocomplete === 'email') ?? before[before.length - 1];
  if (user) set(user, fill.name);
  for (const el of fill.kind === 'login' ? pw.slice(0, 1) : pw) set(el, first);
  return { filled: true };
}
