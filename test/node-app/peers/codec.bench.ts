/**
 * Peer-link benchmark: prints figures, asserts nothing (house rule: speed is measured, not unit-tested).
 *
 *   npm run build && node dist/test/node-app/peers/codec.bench.js [--quick]
 *
 * 1. codec: µs per decode/encode of realistic bodies, our codec vs the npm `xmlrpc` library (sax +
 *    xmlbuilder), with JSON.parse of the same data as the floor;
 * 2. batch payload: a JSON string param vs a native XML-RPC array, per item;
 * 3. link on loopback: per-message wall time and CPU (both ends in this one process) for one call per
 *    message (npm xmlrpc client+server, ours), our ordered stream without batching, and with batching;
 * 4. the same stream with the receiver in its own process: sender and receiver CPU per message.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import xmlrpc from 'xmlrpc';
import { toBatchJson, fromBatchJson } from '../../../node-app/src/peers/batch-format';
import { PeerLink } from '../../../node-app/src/peers/peer-link';
import { startPeerServer } from '../../../node-app/src/peers/peer-server';
import {
  decodeMethodCall,
  decodeMethodResponse,
  encodeMethodCall,
  type XmlRpcValue,
} from '../../../node-app/src/peers/xmlrpc-codec';
import { loadSamples } from './samples';

// The library's internals have no typings; they are what its client and server run per call.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Deserializer = require('xmlrpc/lib/deserializer') as new () => {
  deserializeMethodCall(s: NodeJS.ReadableStream, cb: (e: unknown, m: string, p: unknown[]) => void): void;
  deserializeMethodResponse(s: NodeJS.ReadableStream, cb: (e: unknown, v: unknown) => void): void;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Serializer = require('xmlrpc/lib/serializer') as { serializeMethodCall(m: string, p: unknown[]): string };

const quick = process.argv.includes('--quick');
const scale = quick ? 0.2 : 1;

function message(i: number): Record<string, XmlRpcValue> {
  return {
    message_id: `a84489cb-3296-48c3-983e-${String(i).padStart(12, '0')}`,
    room_id: '05359493-5f64-4692-9991-fec747d5a7c2',
    username: 'alice',
    content: `hello everyone, this is message number ${i} <with> & entities`,
    sequence_number: i,
    timestamp: '2026-11-26T12:02:00.284011+00:00',
  };
}

function timeSync(label: string, n: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(200, n); i++) fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / n;
  console.log(`  ${label.padEnd(58)} ${us.toFixed(2).padStart(9)} µs`);
  return us;
}

async function timeAsync(label: string, n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(50, n); i++) await fn(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / n;
  console.log(`  ${label.padEnd(58)} ${us.toFixed(2).padStart(9)} µs`);
  return us;
}

function libDecodeCall(xml: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = new PassThrough();
    new Deserializer().deserializeMethodCall(s, (e, _m, p) => (e ? reject(e) : resolve(p)));
    s.end(xml);
  });
}
function libDecodeResponse(xml: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = new PassThrough();
    new Deserializer().deserializeMethodResponse(s, (e, v) => (e ? reject(e) : resolve(v)));
    s.end(xml);
  });
}

async function codecFigures(): Promise<void> {
  console.log('\n1. codec (per body)');
  const samples = loadSamples();
  const bodies: Array<[string, string, 'call' | 'response']> = [
    ['receive_message_broadcast call (~800 B)', encodeMethodCall('receive_message_broadcast', [message(1).room_id, message(1)]), 'call'],
    ['join_room reply (sample, 1005 B)', samples.find((s) => s.body.includes('Successfully joined'))!.body, 'response'],
    ['get_hosted_rooms reply (sample, 9105 B)', samples.find((s) => s.body.includes('node_address'))!.body, 'response'],
  ];
  const n = Math.round(20_000 * scale);
  for (const [name, xml, kind] of bodies) {
    console.log(` ${name}`);
    const value = kind === 'call' ? decodeMethodCall(xml).params : decodeMethodResponse(xml);
    const json = JSON.stringify(value);
    const ours = timeSync('decode: ours', n, () => (kind === 'call' ? decodeMethodCall(xml) : decodeMethodResponse(xml)));
    const lib = await timeAsync('decode: npm xmlrpc (sax, as its client/server run it)', Math.round(n / 4), () =>
      kind === 'call' ? libDecodeCall(xml) : libDecodeResponse(xml),
    );
    timeSync('JSON.parse of the same data (floor)', n, () => JSON.parse(json));
    console.log(`  -> ours is ${(lib / ours).toFixed(1)}x faster at decoding`);
    if (kind === 'call') {
      const params = value as XmlRpcValue[];
      const e1 = timeSync('encode: ours', n, () => encodeMethodCall('receive_message_broadcast', params));
      const e2 = timeSync('encode: npm xmlrpc (xmlbuilder)', Math.round(n / 4), () =>
        Serializer.serializeMethodCall('receive_message_broadcast', params),
      );
      console.log(`  -> ours is ${(e2 / e1).toFixed(1)}x faster at encoding`);
    }
  }
}

function batchPayloadFigures(): void {
  console.log('\n2. batch payload, 100 broadcast items (per item, encode + decode)');
  const items: Array<[string, XmlRpcValue[]]> = Array.from({ length: 100 }, (_, i) => [
    'receive_message_broadcast',
    [message(i).room_id, message(i)],
  ]);
  const n = Math.round(2000 * scale);
  const req = { from: 'node1', stream: 'abcd', seq: 0, items };
  const jsonUs = timeSync('JSON string in one <string> param', n, () => {
    const xml = encodeMethodCall('swarmchat_batch', [toBatchJson(req)]);
    fromBatchJson(decodeMethodCall(xml).params[0] as string);
  });
  const xmlUs = timeSync('native XML-RPC array of [method, params]', n, () => {
    const xml = encodeMethodCall('swarmchat_batch', [items as unknown as XmlRpcValue]);
    decodeMethodCall(xml);
  });
  console.log(`  -> per item: JSON ${(jsonUs / 100).toFixed(2)} µs, XML ${(xmlUs / 100).toFixed(2)} µs`);
}

interface LinkFigure {
  wallUs: number;
  cpuUs: number;
}

async function measureMessages(label: string, n: number, run: (n: number) => Promise<void>): Promise<LinkFigure> {
  await run(Math.min(3000, n)); // warm-up: sockets, and V8 optimizes the hot path only after a few thousand calls
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await run(n);
  const wallUs = Number(process.hrtime.bigint() - t0) / 1e3 / n;
  const c = process.cpuUsage(c0);
  const cpuUs = (c.user + c.system) / n;
  console.log(
    `  ${label.padEnd(52)} ${wallUs.toFixed(1).padStart(8)} µs wall  ${cpuUs.toFixed(1).padStart(8)} µs CPU  ${Math.round(1e6 / wallUs)
      .toString()
      .padStart(7)} msg/s`,
  );
  return { wallUs, cpuUs };
}

async function linkFigures(): Promise<void> {
  console.log('\n3. peer link on loopback (per message; both ends in this process, so CPU is sender + receiver)');
  let received = 0;
  const handlers = {
    receive_message_broadcast: () => {
      received++;
      return true;
    },
  };
  const server = await startPeerServer({ host: '127.0.0.1', port: 0, handlers });
  const lib = xmlrpc.createServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => (lib.httpServer.listening ? r() : lib.httpServer.once('listening', () => r())));
  lib.on('receive_message_broadcast', (_e: unknown, _p: unknown, cb: (e: unknown, v: unknown) => void) => {
    received++;
    cb(null, true);
  });
  const libPort = (lib.httpServer.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${server.port}`;
  const params = (i: number): XmlRpcValue[] => [message(i).room_id, message(i)];
  const n = Math.round(10_000 * scale);

  const libClient = xmlrpc.createClient({ host: '127.0.0.1', port: libPort, path: '/RPC2' });
  const libCall = await measureMessages('npm xmlrpc client -> npm server, 1 call/msg', n, async (k) => {
    for (let i = 0; i < k; i++) {
      await new Promise<void>((resolve, reject) =>
        libClient.methodCall('receive_message_broadcast', params(i), (e: unknown) => (e ? reject(e) : resolve())),
      );
    }
  });

  const callLink = new PeerLink({ selfId: 'a', peerId: 'b', address: url });
  const ourCall = await measureMessages('our call(), 1 awaited call/msg (keep-alive)', n, async (k) => {
    for (let i = 0; i < k; i++) await callLink.call('receive_message_broadcast', params(i));
  });
  // The same call through Node's own http client (keep-alive agent), which our link used before
  // http-client.ts: what the client alone costs.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  await measureMessages("the same call through Node's http client (agent)", n, async (k) => {
    for (let i = 0; i < k; i++) {
      const body = Buffer.from(encodeMethodCall('receive_message_broadcast', params(i)), 'utf8');
      const xml = await new Promise<string>((resolve, reject) => {
        const req = http.request(
          { agent, host: '127.0.0.1', port: server.port, path: '/RPC2', method: 'POST', headers: { 'Content-Type': 'text/xml', 'Content-Length': String(body.length) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      decodeMethodResponse(xml);
    }
  });
  agent.destroy();
  // The floor: the same round trip as bare bytes on a TCP connection (a 1 KiB request, echoed).
  const echo = net.createServer((sock) => sock.on('data', (d) => sock.write(d)));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  const tcp = net.connect((echo.address() as AddressInfo).port, '127.0.0.1');
  tcp.setNoDelay(true);
  await new Promise<void>((r) => tcp.once('connect', () => r()));
  const ping = Buffer.alloc(1024, 0x78);
  await measureMessages('raw TCP round trip, 1 KiB echoed (the floor)', n, async (k) => {
    for (let i = 0; i < k; i++) {
      await new Promise<void>((resolve) => {
        let got = 0;
        const onData = (d: Buffer) => {
          got += d.length;
          if (got >= ping.length) {
            tcp.off('data', onData);
            resolve();
          }
        };
        tcp.on('data', onData);
        tcp.write(ping);
      });
    }
  });
  tcp.destroy();
  echo.close();
  // As deployed: CLUSTER_SECRET set, every request and reply signed and checked (HMAC).
  const secret = 'bench-secret-'.repeat(4);
  const signedServer = await startPeerServer({ host: '127.0.0.1', port: 0, nodeId: 'b', auth: { secret }, handlers });
  const signedLink = new PeerLink({ selfId: 'a', peerId: 'b', address: `http://127.0.0.1:${signedServer.port}`, auth: { secret } });
  await measureMessages('our call(), signed (CLUSTER_SECRET), 1 awaited call/msg', n, async (k) => {
    for (let i = 0; i < k; i++) await signedLink.call('receive_message_broadcast', params(i));
  });
  signedLink.close();
  await signedServer.close();

  const plain = new PeerLink({ selfId: 'a', peerId: 'b', address: url, batching: false });
  const ourPlain = await measureMessages('our ordered stream, no batching (Python fallback)', n, async (k) => {
    for (let i = 0; i < k; i++) plain.post('receive_message_broadcast', params(i));
    await plain.flush();
  });

  const bn = Math.round(50_000 * scale);
  // the burst posts everything before the first batch leaves: the queue bound must admit it
  const batched = new PeerLink({ selfId: 'a', peerId: 'b', address: url, maxQueue: bn });
  const ourBatch = await measureMessages('our ordered stream, batched (burst of posts)', bn, async (k) => {
    for (let i = 0; i < k; i++) batched.post('receive_message_broadcast', params(i));
    await batched.flush();
  });
  // A steadier load: 20 posts per event-loop turn, as a busy room would produce.
  const steady = await measureMessages('our ordered stream, batched (20 posts per tick)', bn, async (k) => {
    for (let i = 0; i < k; i += 20) {
      for (let j = i; j < Math.min(k, i + 20); j++) batched.post('receive_message_broadcast', params(j));
      await new Promise((r) => setImmediate(r));
      while (batched.queued > 5000) await new Promise((r) => setTimeout(r, 1));
    }
    await batched.flush();
  });
  console.log(
    `  batches sent: ${batched.stats.batches} for ${batched.stats.delivered} items (mean ${(batched.stats.delivered / batched.stats.batches).toFixed(1)} per batch)`,
  );
  console.log(
    `  -> batching: ${(ourPlain.wallUs / ourBatch.wallUs).toFixed(0)}x less wall time, ${(ourPlain.cpuUs / ourBatch.cpuUs).toFixed(0)}x less CPU per message than the unbatched stream; ` +
      `${(libCall.cpuUs / ourCall.cpuUs).toFixed(1)}x less CPU per call than npm xmlrpc; steady load ${steady.cpuUs.toFixed(1)} µs CPU/msg`,
  );
  for (const l of [callLink, plain, batched]) {
    if (l.stats.dropped > 0 || l.stats.delivered !== l.stats.posted) {
      throw new Error(`link dropped items (posted ${l.stats.posted}, delivered ${l.stats.delivered}): the figures are void`);
    }
    l.close();
  }
  await server.close();
  await new Promise<void>((r) => lib.httpServer.close(() => r()));
  if (received === 0) throw new Error('nothing was delivered: the benchmark measured nothing');
}

/** utime+stime of a process in µs, from /proc (Linux; 10 ms resolution, fine over thousands of messages). */
function procCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

