/**
 * Structured JSON logger: one line per event, so `docker service logs` and `jq` can read it.
 * The contract (team/contracts.md) fixes the interface; other modules accept any structural Logger.
 */

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function parseLogLevel(value: string | undefined): LogLevel {
  const v = (value ?? 'info').trim().toLowerCase();
  // Python's logging names, so an env file written for the original still works.
  const alias: Record<string, LogLevel> = { warning: 'warn', critical: 'error', fatal: 'error' };
  const level = (alias[v] ?? v) as LogLevel;
  if (!LOG_LEVELS.includes(level)) {
    throw new Error(`invalid log level "${value}": expected one of ${LOG_LEVELS.join(', ')}`);
  }
  return level;
}

export interface LoggerOptions {
  level?: string;
  base?: Record<string, unknown>;
  stream?: NodeJS.WritableStream;
}

/** Errors carry their message and stack into the line; JSON.stringify would print `{}`. */
function plain(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

class JsonLogger implements Logger {
  constructor(
    private readonly minRank: number,
    private readonly base: Record<string, unknown>,
    private readonly stream: NodeJS.WritableStream,
  ) {}

  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (RANK[level] < this.minRank) return;
    const line: Record<string, unknown> = { time: new Date().toISOString(), level, msg, ...this.base };
    if (fields) for (const [k, v] of Object.entries(fields)) line[k] = plain(v);
    let text: string;
    try {
      text = JSON.stringify(line);
    } catch {
      // A circular or BigInt field must never take the node down with it.
      text = JSON.stringify({ time: line.time, level, msg, ...this.base, note: 'fields not serializable' });
    }
    this.stream.write(text + '\n');
  }

  debug(msg: string, fields?: Record<string, unknown>): void { this.write('debug', msg, fields); }
  info(msg: string, fields?: Record<string, unknown>): void { this.write('info', msg, fields); }
  warn(msg: string, fields?: Record<string, unknown>): void { this.write('warn', msg, fields); }
  error(msg: string, fields?: Record<string, unknown>): void { this.write('error', msg, fields); }
  child(fields: Record<string, unknown>): Logger {
    return new JsonLogger(this.minRank, { ...this.base, ...fields }, this.stream);
  }
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return new JsonLogger(RANK[parseLogLevel(opts.level)], opts.base ?? {}, opts.stream ?? process.stdout);
}

/** Discards everything; for tests and for library callers that pass no logger. */
export const nullLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() { return nullLogger; },
};
