/**
 * Running lab commands: every command has a time bound, and a failure throws an error that names
 * the command, its exit status and the tail of its output (what a CI log reader needs to act).
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Resolve with the result instead of throwing when the command exits non-zero. */
  allowFailure?: boolean;
  cwd?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(readonly argv: readonly string[], readonly result: RunResult, reason: string) {
    super(`${argv.join(' ')}: ${reason}\n${tail(result.stderr || result.stdout, 30)}`);
  }
}

export function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** Output kept per stream; beyond it only the end is kept (errors are at the end). */
const MAX_KEPT_CHARS = 1_000_000;

export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const keep = (acc: string, chunk: Buffer): string => {
      const next = acc + chunk.toString('utf8');
      return next.length > MAX_KEPT_CHARS ? next.slice(-MAX_KEPT_CHARS) : next;
    };
    child.stdout.on('data', (c: Buffer) => (stdout = keep(stdout, c)));
    child.stderr.on('data', (c: Buffer) => (stderr = keep(stderr, c)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new CommandError(argv, { code: -1, stdout, stderr }, `could not start (${err.message})`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code: code ?? -1, stdout, stderr };
      if (timedOut) {
        reject(new CommandError(argv, result, `timed out after ${timeoutMs} ms`));
      } else if (code !== 0 && !opts.allowFailure) {
        reject(new CommandError(argv, result, `exited with ${code ?? signal}`));
      } else {
        resolve(result);
      }
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` until it returns a value other than undefined, at most until `timeoutMs` has
 * passed; the error names what was awaited and the last reason the probe gave.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError = '';
  for (let attempt = 0; Date.now() < deadline && attempt < 100_000; attempt++) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await sleep(opts.intervalMs ?? 500);
  }
  throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError}` : ''}`);
}
