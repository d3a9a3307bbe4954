// The popup, for the current tab's site: its users (list) with Log in,
// Change, Commit and Undo, and Sign up with the new password's classes and
// size. It only shows and asks: every request runs in the background
// (background.ts), which talks to the websphinx host and fills the page.
import { api, type PopupAnswer, type PopupRequest } from './api.js';
import type { ClassLetter } from './protocol.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
let tabId = -1;
let forms = { login: 0, signup: 0, change: 0 };

function show(a: PopupAnswer): void {
  const s = $('status');
  s.textContent = a.text;
  s.className = a.ok ? 'ok' : 'error';
  if (a.site) $('site').textContent = a.site;
}

async function send(req: PopupRequest): Promise<PopupAnswer> {
  const buttons = Array.from(document.querySelectorAll('button'));
  buttons.forEach((b) => (b.disabled = true));
  const s = $('status');
  s.className = '';
  s.textContent = req.op === 'open' ? '' : 'Waiting for websphinx (answer pinentry)…';
  try {
    const a = (await api.runtime.sendMessage(req)) as PopupAnswer | undefined;
    return a ?? { ok: false, text: 'SPHINX: no answer from the background' };
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

function button(label: string, title: string, onClick: () => void, primary = false): HTMLButtonElement {
  const b = document.createElement('button');
  b.textContent = label;
  b.title = title;
  if (primary) b.className = 'primary';
  b.addEventListener('click', onClick);
  return b;
}

function users(names: string[]): void {
  const ul = $('users');
  ul.replaceChildren();
  for (const name of names) {
    const li = document.createElement('li');
    li.dataset['name'] = name;
    const n = document.createElement('span');
    n.className = 'name';
    n.textContent = name;
    const act = (op: 'login' | 'change' | 'commit' | 'undo') => () => void send({ op, tabId, name }).then(show);
    li.append(
      n,
      button('Log in', 'fill the login form', act('login'), forms.login > 0),
      button('Change', 'fill the change-password form: old, new, new', act('change')),
      button('Commit', 'after the site accepted the new password: make it the current one', act('commit')),
      button('Undo', 'go back to the password before the last commit', act('undo')),
    );
    ul.append(li);
  }
  $('users-section').hidden = names.length === 0;
}

async function open(): Promise<void> {
  // The tab the popup was opened on: the current window's active tab. Where
  // the popup is itself a tab (headless chromium hosts it so), or that tab's
  // URL is hidden from the extension, the tab whose URL the extension may
  // see: without the "tabs" permission, one activeTab was granted for (the
  // last used, if several).
  const self = await api.tabs.getCurrent();
  const [current] = (await api.tabs.query({ active: true, currentWindow: true })).filter((t) => t.id !== self?.id);
  const granted = (await api.tabs.query({})).filter((t) => t.id !== self?.id && /^https?:/.test(t.url ?? '')).sort((a, b) => (b.lastAccessed ?? 0) - (a.lastAccessed ?? 0));
  const tab = current?.url !== undefined ? current : (granted[0] ?? current);
  if (tab?.id === undefined) return show({ ok: false, text: 'No tab to fill.' });
  tabId = tab.id;
  const a = await send({ op: 'open', tabId });
  if (a.ok) {
    forms = a.forms ?? forms;
    users(a.names ?? []);
    $('signup-section').hidden = false;
  }
  show(a);
}

$('signup').addEventListener('submit', (e) => {
  e.preventDefault();
  const classes = Array.from(document.querySelectorAll<HTMLInputElement>('input[name=class]:checked')).map((c) => c.value as ClassLetter);
  const size = Number($<HTMLInputElement>('size').value);
  void send({ op: 'signup', tabId, name: $<HTMLInputElement>('new-name').value.trim(), classes, size }).then(show);
});

void open();
