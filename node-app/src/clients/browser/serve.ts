/**
 * Serves the browser client from the node's WebSocket port (contract: createBrowserClientHandler).
 * The files are small, so they are read once, with a precomputed gzip body and ETag each, and
 * served from memory. A strict Content-Security-Policy allows only this page's own script, style
 * and a WebSocket back to the node: even if some text slipped into the DOM as HTML, no injected
 * script could run.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
}

/** URL path -> file in public/. Assets live under /client/ so they never shadow node routes. */
const ROUTES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/client/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/client/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/client/icon.svg': { file: 'icon.svg', type: 'image/svg+xml' },
  '/favicon.ico': { file: 'icon.svg', type: 'image/svg+xml' },
};

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self' ws: wss:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // Revalidate every time (cheap: 304 by ETag) so a rolling update never leaves a stale client.
  'Cache-Control': 'no-cache',
};

/**
 * Where the built page is: `public/` beside this module in dist/, where `npm run build` bundles
 * app.js and copies the static files (the image carries dist/); from the source tree (ts-jest), the
 * same folder under dist/. A folder counts only if every served file is in it, so a source
 * `public/` (no bundle) is never served by mistake.
 */
export function findPublicDir(from: string = __dirname): string {
  const candidates = [
    path.join(from, 'public'),
    path.resolve(from, '..', '..', '..', '..', 'dist', 'node-app', 'src', 'clients', 'browser', 'public'),
  ];
  const files = [...new Set(Object.values(ROUTES).map((r) => r.file))];
  for (const dir of candidates) {
    if (files.every((file) => fs.existsSync(path.join(dir, file)))) return dir;
  }
  throw new Error(`browser client files not found (run \`npm run build\`); looked in ${candidates.join(' and ')}`);
}

function loadAssets(dir: string): Map<string, Asset> {
  const byFile = new Map<string, Asset>();
  const assets = new Map<string, Asset>();
  for (const [route, { file, type }] of Object.entries(ROUTES)) {
    let asset = byFile.get(file);
    if (!asset) {
      const body = fs.readFileSync(path.join(dir, file));
      asset = { body, gzip: gzipSync(body, { level: 9 }), type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
      byFile.set(file, asset);
    }
    assets.set(route, { ...asset, type });
  }
  return assets;
}

export function createBrowserClientHandler(opts: { publicDir?: string } = {}): (req: http.IncomingMessage, res: http.ServerResponse) => boolean {
  const assets = loadAssets(opts.publicDir ?? findPublicDir());
  return (req, res) => {
    const pathname = (req.url ?? '/').split('?')[0];
    const asset = assets.get(pathname);
    if (!asset) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return true;
    }
    const headers: Record<string, string | number> = { ...SECURITY_HEADERS, 'Content-Type': asset.type, ETag: asset.etag, Vary: 'Accept-Encoding' };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? asset.gzip : asset.body;
    if (gzip) headers['Content-Encoding'] = 'gzip';
    headers['Content-Length'] = body.length;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
