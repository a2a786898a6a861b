/**
 * The peer link's HTTP/1.1 client against real servers on loopback: Node's http server (what our
 * nodes run) and raw TCP servers that answer the ways an HTTP/1.0 server (Python's), a chunked
 * server or a misbehaving one would, byte for byte.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { HttpClient, HttpExchangeError } from '../../../node-app/src/peers/http-client';

const clients: HttpClient[] = [];
const servers: net.Server[] = [];

function clientFor(port: number, opts: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}): HttpClient {
  const c = new HttpClient({ host: '127.0.0.1', port, hostHeader: `127.0.0.1:${port}`, maxSockets: 8, maxResponseBytes: 1 << 20, ...opts });
  clients.push(c);
  return c;
}

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

/** A raw server: `answer(request, socket)` runs for each whole request (head + Content-Length body). */
async function rawServer(answer: (req: { head: string; body: Buffer }, socket: net.Socket, n: number) => void): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  let n = 0;
  const port = await listen(
    net.createServer((socket) => {
      connections++;
      let buf = Buffer.alloc(0);
      socket.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.toString('latin1', 0, end);
          const len = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (buf.length < end + 4 + len) return;
          const body = buf.subarray(end + 4, end + 4 + len);
          buf = buf.subarray(end + 4 + len);
          answer({ head, body }, socket, n++);
        }
      });
      socket.on('error', () => undefined);
    }),
  );
  return { port, connections: () => connections };
}

