// The extension's manifests (Manifest V3) for Chromium and Firefox, as data:
// build/extension.ts writes them, the tests read them. Permissions are the
// least that fill a form: activeTab (the page the user opened the popup on,
// nothing else), scripting (chrome.scripting.executeScript, MV3's way into a
// page) and nativeMessaging (the websphinx host). No host_permissions: the
// toolbar click or the keyboard shortcut grants the current tab.
import { CHROME_EXTENSION_ID, FIREFOX_EXTENSION_ID } from '../websphinx/install.js';

export { CHROME_EXTENSION_ID, FIREFOX_EXTENSION_ID };

/** The websphinx extensions' public key (websphinx.md §5): it fixes the Chromium id to CHROME_EXTENSION_ID, which installed hosts allow. */
export const WEBSPHINX_KEY =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAiIpLogUg/aqfPydJjvRyxwUYME3LdoG6tHItPEYPPtquG60U1mFopkN2epr9HoyDEX334AsBkyxY6qxbQZZZVY+8xSPnJZhE/g7Cpo/eLvbX68avgavWp2/RCXjaW4BW06v4IcCKlI09jdWR7Oo33RGcsZer/FJTLiunoUl+6W5ap3KAry1JrLg5FwHYicaghwNrxM9zCDUbr0n7g7C7p/oHC/iCSmJgMZo5qA6sXfxxZgy2lTtB0M5y/NihbgeTvoF+GgJ9iFwfwIP4nyK6JPThRqCFguTQCMcvaqhMey9MjUC5aIZ2fRbuEV4XuyV+48jK5Dun/pDgXlzhmzjowwIDAQAB';

export type Target = 'chromium' | 'firefox';
export const TARGETS: readonly Target[] = ['chromium', 'firefox'];

/** The shortcut that opens the popup (and so grants activeTab, like a click on the toolbar icon). */
export const SHORTCUT = 'Alt+Shift+P';

/** Files every build holds besides manifest.json (written by build/extension.ts). */
export const FILES = ['background.js', 'popup.html', 'popup.css', 'popup.js'] as const;

export function manifestFor(target: Target, version: string): Record<string, unknown> {
  const common = {
    manifest_version: 3,
    name: 'SPHINX',
    short_name: 'SPHINX',
    version,
    description: 'Fills login, sign-up and change-password forms with SPHINX passwords from the websphinx host; the master password stays in pinentry.',
    permissions: ['activeTab', 'scripting', 'nativeMessaging'],
    action: { default_popup: 'popup.html', default_title: 'SPHINX' },
    commands: { _execute_action: { suggested_key: { default: SHORTCUT }, description: 'Open SPHINX for this page' } },
    content_security_policy: { extension_pages: "script-src 'self'; object-src 'self'" },
  };
  if (target === 'chromium') return { ...common, key: WEBSPHINX_KEY, minimum_chrome_version: '111', background: { service_worker: 'background.js' } };
  return {
    ...common,
    background: { scripts: ['background.js'] },
    // data_collection_permissions: none (Firefox's declaration that nothing leaves the browser)
    browser_specific_settings: { gecko: { id: FIREFOX_EXTENSION_ID, strict_min_version: '140.0', data_collection_permissions: { required: ['none'] } }, gecko_android: { strict_min_version: '142.0' } },
  };
}
