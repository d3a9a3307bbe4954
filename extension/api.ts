// The WebExtension API object: Firefox's promise-based `browser`, else
// Chromium's `chrome` (promise-based too in Manifest V3).
declare const browser: typeof chrome | undefined;
export const api: typeof chrome = typeof browser !== 'undefined' ? browser : chrome;

/** A popup's request to the background, and the answer. */
export type PopupRequest =
  | { op: 'open'; tabId: number }
  | { op: 'login' | 'change' | 'commit' | 'undo'; tabId: number; name: string }
  | { op: 'signup'; tabId: number; name: string; classes: Array<'u' | 'l' | 'd' | 's'>; size: number };

export type PopupAnswer =
  | { ok: true; text: string; site?: string; names?: string[]; forms?: { login: number; signup: number; change: number } }
  | { ok: false; text: string; site?: string };
