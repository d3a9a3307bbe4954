#!/usr/bin/env node
// `oracle`: the SPHINX v1 oracle (TLS server). See oracle/config.ts for the
// configuration and `oracle --help`.
import { UsageError } from '../shared/errors.js';
import { packageVersion } from '../shared/version.js';
import { USAGE, loadServerConfig, parseArgs } from './config.js';
import { createLogger, errText } from './log.js';
import { startServer, type OracleServer } from './server.js';

function die(msg: string): never {
  process.stderr.write(`oracle: ${msg.replace(/[\r\n]+/g, ' ')}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let cli;
  try {
    cli = parseArgs(process.argv.slice(2));
  } catch (e) {
    die(`${errText(e)} (see oracle --help)`);
  }
  if (cli.help) {
    process.stdout.write(USAGE);
    return;
  }
  if ('version' in cli && cli.version) {
    process.stdout.write(`oracle ${packageVersion()} (sphinx-ts)\n`);
    return;
  }
  let config;
  try {
    config = loadServerConfig('config' in cli ? cli.config : undefined);
  } catch (e) {
    die(e instanceof UsageError ? e.message : errText(e));
  }
  // Under systemd (stderr connected to the journal) journald stamps each line itself.
  const logger = createLogger({ verbose: config.verbose, timestamps: !process.env['JOURNAL_STREAM'] });
  // Signal handlers first: a signal that arrives while starting must not kill us mid-write.
  let server: OracleServer | undefined;
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info(`${sig} received`);
    if (!server) process.exit(0);
    server.close().then(
      () => process.exit(0),
      (e) => {
        logger.error(`shutdown failed: ${errText(e)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    if (!server) return;
    logger.info('SIGHUP received: reloading the certificate and key');
    void server.reload();
  });
  try {
    server = await startServer({ config, logger });
  } catch (e) {
    die(errText(e));
  }
  if (stopping) await server.close().then(() => process.exit(0));
}

await main();
