// `websphinx install` / `uninstall`: the native-messaging host manifests
// (websphinx.md §5). Paths and contents are pure functions; install() and
// uninstall() are the thin file-writing shell around them.
import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

export const BROWSERS = ['firefox', 'chromium', 'chrome'] as const;
export type Browser = (typeof BROWSERS)[number];

export const HOST_NAME = 'websphinx';
export const MANIFEST_FILE = `${HOST_NAME}.json`;
export const CHROME_EXTENSION_ID = 'ojbhlhidchjkmjmpeonendekpoacahni';
export const FIREFOX_EXTENSION_ID = 'sphinx@ctrlc.hu';

/** The manifest's JSON object for one browser. */
export function manifest(browser: Browser, hostPath: string): Record<string, unknown> {
  if (!isAbsolute(hostPath)) throw new Error(`internal: host path must be absolute: ${hostPath}`);
  const base = { name: HOST_NAME, description: 'SPHINX password store host for the websphinx extension (sphinx-ts)', path: hostPath, type: 'stdio' };
  return browser === 'firefox' ? { ...base, allowed_extensions: [FIREFOX_EXTENSION_ID] } : { ...base, allowed_origins: [`chrome-extension://${CHROME_EXTENSION_ID}/`] };
}

/** Where the browser looks for host manifests, per user (under home) or system-wide. */
export function manifestDir(browser: Browser, system: boolean, home: string): string {
  if (system) return { firefox: '/usr/lib/mozilla/native-messaging-hosts', chromium: '/etc/chromium/native-messaging-hosts', chrome: '/etc/opt/chrome/native-messaging-hosts' }[browser];
  return { firefox: join(home, '.mozilla/native-messaging-hosts'), chromium: join(home, '.config/chromium/NativeMessagingHosts'), chrome: join(home, '.config/google-chrome/NativeMessagingHosts') }[browser];
}

/** The browser's own per-user directory: when it exists, the browser has been used by this user. */
export function browserHome(browser: Browser, home: string): string {
  return { firefox: join(home, '.mozilla'), chromium: join(home, '.config/chromium'), chrome: join(home, '.config/google-chrome') }[browser];
}

export interface InstallOptions {
  /** undefined: the browsers this user has run (per user) or all (--system) */
  browser?: Browser | 'all';
  system: boolean;
  home: string;
}

export class InstallError extends Error {
  override name = 'InstallError';
}

/** The browsers an install/uninstall applies to. */
export function selectBrowsers(o: InstallOptions, forInstall: boolean): Browser[] {
  if (o.browser === 'all' || (o.browser === undefined && (o.system || !forInstall))) return [...BROWSERS];
  if (o.browser) return [o.browser];
  const found = BROWSERS.filter((b) => existsSync(browserHome(b, o.home)));
  if (!found.length) throw new InstallError(`no Firefox, Chromium or Chrome profile found under ${o.home}: name the browser with --browser firefox|chromium|chrome|all`);
  return found;
}

/** Writes one manifest per browser; returns the files written. */
export function install(o: InstallOptions, hostPath: string): string[] {
  try {
    accessSync(hostPath, constants.X_OK);
  } catch {
    throw new InstallError(`the host ${hostPath} is not executable: run \`npm run build\` (or chmod +x it) first`);
  }
  const written: string[] = [];
  for (const b of selectBrowsers(o, true)) {
    const dir = manifestDir(b, o.system, o.home);
    const file = join(dir, MANIFEST_FILE);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      writeFileSync(file, JSON.stringify(manifest(b, hostPath), null, 2) + '\n', { mode: 0o644 });
    } catch (e) {
      throw new InstallError(`cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}${o.system ? ' (--system needs root)' : ''}`);
    }
    written.push(file);
  }
  return written;
}

/** Removes the manifests that exist; returns the files removed. */
export function uninstall(o: InstallOptions): string[] {
  const removed: string[] = [];
  for (const b of selectBrowsers(o, false)) {
    const file = join(manifestDir(b, o.system, o.home), MANIFEST_FILE);
    if (!existsSync(file)) continue;
    try {
      rmSync(file);
    } catch (e) {
      throw new InstallError(`cannot remove ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    removed.push(file);
  }
  return removed;
}
