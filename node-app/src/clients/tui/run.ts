/** Starts the interactive terminal UI; resolves with the exit code when the user quits. */
import React from 'react';
import { render } from 'ink';
import { nodesFrom, parse } from '../cli/commands';
import { TuiController } from './controller';
import { App } from './views';

export async function runTerminalUi(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parse(argv);
  const nodes = nodesFrom(values, positionals, env);
  if (!process.stdin.isTTY) {
    process.stderr.write('chat-client: the interactive UI needs a terminal; for scripts use rooms|create|send|follow (see --help)\n');
    return 2;
  }
  const controller = new TuiController({ username: values.user ?? env.CHAT_USER ?? '', nodes });
  const ink = render(React.createElement(App, { controller }), { exitOnCtrlC: false });
  const quit = new Promise<void>((resolve) => controller.once('quit', () => resolve()));
  // Ctrl-C arrives as a key in raw mode; SIGTERM/SIGHUP come from outside (tmux kill, logout).
  process.stdin.on('data', (d: Buffer) => {
    if (d.length === 1 && d[0] === 0x03) controller.quit();
  });
  process.once('SIGTERM', () => controller.quit());
  process.once('SIGHUP', () => controller.quit());
  await quit;
  ink.unmount();
  return 0;
}
