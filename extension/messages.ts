// What the popup tells the user: one place for every text, as pure functions.
import type { FormKind } from './kinds.js';

export const INSTALL_LINE = 'websphinx install';

export const NOT_INSTALLED = `The websphinx host is not installed. In a terminal, run: ${INSTALL_LINE}  (then reopen this popup)`;
export const NOT_ALLOWED = `The websphinx host is installed but does not allow this extension. In a terminal, run: ${INSTALL_LINE}`;
/** The host answers every failure with the same {"results":"fail"} (websphinx.md §3): it does not say which. */
export const HOST_FAILED =
  'Nothing was filled: the master password was cancelled in pinentry or mistyped (or the oracle refused). Try again.';
export const NOT_A_PAGE = 'SPHINX fills forms on web pages (http or https) only.';
export const NO_ACCESS = 'SPHINX may read this page only after you open it from its toolbar button or shortcut on the page. Close this popup and open it again.';
export const FORM_GONE = 'The form went away before it could be filled; nothing was filled.';

/** The host's port closed without a reply: why, in words a user can act on. */
export function hostGone(error: string): string {
  if (/not found|no such native application/i.test(error)) return NOT_INSTALLED;
  if (/forbidden|not allowed/i.test(error)) return NOT_ALLOWED;
  return `The websphinx host stopped without an answer (${error || 'no reason given'}). Check its log, or run: ${INSTALL_LINE}`;
}

const FORM_WORDS: Record<FormKind, string> = {
  login: 'a login form (one visible password field)',
  signup: 'a sign-up form (visible password fields for a new password)',
  change: 'a change-password form (three visible password fields: old, new, repeat)',
};

export const noForm = (kind: FormKind): string => `No suitable form on this page: SPHINX needs ${FORM_WORDS[kind]}.`;

export const filled = (kind: FormKind, name: string): string =>
  kind === 'login'
    ? `Filled the login form for ${name}.`
    : kind === 'signup'
      ? `Created a password for ${name} and filled the sign-up form.`
      : `Filled the change form for ${name}. Once the site has accepted the new password, press Commit.`;

export const committed = (name: string): string => `Committed: the new password of ${name} is now the current one. (Undo goes back.)`;
export const undone = (name: string): string => `Undone: the previous password of ${name} is current again.`;