/** Writes `text` one byte per event-loop turn: every parser state must resume at any byte. */
async function dribble(socket: net.Socket, text: string): Promise<void> {
  for (const ch of Buffer.from(text, 'latin1')) {
    socket.write(Buffer.from([ch]));
    await new Promise((r) => setImmediate(r));
  }
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

describe('HttpClient', () => {
  test('posts to a keep-alive server and reuses one socket for calls one after another', async () => {
    let connections = 0;
    const seen: Array<{ method?: string; url?: string; host?: string; type?: string; body: string }> = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, host: req.headers.host, type: req.headers['content-type'], body: Buffer.concat(chunks).toString() });
        res.writeHead(200, { 'Content-Type': 'text/xml', 'X-Twice': ['a', 'b'] });
        res.end(`reply to ${Buffer.concat(chunks).toString()}`);
      });
    });
    server.on('connection', () => connections++);
    const port = await listen(server);
    const c = clientFor(port);
    for (let i = 0; i < 3; i++) {
      const r = await c.post('/RPC2', { 'Content-Type': 'text/xml' }, Buffer.from(`call ${i}`), 2000);
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe(`reply to call ${i}`);
      expect(r.headers['content-type']).toBe('text/xml');
      expect(r.headers['x-twice']).toEqual(['a', 'b']);
    }
    expect(seen).toEqual([0, 1, 2].map((i) => ({ method: 'POST', url: '/RPC2', host: `127.0.0.1:${port}`, type: 'text/xml', body: `call ${i}` })));
    expect(connections).toBe(1);
  });

  test('reads an HTTP/1.0 reply without Content-Length to the end of the connection, and does not reuse it', async () => {
    const s = await rawServer((req, socket) => {
      socket.end(`HTTP/1.0 200 OK\r\nServer: BaseHTTP/0.6 Python/3.11\r\nContent-type: text/xml\r\n\r\n<answer>${req.body.toString()}</answer>`);
    });
    const c = clientFor(s.port);
    expect((await c.post('/RPC2', {}, Buffer.from('one'), 2000)).body.toString()).toBe('<answer>one</answer>');
    expect((await c.post('/RPC2', {}, Buffer.from('two'), 2000)).body.toString()).toBe('<answer>two</answer>');
    expect(s.connections()).toBe(2);
  });

  test('an HTTP/1.0 reply with Content-Length still closes the connection unless it says keep-alive', async () => {
    const s = await rawServer((_req, socket) => {
      socket.write('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const c = clientFor(s.port);
    await c.post('/', {}, Buffer.from('a'), 2000);
    await c.post('/', {}, Buffer.from('b'), 2000);
    expect(s.connections()).toBe(2);
  });

  test('parses a chunked reply with trailers and an interim 100 reply, arriving one byte at a time', async () => {
    const s = await rawServer((_req, socket) => {
      void dribble(socket, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n');
    });
    const c = clientFor(s.port);
    const r = await c.post('/', {}, Buffer.from('x'), 5000);
    expect(r.body.toString()).toBe('hello, world');
    // the socket is reused after a chunked reply
    await c.post('/', {}, Buffer.from('y'), 5000);
    expect(s.connections()).toBe(1);
  });

  test('a reused socket the server closed before answering fails as stale; a fresh one does not', async () => {
    const s = await rawServer((_req, socket, n) => {
      if (n === 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else socket.destroy();
    });
    const c = clientFor(s.port);
    await c.post('/', {}, Buffer.from('first'), 2000);
    const second = await c.post('/', {}, Buffer.from('second'), 2000).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(HttpExchangeError);
    expect(second).toMatchObject({ kind: 'connect', stale: true });
    const fresh = await c.post('/', {}, Buffer.from('third'), 2000).catch((e: unknown) => e);
    expect(fresh).toMatchObject({ kind: 'connect', stale: false });
  });

  test('a server that never answers fails the call at its deadline and loses the socket', async () => {
    const s = await rawServer(() => undefined);
    const c = clientFor(s.port);
    const t0 = Date.now();
    await expect(c.post('/', {}, Buffer.from('x'), 150)).rejects.toMatchObject({ kind: 'timeout', message: 'no answer within 150 ms' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(c.sockets).toBe(0);
  });

  test('refuses replies that are too large, longer than announced, or not HTTP', async () => {
    const s = await rawServer((req, socket) => {
      const what = req.body.toString();
      if (what === 'big') socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n');
      else if (what === 'long') socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokay');
      else socket.write('SSH-2.0-OpenSSH\r\n\r\n');
    });
    const c = clientFor(s.port, { maxResponseBytes: 1000 });
    await expect(c.post('/', {}, Buffer.from('big'), 2000)).rejects.toMatchObject({ kind: 'protocol', message: 'reply larger than 1000 bytes' });
    await expect(c.post('/', {}, Buffer.from('long'), 2000)).rejects.toMatchObject({ kind: 'protocol', message: 'reply longer than its Content-Length' });
    await expect(c.post('/', {}, Buffer.from('ssh'), 2000)).rejects.toMatchObject({ kind: 'protocol', message: expect.stringMatching(/^malformed status line/) });
  });

  test('a header value with a line break is refused before anything is sent', async () => {
    const s = await rawServer((_req, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    const c = clientFor(s.port);
    await expect(c.post('/', { 'X-Node': 'node1\r\nX-Evil: 1' }, Buffer.from('x'), 2000)).rejects.toMatchObject({ kind: 'protocol' });
    expect(s.connections()).toBe(0);
  });

  test('opens at most maxSockets connections; further calls wait for a free one', async () => {
    let open = 0;
    let most = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => setTimeout(() => res.end('done'), 30));
    });
    server.on('connection', (sock: net.Socket) => {
      most = Math.max(most, ++open);
      sock.on('close', () => open--);
    });
    const port = await listen(server);
    const c = clientFor(port, { maxSockets: 2 });
    const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => c.post('/', {}, Buffer.from(String(i)), 5000)));
    expect(replies.map((r) => r.body.toString())).toEqual(Array(6).fill('done'));
    expect(most).toBe(2);
  });

  test('close() fails the calls in flight and those waiting for a socket', async () => {
    const s = await rawServer(() => undefined);
    const c = clientFor(s.port, { maxSockets: 1 });
    const inFlight = c.post('/', {}, Buffer.from('a'), 5000).catch((e: unknown) => e);
    const queued = c.post('/', {}, Buffer.from('b'), 5000).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    c.close();
    expect(await inFlight).toMatchObject({ kind: 'closed' });
    expect(await queued).toMatchObject({ kind: 'closed' });
    await expect(c.post('/', {}, Buffer.from('c'), 5000)).rejects.toMatchObject({ kind: 'closed' });
  });

  test('a refused connection fails with the system error code', async () => {
    const probe = net.createServer();
    const port = await listen(probe);
    await new Promise((r) => probe.close(r));
    servers.splice(servers.indexOf(probe), 1);
    await expect(clientFor(port).post('/', {}, Buffer.from('x'), 2000)).rejects.toMatchObject({ kind: 'connect', code: 'ECONNREFUSED' });
  });
});
