import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { createBrowserClientHandler, findPublicDir } from '../../../../node-app/src/clients/browser/serve';

let server: http.Server;
let base: string;

beforeAll(async () => {
  const handler = createBrowserClientHandler();
  server = http.createServer((req, res) => {
    if (!handler(req, res)) {
      res.writeHead(404);
      res.end('fallback');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

it('serves the page at / with a strict content security policy', async () => {
  const res = await get('/');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(res.headers['content-security-policy']).toContain("script-src 'self'");
  expect(res.headers['content-security-policy']).toContain("default-src 'none'");
  expect(res.body.toString()).toContain('<script src="/client/app.js" defer></script>');
});

it('serves script and stylesheet, gzipped when asked', async () => {
  const js = await get('/client/app.js', { 'accept-encoding': 'gzip, deflate' });
  expect(js.status).toBe(200);
  expect(js.headers['content-encoding']).toBe('gzip');
  expect(gunzipSync(js.body).toString()).toContain('textContent');
  const css = await get('/client/style.css');
  expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  expect(css.headers['content-encoding']).toBeUndefined();
});

it('answers a matching ETag with 304 and HEAD without a body', async () => {
  const first = await get('/client/app.js');
  const again = await get('/client/app.js', { 'if-none-match': String(first.headers.etag) });
  expect(again.status).toBe(304);
  expect(again.body.length).toBe(0);
  const head = await get('/', {}, 'HEAD');
  expect(head.status).toBe(200);
  expect(head.body.length).toBe(0);
});

it('leaves every other path to the node (health, metrics, unknown)', async () => {
  for (const p of ['/healthz', '/metrics', '/client/../package.json', '/client/', '/app.js']) {
    const res = await get(p);
    expect([p, res.status, res.body.toString()]).toEqual([p, 404, 'fallback']);
  }
});

it('refuses other methods on its own paths', async () => {
  const res = await get('/', {}, 'POST');
  expect(res.status).toBe(405);
  expect(res.headers.allow).toBe('GET, HEAD');
});

it('serves the bundle from dist/, whether it runs compiled or from the source tree', () => {
  const dist = `${process.cwd()}/dist/node-app/src/clients/browser/public`;
  expect(findPublicDir(`${process.cwd()}/dist/node-app/src/clients/browser`)).toBe(dist);
  expect(findPublicDir(`${process.cwd()}/node-app/src/clients/browser`)).toBe(dist);
  expect(() => findPublicDir('/nonexistent/x/y/z/w/v')).toThrow(/browser client files not found \(run `npm run build`\)/);
});

it('serves one script that carries the shared ordering buffer and request builders', async () => {
  const js = (await get('/client/app.js')).body.toString();
  // Texts that exist only in core/message-buffer.ts and core/requests.ts.
  expect(js).toContain('resumeAfter must be a non-negative integer');
  expect(js).toContain('extended');
  expect(js).not.toMatch(/\brequire\(|\bimport\s*\(/);
});

it('never puts message text into the page as HTML', () => {
  const fs = require('node:fs') as typeof import('node:fs');
  const dir = `${process.cwd()}/node-app/src/clients/browser/app`;
  const sources = fs.readdirSync(dir).map((f) => fs.readFileSync(`${dir}/${f}`, 'utf8'));
  sources.push(fs.readFileSync(`${findPublicDir()}/app.js`, 'utf8'));
  for (const src of sources) expect(src).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
});
