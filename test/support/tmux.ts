/**
 * Drives programs in real pseudo-terminals through tmux, on a private tmux server (-L) so a
 * user's own tmux sessions are never touched. Keys are sent one per call: a terminal UI reads
 * what arrives in one read() as one key, so "Down Enter" in one write would be one unknown key.
 */
import { execFileSync } from 'node:child_process';
import { sleep, waitFor } from './wait';

export class Tmux {
  readonly socket = `swarmchat-clients-${process.pid}`;

  private run(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  start(name: string, command: string[], size = { columns: 110, rows: 30 }): void {
    const quoted = command.map((c) => `'${c.replace(/'/g, `'\\''`)}'`).join(' ');
    // `; sleep` keeps the pane (and the last screen) readable after the program exits.
    this.run(['new-session', '-d', '-s', name, '-x', String(size.columns), '-y', String(size.rows), `${quoted}; sleep 600`]);
  }

  async keys(name: string, ...keys: string[]): Promise<void> {
    for (const k of keys) {
      this.run(['send-keys', '-t', name, k]);
      await sleep(120); // pacing: one key per read() of the program
    }
  }

  async type(name: string, text: string): Promise<void> {
    this.run(['send-keys', '-t', name, '-l', text]);
    await sleep(120); // pacing: one key per read() of the program
  }

  screen(name: string, withEscapes = false): string {
    return this.run(['capture-pane', '-p', ...(withEscapes ? ['-e'] : []), '-t', name]);
  }

  /** The name of the program in the pane (node while the client runs, sleep after it exits). */
  command(name: string): string {
    return this.run(['list-panes', '-t', name, '-F', '#{pane_current_command}']).trim();
  }

  async waitForText(name: string, text: string | RegExp, timeoutMs = 10_000): Promise<string> {
    try {
      return await waitFor(`${String(text)} on ${name}`, () => {
        const s = this.screen(name);
        return (typeof text === 'string' ? s.includes(text) : text.test(s)) ? s : undefined;
      }, timeoutMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- screen of ${name} ---\n${this.screen(name)}`);
    }
  }

  killServer(): void {
    try {
      this.run(['kill-server']);
    } catch {
      // no server left: nothing to clean up
    }
  }
}
