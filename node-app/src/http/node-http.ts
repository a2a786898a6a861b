/**
 * The plain-HTTP side of the WebSocket port: /healthz, /metrics, /membership, the browser client (CLIENTS' hook)
 * and a helpful answer for anything else, instead of the handshake errors the original logged.
 */
import http from 'node:http';
import path from 'node:path';
import type { Logger } from '../log';
import type { MembershipSummary } from './membership';

export type BrowserHandler = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

/**
 * CLIENTS ships the browser client in its own folder; the node serves it when it is built and
 * works without it otherwise, so neither part waits for the other.
 */
export function loadBrowserHandler(log: Logger): BrowserHandler | undefined {
  const modulePath = path.join(__dirname, '..', 'clients', 'browser', 'serve.js');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(modulePath) as { createBrowserClientHandler?: () => BrowserHandler };
    if (typeof mod.createBrowserClientHandler === 'function') return mod.createBrowserClientHandler();
    log.warn('browser client module has no createBrowserClientHandler export', { modulePath });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') log.warn('browser client failed to load', { err });
  }
  return undefined;
}

export interface NodeHttpOptions {
  health(): { ok: boolean; body: Record<string, unknown> };
  metrics(): string;
  /** `GET /membership` (membership.ts); absent without replication, where there is none to report. */
  membership?(): MembershipSummary;
  browser?: BrowserHandler;
  log: Logger;
}

const HELP = (host: string) =>
  [
    'This is a swarm-chat node.',
    '',
    `Chat clients connect with a WebSocket to ws://${host}/ (any path works).`,
    'Plain HTTP endpoints on this port:',
    '  GET /healthz   JSON health (200 ok, 503 while shutting down)',
    '  GET /metrics   Prometheus metrics',
    '  GET /membership  JSON: rooms per voter set, rooms not settled (replicated nodes)',
    '',
  ].join('\n');

export function createNodeHttpHandler(opts: NodeHttpOptions): http.RequestListener {
  return (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://local');
      const isGet = req.method === 'GET' || req.method === 'HEAD';
      if (isGet && url.pathname === '/healthz') {
        const h = opts.health();
        const body = JSON.stringify(h.body);
        res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      if (isGet && url.pathname === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : opts.metrics());
        return;
      }
      if (isGet && url.pathname === '/membership' && opts.membership) {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : JSON.stringify(opts.membership()));
        return;
      }
      if (opts.browser && opts.browser(req, res)) return;
      const host = req.headers.host ?? 'this-host:port';
      if (isGet && (url.pathname === '/' || url.pathname === '/ws')) {
        // A WebSocket endpoint opened in a browser or with curl: say what to do instead.
        res.writeHead(426, { 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket', connection: 'Upgrade' });
        res.end(HELP(host));
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`Not found: ${req.method} ${url.pathname}\n\n${HELP(host)}`);
    } catch (err) {
      opts.log.warn('http request failed', { err });
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('Bad request\n');
    }
  };
}
