// Runs a command with its stdin and stderr on a REAL pseudo-terminal (so
// isatty(0) holds and raw mode works), stdout on a pipe, through a small
// python3 driver that plays the user: for each step it waits until the
// terminal shows `expect`, then types `send` (Return is "\r", Ctrl-C "\x03",
// Ctrl-D "\x04"). Returns the exit code, stdout and what the terminal showed.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DRIVER = String.raw`
import json, os, pty, select, subprocess, sys, time
cfg = json.load(open(sys.argv[1]))
master, slave = pty.openpty()
out = open(cfg['stdout'], 'wb')
child = subprocess.Popen(cfg['argv'], stdin=slave, stdout=out, stderr=slave, cwd=cfg['cwd'], env=cfg['env'], start_new_session=True)
steps = cfg['steps']
seen = b''
pos = 0  # where the next expected text is looked for
deadline = time.time() + cfg['timeout']
while True:
    r, _, _ = select.select([master], [], [], 0.05)
    if master in r:
        seen += os.read(master, 4096)
    while steps:
        i = seen.find(steps[0]['expect'].encode(), pos)
        if i < 0:
            break
        pos = i + len(steps[0]['expect'])
        os.write(master, steps.pop(0)['send'].encode())
    if child.poll() is not None and not r:
        break
    if time.time() > deadline:
        child.kill()
        seen += b'\n[pty driver: timeout]'
        break
rc = child.wait()
open(cfg['transcript'], 'wb').write(seen)
sys.exit(rc if rc >= 0 else 200 - rc)  # killed by signal N: 200 + N
`;

export interface PtyStep {
  /** text to wait for on the terminal */
  expect: string;
  /** keystrokes to type then */
  send: string;
}

export interface PtyResult {
  code: number | null;
  stdout: string;
  /** everything the terminal showed (prompts, stderr) */
  terminal: string;
}

export function runOnPty(argv: string[], steps: PtyStep[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<PtyResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sphinx-pty-'));
  const files = { driver: join(dir, 'driver.py'), cfg: join(dir, 'cfg.json'), stdout: join(dir, 'stdout'), transcript: join(dir, 'terminal') };
  writeFileSync(files.driver, DRIVER);
  writeFileSync(
    files.cfg,
    JSON.stringify({ argv, steps, cwd: opts.cwd, env: opts.env, stdout: files.stdout, transcript: files.transcript, timeout: (opts.timeoutMs ?? 30000) / 1000 }),
    { mode: 0o600 },
  );
  return new Promise((res, rej) => {
    const p = spawn('python3', [files.driver, files.cfg], { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('error', rej);
    p.on('close', (code) => {
      const read = (f: string): string => {
        try {
          return readFileSync(f, 'utf8');
        } catch {
          return '';
        }
      };
      const out = { code, stdout: read(files.stdout), terminal: read(files.transcript) };
      rmSync(dir, { recursive: true, force: true });
      res(out);
    });
  });
}
