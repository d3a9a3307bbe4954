// The native-messaging host's shell: stdin frames in, one request at a time
// through dispatch.ts, framed replies out. stdout carries nothing else
// (console output is sent to stderr); stderr and the optional log get one
// line per request, never a secret.
import { appendFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { clientConfig, type ClientConfig } from '../client/config.js';
import { bindFlows } from '../client/bound-flows.js';
import { Solver } from '../client/puzzle.js';
import { Connector, loadPinned } from '../client/tls.js';
import { configPaths, loadConfigFiles } from '../shared/config.js';
import { websphinxConfig, type WebsphinxConfig } from './config.js';
import { Declined, dispatch, type HostDeps } from './dispatch.js';
import { encodeFrame, FrameReader, type Frame } from './frames.js';
import { Pinentry } from '../client/pinentry.js';
import { FAIL, isRejected, parseRequest, type Reply } from './requests.js';

interface Settings {
  client: ClientConfig;
  web: WebsphinxConfig;
}

/** The config files `sphinx` reads (shared/config.ts configPaths), relative ones against the cwd. */
export function loadSettings(): Settings {
  const sections = loadConfigFiles(configPaths(), false);
  return { client: clientConfig(sections), web: websphinxConfig(sections) };
}

function makeDeps(s: Settings, connector: Connector, solver: Solver): HostDeps {
  return {
    flows: bindFlows(s.client, connector, solver),
    pinentry: new Pinentry(s.web.pinentry),
    rwdKeys: s.client.rwdKeys,
    async strength(pwd) {
      const z = await import('../client/strength.js');
      return z.strengthLine(await z.estimate(pwd));
    },
    async qrSvg() {
      const q = await import('../client/qr.js');
      return q.renderSvg(q.qrPayload(s.client, null));
    },
  };
}

const oneLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 500);

/** Runs the host until stdin ends; resolves with the exit code. */
export function runHost(): Promise<number> {
  // Nothing but frames on stdout, whatever a library prints.
  for (const k of ['log', 'info', 'warn', 'debug'] as const) console[k] = console.error;
  let settings: Settings | null = null;
  let setupError = '';
  try {
    settings = loadSettings();
  } catch (e) {
    setupError = oneLine(e);
  }
  const logFile = settings?.web.log;
  const note = (line: string): void => {
    process.stderr.write(`websphinx: ${line}\n`);
    if (logFile) {
      try {
        appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`, { mode: 0o600 });
      } catch {
        /* a log that cannot be written must not stop the host */
      }
    }
  };
  if (setupError) note(`configuration error: ${setupError}; every request will fail until it is fixed and the browser restarts the host`);
  const solver = new Solver();
  let connector: Connector | null = null;
  let deps: HostDeps | null = null;
  if (settings) {
    try {
      const c = settings.client;
      connector = new Connector({ host: c.address, port: c.port, pinned: c.sslCert ? loadPinned(c.sslCert) : undefined, sslCertPath: c.sslCert });
      deps = makeDeps(settings, connector, solver);
    } catch (e) {
      note(`configuration error: ${oneLine(e)}`);
    }
  }
  const le = endianness() === 'LE';
  const send = (reply: Reply): Promise<void> => new Promise((res) => process.stdout.write(encodeFrame(reply, le), () => res()));

  async function handle(frame: Frame): Promise<void> {
    if (frame.kind === 'oversized') {
      note(`fail: a message of ${frame.length} bytes (longer than the host accepts), skipped`);
      return send(FAIL);
    }
    const req = parseRequest(frame.body);
    if (isRejected(req)) {
      note(`fail: ${req.why}`);
      return send(req.reply);
    }
    if (!deps) {
      note(`${req.cmd}: fail (configuration error)`);
      return send(FAIL);
    }
    let reply: Reply;
    try {
      reply = await dispatch(req, deps);
      note(`${req.cmd}: ok`);
    } catch (e) {
      note(`${req.cmd}: fail (${e instanceof Declined ? e.message : oneLine(e)})`);
      reply = FAIL;
    }
    return send(reply);
  }

  return new Promise((resolve) => {
    const reader = new FrameReader(le);
    let queue = Promise.resolve();
    const done = (code: number): void => {
      solver.close();
      connector?.discard();
      resolve(code);
    };
    process.stdout.on('error', () => done(0)); // the browser went away
    process.stdin.on('data', (chunk: Buffer) => {
      for (const f of reader.push(chunk)) queue = queue.then(() => handle(f)).catch((e) => note(`internal error: ${oneLine(e)}`));
    });
    process.stdin.on('end', () => {
      void queue.then(() => {
        if (reader.pending) note(`stdin ended inside a message (${reader.pending} bytes ignored)`);
        done(0);
      });
    });
  });
}