async function crossProcessFigures(): Promise<void> {
  console.log('\n4. peer link across processes (receiver = our peer server in a child process)');
  const script = path.join(__dirname, 'fixtures', 'peer-server-child.js');
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      createInterface({ input: child.stdout! }).once('line', (l) => resolve(Number(l)));
    });
    const url = `http://127.0.0.1:${port}`;
    const params = (i: number): XmlRpcValue[] => [`r${i % 10}`, { seq: i, content: `message ${i}`, username: 'alice' }];
    const cases: Array<[string, PeerLink, number]> = [
      ['unbatched stream (one call per message)', new PeerLink({ selfId: 'a', peerId: 'c', address: url, batching: false }), Math.round(3000 * scale)],
      ['batched stream, 20 posts per tick', new PeerLink({ selfId: 'a', peerId: 'c', address: url }), Math.round(50_000 * scale)],
    ];
    for (const [label, l, n] of cases) {
      l.post('record', ['warm-up']);
      await l.flush();
      const c0 = process.cpuUsage();
      const r0 = procCpuUs(child.pid!);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i += 20) {
        for (let j = i; j < Math.min(n, i + 20); j++) l.post('record', params(j));
        await new Promise((r) => setImmediate(r));
        // the producer backs off before the bound: we measure capacity, not the overflow policy
        while (l.queued > 5000) await new Promise((r) => setTimeout(r, 1));
      }
      await l.flush();
      const wallUs = Number(process.hrtime.bigint() - t0) / 1e3 / n;
      const c = process.cpuUsage(c0);
      const senderUs = (c.user + c.system) / n;
      const receiverUs = (procCpuUs(child.pid!) - r0) / n;
      if (l.stats.dropped > 0) throw new Error(`${label}: dropped ${l.stats.dropped}, figures void`);
      console.log(
        `  ${label.padEnd(44)} ${wallUs.toFixed(1).padStart(7)} µs wall  sender ${senderUs.toFixed(1).padStart(6)} µs CPU  receiver ${receiverUs
          .toFixed(1)
          .padStart(6)} µs CPU  ${Math.round(1e6 / wallUs).toString().padStart(7)} msg/s`,
      );
      l.close();
    }
  } finally {
    child.stdin!.end();
    child.kill();
  }
}

async function main(): Promise<void> {
  console.log(`peer link benchmark — node ${process.version}, ${quick ? 'quick' : 'full'} run`);
  await codecFigures();
  batchPayloadFigures();
  await linkFigures();
  await crossProcessFigures();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
