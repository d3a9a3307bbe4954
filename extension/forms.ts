// What runs inside the page (chrome.scripting.executeScript, every frame):
// finding the forms and filling them. executeScript sends each function's
// source text alone, so each one is self-contained (no imports, no helpers
// outside its body). Only fields a user can see and type into count: hidden,
// invisible, disabled and read-only ones are ignored. Values are set the way
// typing is seen by page scripts: through HTMLInputElement's own value setter
// (never a page's redefinition of `value`, such as React's value tracker),
// then input and change events, which is what page scripts listen to.

import type { FormKind } from './kinds.js';

export type { FormKind };

/** What scanForms found in one frame: how many forms of each kind, and the frame's host name. */
export type Scan = Record<FormKind, number> & { host: string };

/** Runs in the page. Counts the fillable forms of each kind in this frame. */
export function scanForms(): Scan {
  const visible = (el: HTMLInputElement): boolean => {
    if (el.disabled || el.readOnly || el.type === 'hidden') return false;
    for (let e: Element | null = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || s.visibility === 'collapse' || Number(s.opacity) === 0) return false;
    }
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1;
  };
  const groups = new Map<Element, HTMLInputElement[]>();
  for (const el of Array.from(document.querySelectorAll<HTMLInputElement>('input[type=password]'))) {
    if (!visible(el)) continue;
    const g = el.form ?? document.body;
    groups.set(g, [...(groups.get(g) ?? []), el]);
  }
  const out: Scan = { login: 0, signup: 0, change: 0, host: location.hostname };
  for (const pw of groups.values()) {
    if (pw.length === 3) out.change++;
    else if (pw.length === 2 || pw[0]!.autocomplete === 'new-password') out.signup++;
    else if (pw.length === 1) out.login++;
  }
  // a single password field may be either: sign-up may use it (the user chose sign up)
  if (out.signup === 0) out.signup = out.login;
  return out;
}

/**
 * Runs in the page. Fills the first form of `kind` in this frame:
 * login: the user field and the password field; signup: the user field and
 * every password field; change: old, new, new. Returns what was filled, or
 * why nothing was ("no form"). `values`: [password] or, for change, [old, new].
 */
export function fillForm(kind: FormKind, name: string, values: string[]): { filled: boolean; why?: string } {
  const visible = (el: HTMLInputElement): boolean => {
    if (el.disabled || el.readOnly || el.type === 'hidden') return false;
    for (let e: Element | null = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || s.visibility === 'collapse' || Number(s.opacity) === 0) return false;
    }
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1;
  };
  const set = (el: HTMLInputElement, v: string): void => {
    el.focus();
    const native = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
    native.call(el, v);
    el.dispatchEvent(new InputEvent('input', { bubbles: true, composed: true, inputType: 'insertReplacementText' }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
    el.blur();
  };
  const groups = new Map<Element, HTMLInputElement[]>();
  const inputs = Array.from(document.querySelectorAll<HTMLInputElement>('input')).filter(visible);
  for (const el of inputs) {
    if (el.type !== 'password') continue;
    const g = el.form ?? document.body;
    groups.set(g, [...(groups.get(g) ?? []), el]);
  }
  const fits = (pw: HTMLInputElement[], k: FormKind, strict: boolean): boolean =>
    k === 'change' ? pw.length === 3 : k === 'login' ? pw.length === 1 : strict ? pw.length === 2 || (pw.length === 1 && pw[0]!.autocomplete === 'new-password') : pw.length === 1;
  const entry = [...groups.entries()].find(([, pw]) => fits(pw, kind, true)) ?? (kind === 'signup' ? [...groups.entries()].find(([, pw]) => fits(pw, kind, false)) : undefined);
  if (!entry) return { filled: false, why: 'no form' };
  const [group, pw] = entry;
  if (kind === 'change') {
    const [old, fresh] = values;
    if (old === undefined || fresh === undefined) return { filled: false, why: 'two passwords needed' };
    set(pw[0]!, old);
    set(pw[1]!, fresh);
    set(pw[2]!, fresh);
    return { filled: true };
  }
  // the user field: the last text-like field before the first password field in the same form
  const textish = /^(text|email|tel|)$/;
  const before = inputs.filter((el) => textish.test(el.type) && (el.form ?? document.body) === group && el.compareDocumentPosition(pw[0]!) & Node.DOCUMENT_POSITION_FOLLOWING);
  const user = before.find((el) => el.autocomplete === 'username' || el.autocomplete === 'email') ?? before[before.length - 1];
  if (user) set(user, name);
  for (const el of kind === 'login' ? pw.slice(0, 1) : pw) set(el, values[0]!);
  return { filled: true };
}
