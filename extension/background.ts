// The background (a service worker in Chromium, an event page in Firefox):
// the popup's requests run here, so that they finish even when the popup
// closes (a pinentry window taking the focus closes it). One request: ask the
// websphinx host over native messaging, fill the page with
// chrome.scripting.executeScript, answer the popup. A password lives in a
// local variable from the host's reply until the fill script has it, and no
// longer: nothing stores it, nothing logs it.
import { api, type PopupAnswer, type PopupRequest } from './api.js';
import { inPage, type Filled, type FormKind, type Scan } from './forms.js';
import * as text from './messages.js';
import { changeRequest, commitRequest, createRequest, listRequest, loginRequest, readReply, siteOf, undoRequest, type HostRequest, type Outcome } from './protocol.js';

const HOST = 'websphinx';

class Stop extends Error {}

/** One request to the host on its own connection; the reply's meaning. */
function ask(req: HostRequest): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let port: chrome.runtime.Port;
    try {
      port = api.runtime.connectNative(HOST);
    } catch (e) {
      reject(new Stop(text.hostGone(String(e))));
      return;
    }
    let done = false;
    port.onMessage.addListener((msg: unknown) => {
      done = true;
      port.disconnect();
      resolve(readReply(req, msg));
    });
    port.onDisconnect.addListener((p: chrome.runtime.Port & { error?: { message?: string } }) => {
      if (done) return;
      done = true;
      reject(new Stop(text.hostGone(p.error?.message ?? api.runtime.lastError?.message ?? '')));
    });
    port.postMessage(req);
  });
}

async function siteOfTab(tabId: number): Promise<string> {
  const tab = await api.tabs.get(tabId);
  const site = siteOf(tab.url);
  if (!site) throw new Stop(tab.url === undefined ? text.NO_ACCESS : text.NOT_A_PAGE);
  return site;
}

/** The frames' forms (every frame of the tab). */
async function scan(tabId: number): Promise<Array<{ frameId: number; forms: Scan }>> {
  try {
    const r = await api.scripting.executeScript({ target: { tabId, allFrames: true }, func: inPage, args: [] });
    return r.filter((x) => x.result).map((x) => ({ frameId: x.frameId, forms: x.result as Scan }));
  } catch {
    throw new Stop(text.NO_ACCESS);
  }
}

/**
 * The frame holding a form of `kind` (the top frame first). Only frames of
 * the site itself: a password for the site never goes into a frame of
 * another host (an advertisement's, say), whatever it shows.
 */
async function frameWith(tabId: number, site: string, kind: FormKind): Promise<number> {
  const frames = (await scan(tabId)).filter((f) => f.forms.host === site).sort((a, b) => a.frameId - b.frameId);
  const f = frames.find((x) => x.forms[kind] > 0);
  if (!f) throw new Stop(text.noForm(kind));
  return f.frameId;
}

/** Fills the form in that frame if it still shows the site (the page may have moved on while pinentry asked). */
async function fill(tabId: number, frameId: number, site: string, kind: FormKind, name: string, values: string[]): Promise<void> {
  let r: Array<{ result?: unknown }> = [];
  try {
    r = await api.scripting.executeScript({ target: { tabId, frameIds: [frameId] }, func: inPage, args: [{ kind, site, name, values }] });
  } catch {
    /* the frame is gone, or navigated away (activeTab no longer applies) */
  } finally {
    values.fill('');
  }
  if (!(r[0]?.result as Filled | undefined)?.filled) throw new Stop(text.FORM_GONE);
}

function password(o: Outcome): string {
  if (o.kind !== 'password') throw new Stop(text.HOST_FAILED);
  return o.password;
}

async function run(req: PopupRequest): Promise<PopupAnswer> {
  const site = await siteOfTab(req.tabId);
  switch (req.op) {
    case 'open': {
      const forms = (await scan(req.tabId)).filter((f) => f.forms.host === site).reduce((a, f) => ({ login: a.login + f.forms.login, signup: a.signup + f.forms.signup, change: a.change + f.forms.change }), { login: 0, signup: 0, change: 0 });
      const list = await ask(listRequest(site));
      if (list.kind !== 'names') return { ok: false, site, text: text.HOST_FAILED };
      return { ok: true, site, names: list.names, forms, text: list.names.length ? '' : `No users stored for ${site} yet: sign up below.` };
    }
    case 'login': {
      const frameId = await frameWith(req.tabId, site, 'login');
      await fill(req.tabId, frameId, site, 'login', req.name, [password(await ask(loginRequest(site, req.name)))]);
      return { ok: true, site, text: text.filled('login', req.name) };
    }
    case 'signup': {
      const create = createRequest(site, req.name, req.classes, req.size);
      if (typeof create === 'string') return { ok: false, site, text: create };
      const frameId = await frameWith(req.tabId, site, 'signup');
      await fill(req.tabId, frameId, site, 'signup', req.name, [password(await ask(create))]);
      return { ok: true, site, text: text.filled('signup', req.name) };
    }
    case 'change': {
      const frameId = await frameWith(req.tabId, site, 'change');
      const values = [password(await ask(loginRequest(site, req.name)))];
      try {
        values.push(password(await ask(changeRequest(site, req.name))));
      } catch (e) {
        values.fill('');
        throw e;
      }
      await fill(req.tabId, frameId, site, 'change', req.name, values);
      return { ok: true, site, text: text.filled('change', req.name) };
    }
    case 'commit':
    case 'undo': {
      const o = await ask(req.op === 'commit' ? commitRequest(site, req.name) : undoRequest(site, req.name));
      if (o.kind !== 'done') return { ok: false, site, text: text.HOST_FAILED };
      return { ok: true, site, text: req.op === 'commit' ? text.committed(req.name) : text.undone(req.name) };
    }
  }
}

api.runtime.onMessage.addListener((req: PopupRequest, sender, reply: (a: PopupAnswer) => void) => {
  if (sender.id !== api.runtime.id || !sender.url?.startsWith(api.runtime.getURL('popup.html'))) return false; // the popup only, never a page
  run(req).then(reply, (e: unknown) => reply({ ok: false, text: e instanceof Stop ? e.message : `SPHINX failed: ${String(e)}` }));
  return true;
});
