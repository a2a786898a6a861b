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
    // Ink 3 draws only the final frame, at exit, when is-ci says it runs under CI: a person at a
    // real terminal with CI=1 in the environment (some container images set it; so does our CI,
    // which drives this UI in tmux) saw a blank screen. The UI runs on a TTY, so it is interactive
    // whatever the environment says; is-ci's generic variables are read once, when Ink loads.
    if (process.stdout.isTTY) {
      for (const v of ['CI', 'CONTINUOUS_INTEGRATION', 'BUILD_NUMBER', 'RUN_ID']) delete process.env[v];
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
