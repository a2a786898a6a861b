/**
 * Starts a Python program (the interop tests' stand-ins for original DS-G1-SMS nodes, built on
 * the real stdlib `xmlrpc`) that reports on stdout one JSON value per line. Resolves with the
 * process once a line passes `isReady`; every other line, before and after, goes to `onLine`.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface PythonJsonLinesOptions<T> {
  /** what is starting, for the timeout message */
  what: string;
  isReady: (line: T) => boolean;
  onLine: (line: T) => void;
  timeoutMs?: number;
}

export function startPythonJsonLines<T = any>(
  script: string,
  args: string[],
  opts: PythonJsonLinesOptions<T>,
): Promise<ChildProcess> {
  const child = spawn('python3', ['-c', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise<ChildProcess>((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`${opts.what} did not start`)), opts.timeoutMs ?? 10_000);
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${opts.what} exited (code ${code}) before it was ready`));
    });
    child.stdout!.on('data', (d) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, nl)) as T;
        buf = buf.slice(nl + 1);
        if (opts.isReady(line)) {
          clearTimeout(t);
          resolve(child);
        } else opts.onLine(line);
      }
    });
  });
}
