#!/usr/bin/env node
/**
 * One chat node, configured by environment variables (node-app/README.md has the table).
 * SIGTERM/SIGINT: graceful shutdown within SHUTDOWN_GRACE_MS, then exit with 128 + the signal
 * number, as a process killed by that signal would. Swarm's `on-failure` restart policy relies on
 * it: when an engine stops (node failure) it sends SIGTERM, and a task that exits 0 is "Complete"
 * and is never restarted when the engine comes back.
 */
import { constants } from 'node:os';
import { ConfigError, loadConfig } from '../src/config';
import { createLogger } from '../src/log';
import { startChatNode } from '../src/node/main';

async function main(): Promise<void> {
  let cfg;
  try {
    cfg = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`chat-node: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger({ level: cfg.logLevel, base: { node_id: cfg.nodeId } });
  let running;
  try {
    running = await startChatNode(cfg, log);
  } catch (err) {
    log.error('chat node failed to start', { err });
    process.exit(1);
  }
  const stop = (signal: string) => {
    // A second signal means "now".
    process.once(signal, () => process.exit(130));
    const hard = setTimeout(() => {
      log.error('shutdown exceeded the grace period; exiting', { grace_ms: cfg.shutdownGraceMs });
      process.exit(1);
    }, cfg.shutdownGraceMs + 1000);
    hard.unref();
    running.shutdown(signal).then(
      () => process.exit(128 + (constants.signals[signal as NodeJS.Signals] ?? 0)),
      (err) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (err) => log.error('unhandled rejection', { err }));
}

void main();
