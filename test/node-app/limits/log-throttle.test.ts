import type { Logger } from '../../../node-app/src/log';
import { LogThrottle } from '../../../node-app/src/limits/log-throttle';

function recorder() {
  const lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const log: Logger = {
    debug: (msg, fields) => lines.push({ level: 'debug', msg, fields }),
    info: (msg, fields) => lines.push({ level: 'info', msg, fields }),
    warn: (msg, fields) => lines.push({ level: 'warn', msg, fields }),
    error: (msg, fields) => lines.push({ level: 'error', msg, fields }),
    child: () => log,
  };
  return { log, lines };
}

it('logs the first of each kind in full and the rest as one summary line with counts', () => {
  const { log, lines } = recorder();
  let now = 0;
  const t = new LogThrottle(log, 'bad client frames', { intervalMs: 10_000, now: () => now });
  for (let i = 0; i < 10_000; i++) t.note('error: Invalid JSON format', (l) => l.info('bad client frame', { i }));
  t.note('error: Unknown message type: <dict>', (l) => l.info('bad client frame', { other: true }));
  now = 10_000;
  t.flush();
  expect(lines).toEqual([
    { level: 'info', msg: 'bad client frame', fields: { i: 0 } },
    { level: 'info', msg: 'bad client frame', fields: { other: true } },
    {
      level: 'warn',
      msg: 'bad client frames',
      fields: { count: 10_001, by_kind: { 'error: Invalid JSON format': 10_000, 'error: Unknown message type: <dict>': 1 }, interval_s: 10 },
    },
  ]);
  // A new interval logs its first occurrence again; a quiet one writes nothing.
  t.flush();
  t.note('error: Invalid JSON format', (l) => l.info('bad client frame', { again: true }));
  expect(lines[3]).toEqual({ level: 'info', msg: 'bad client frame', fields: { again: true } });
  t.flush();
  expect(lines).toHaveLength(5);
});
