/**
 * Runs a long user-facing command (vagrant up, the synthesized scripts) with its output streamed
 * line by line into the test log as it happens, so a CI log shows where a run is and where it
 * stopped; bounded in time, the exit status and the whole output returned.
 */
import { spawn } from 'node:child_process';

export interface StreamResult {
  code: number;
  output: string;
}

export function runStreaming(
  argv: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; say: (line: string) => void; prefix: string },
): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    // Own process group: a timeout ends the command and everything it started (vagrant's ssh, node).
    const child = spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const partial = { stdout: '', stderr: '' };
    const take = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const text = partial[stream] + chunk.toString('utf8');
      const lines = text.split('\n');
      partial[stream] = lines.pop() ?? '';
      for (const line of lines) {
        output += `${line}\n`;
        opts.say(`${opts.prefix} | ${line}`);
      }
    };
    child.stdout.on('data', take('stdout'));
    child.stderr.on('data', take('stderr'));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(' ')}: could not start (${err.message})`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      for (const rest of [partial.stdout, partial.stderr]) if (rest) output += `${rest}\n`;
      if (timedOut) reject(new Error(`${argv.join(' ')}: timed out after ${opts.timeoutMs} ms`));
      else resolve({ code: code ?? (signal ? 128 : -1), output });
    });
  });
}
