// A REAL pinentry (pinentry-tty) for tests, run on a pseudo-terminal that a
// small python3 driver owns: the Assuan conversation stays on the wrapper's
// stdin/stdout (as getpwd talks it), while the driver plays the user on the
// pty: it waits for the prompt, then types the password and Return (or
// Ctrl-D, which cancels). Point $PINENTRY at `path`.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTools, shq } from './x11-env.js';

const DRIVER = String.raw`
import json, os, pty, select, subprocess, sys, time
cfg = json.load(open(sys.argv[1]))
master, slave = pty.openpty()
# The slave stays open here until pinentry ends: with no slave open, reads on
# the master fail (EIO) before pinentry has opened its tty.
child = subprocess.Popen([cfg['program'], '--ttyname', os.ttyname(slave)])
prompt = cfg['prompt'].encode()
seen = b''
answered = False
deadline = time.time() + cfg['timeout']
while child.poll() is None:
    if time.time() > deadline:
        child.kill()
        break
    r, _, _ = select.select([master], [], [], 0.05)
    if master in r:
        seen += os.read(master, 4096)
        if not answered and prompt in seen:
            answered = True
            if cfg['password'] is None:
                os.write(master, b'\x04')
            else:
                with open(cfg['passwordFile'], 'rb') as f:
                    os.write(master, f.read() + b'\r')
rc = child.wait()
with open(cfg['log'], 'ab') as f:
    f.write(seen + b'\n--- end of pinentry (answered=%d) ---\n' % answered)
sys.exit(rc)
`;

export interface PtyPinentry {
  /** the program to put in $PINENTRY */
  path: string;
  /** what pinentry showed on its terminal, all runs */
  transcript(): string;
  /** how many times pinentry was started */
  runs(): number;
}

/**
 * @param password what the simulated user types (null: cancel with Ctrl-D)
 * @param prompt the text to wait for before typing (getpwd's prompt)
 */
export function ptyPinentry(dir: string, password: string | null, prompt = 'SPHINX master password:'): PtyPinentry {
  requireTools('pinentry-tty', 'python3');
  const driver = join(dir, 'pinentry-pty.py');
  const cfgFile = join(dir, 'pinentry-pty.json');
  const pwFile = join(dir, 'pinentry-pty.pw');
  const log = join(dir, 'pinentry-pty.log');
  const path = join(dir, 'pinentry-pty');
  writeFileSync(driver, DRIVER);
  writeFileSync(pwFile, password ?? '', { mode: 0o600 });
  writeFileSync(log, '');
  writeFileSync(cfgFile, JSON.stringify({ program: 'pinentry-tty', prompt, password: password === null ? null : 'file', passwordFile: pwFile, log, timeout: 30 }));
  writeFileSync(path, `#!/bin/sh\nexec python3 ${shq(driver)} ${shq(cfgFile)}\n`, { mode: 0o755 });
  appendFileSync(log, '');
  return {
    path,
    transcript: () => (existsSync(log) ? readFileSync(log, 'utf8') : ''),
    runs: () => (existsSync(log) ? readFileSync(log, 'utf8').split('--- end of pinentry').length - 1 : 0),
  };
}
