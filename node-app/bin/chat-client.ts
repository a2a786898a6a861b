#!/usr/bin/env node
/**
 * chat-client: the interactive terminal UI, or one non-interactive command (see USAGE).
 * The UI's libraries are loaded only for the UI, so scripted commands start fast.
 */
import { EXIT, USAGE, UsageError, runCommand } from '../src/clients/cli/commands';
import { AddressError } from '../src/clients/core/address';

const COMMANDS = new Set(['rooms', 'create', 'send', 'follow', 'delete']);

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const [first, ...rest] = argv;
  const interrupted = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  try {
    if (first !== undefined && COMMANDS.has(first)) {
      return await runCommand(first, rest, {
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
        env: process.env,
        interrupted,
      });
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { runTerminalUi } = require('../src/clients/tui/run') as typeof import('../src/clients/tui/run');
    return await runTerminalUi(first === 'ui' ? rest : argv, process.env);
  } catch (err) {
    if (err instanceof UsageError || err instanceof AddressError) {
      process.stderr.write(`chat-client: ${(err as Error).message}\n\n${USAGE}\n`);
      return EXIT.usage;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Sockets and timers are closed by now; exit explicitly so a stray handle never hangs a script.
    setTimeout(() => process.exit(code), 50).unref();
  },
  (err: unknown) => {
    process.stderr.write(`chat-client: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(EXIT.failed);
  },
);
