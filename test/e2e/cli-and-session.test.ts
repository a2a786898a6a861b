/**
 * The scripted chat-client commands and the ChatSession library against a real three-node
 * cluster on loopback.
 */
import { execFile, spawn } from 'node:child_process';
import type { LocalCluster } from '../../node-app/src/cluster/local-cluster';
import { ChatSession } from '../../node-app/src/clients/core/chat-session';
import type { ChatMessage } from '../../node-app/src/protocol/messages';
import { CLIENT_BIN, nodeAddress, startCluster } from '../support/cluster';
import { freePorts } from '../support/ports';
import { waitFor } from '../support/wait';

jest.setTimeout(60_000);

let cluster: LocalCluster;
const node = (i: number): string => nodeAddress(cluster, i);
/** An address where nothing listens: a port the OS just handed out and took back. */
let DEAD = '';

beforeAll(async () => {
  ({ cluster } = await startCluster());
  DEAD = `127.0.0.1:${(await freePorts(1))[0]}`;
});

afterAll(async () => {
  await cluster?.stop();
});

interface Run { code: number; stdout: string; stderr: string }

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile('node', [CLIENT_BIN, ...args], { timeout: 20_000, env: { ...process.env, CHAT_NODES: '', CHAT_USER: '' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('chat-client commands', () => {
  it('lists no rooms on a fresh cluster, as text and as JSON', async () => {
    const text = await cli('rooms', '-n', node(1));
    expect(text).toEqual({ code: 0, stdout: '', stderr: '' });
    const json = await cli('rooms', '--json', '-n', node(2));
    const list = JSON.parse(json.stdout);
    expect(list).toMatchObject({ rooms: [], total_count: 0, nodes_unavailable: [] });
    expect([...list.nodes_available].sort()).toEqual(['node1', 'node2', 'node3']);
  });

  it('creates a room, refuses a duplicate name on the same node with the node message', async () => {
    const created = await cli('create', 'cli-room', '-d', 'for scripts', '-u', 'alice', '--json', '-n', node(1));
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ room_name: 'cli-room', admin_node: 'node1' });
    const dup = await cli('create', 'cli-room', '-u', 'alice', '-n', node(1));
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("Room with name 'cli-room' already exists");
    const list = await cli('rooms', '-n', node(3));
    expect(list.stdout).toMatch(/^[0-9a-f-]{36} {2}cli-room@node1 {2}members=0 {2}for scripts\n$/);
  });

  it('follows a room from a third node and prints messages sent through the other two, in order', async () => {
    const follower = spawn('node', [CLIENT_BIN, 'follow', 'cli-room', '-u', 'carol', '--json', '--count', '3', '--timeout', '20', '-n', node(3)]);
    let out = '';
    follower.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number>((r) => follower.on('exit', (c) => r(c ?? -1)));
    await waitFor('the follower to join', () => out.includes('"event":"members"'));
    for (const [who, via, text] of [['bob', node(2), 'one'], ['alice', node(1), 'two'], ['bob', node(2), 'three']]) {
      const sent = await cli('send', 'cli-room', text, '-u', who, '--json', '-n', via);
      expect(sent.code).toBe(0);
      expect(JSON.parse(sent.stdout)).toMatchObject({ sequence_number: expect.any(Number), message_id: expect.any(String) });
    }
    expect(await exited).toBe(0);
    const messages = out.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.event === 'message');
    expect(messages.map((m) => [m.username, m.content, m.sequence_number])).toEqual([
      ['bob', 'one', 1],
      ['alice', 'two', 2],
      ['bob', 'three', 3],
    ]);
  });

  it('prints the history of a room as text lines', async () => {
    const run = await cli('follow', 'cli-room', '-u', 'dave', '--count', '3', '--timeout', '10', '-n', node(2));
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toMatch(/^\[\d\d:\d\d:\d\d\] #1 bob: one$/);
  });

  it('tells rooms of the same name apart by name@node, and names the ambiguity otherwise', async () => {
    expect((await cli('create', 'twin', '-u', 'alice', '-n', node(1))).code).toBe(0);
    expect((await cli('create', 'twin', '-u', 'bob', '-n', node(2))).code).toBe(0);
    const ambiguous = await cli('send', 'twin', 'hello', '-u', 'erin', '-n', node(3));
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toMatch(/room name "twin" is ambiguous: twin@node\d \(.*\), twin@node\d/);
    const exact = await cli('send', 'twin@node2', 'hello', '-u', 'erin', '-n', node(3));
    expect(exact).toMatchObject({ code: 0, stdout: expect.stringMatching(/^sent #1 [0-9a-f-]{36}\n$/) });
  });

  it('deletes a room only for its creator', async () => {
    const denied = await cli('delete', 'twin@node1', '-u', 'mallory', '-n', node(1));
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('[UNAUTHORIZED]');
    const ok = await cli('delete', 'twin@node1', '-u', 'alice', '-n', node(1));
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toMatch(/^deleted twin \(/);
    const list = await cli('rooms', '-n', node(1));
    expect(list.stdout).not.toContain('twin@node1');
  });

  it('uses the next node when the first does not answer', async () => {
    const run = await cli('rooms', '-n', `${DEAD},${node(2)}`);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('cli-room@node1');
  });

  it('exits 3 when no node answers, 1 for an unknown room, 2 for bad usage', async () => {
    const down = await cli('rooms', '-n', DEAD);
    expect(down.code).toBe(3);
    expect(down.stderr).toContain(`cannot connect to ws://${DEAD}/`);
    const short = await cli('follow', 'cli-room', '-u', 'gus', '--count', '50', '--timeout', '1', '-n', node(1));
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('chat-client follow: timed out after 1 s with 3 of 50 messages');
    const missing = await cli('send', 'no-such-room', 'x', '-u', 'a', '-n', node(1));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('room "no-such-room" not found');
    for (const bad of [['send', 'only-room', '-u', 'a', '-n', node(1)], ['rooms', '--bogus'], ['rooms', '-n', 'localhost'], ['follow', 'r', '--count', '0', '-u', 'a', '-n', node(1)]]) {
      const r = await cli(...bad);
      expect([bad.join(' '), r.code]).toEqual([bad.join(' '), 2]);
      expect(r.stderr).toContain('usage:');
    }
  });
});

describe('ChatSession', () => {
  it('delivers concurrent traffic from two nodes to a third in sequence order, without gaps or duplicates', async () => {
    const mk = (user: string, n: number): ChatSession => new ChatSession({ nodes: [`ws://${node(n)}`], username: user, pingIntervalMs: 0 });
    const admin = mk('owner', 1);
    const s2 = mk('sender2', 2);
    const s3 = mk('sender3', 3);
    const watcher = mk('watcher', 2);
    const sessions = [admin, s2, s3, watcher];
    await Promise.all(sessions.map((s) => s.connect()));
    try {
      const room = await admin.createRoom('burst');
      for (const s of [s2, s3, watcher]) await s.joinRoom(room.room_id);
      const seen: ChatMessage[] = [];
      const gaps: unknown[] = [];
      watcher.on('message', (m) => seen.push(m));
      watcher.on('gap', (g) => gaps.push(g));
      const burst = (s: ChatSession): Promise<unknown> =>
        Promise.all(Array.from({ length: 40 }, (_, i) => s.sendMessage(room.room_id, `${s.username} ${i}`)));
      await Promise.all([burst(s2), burst(s3), burst(admin)]);
      await waitFor('all 120 messages at the watcher', () => seen.length >= 120);
      expect(seen.map((m) => m.sequence_number)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      expect(gaps).toEqual([]);
      // Per sender, the order of its own sends is kept.
      for (const s of [s2, s3, admin]) {
        const own = seen.filter((m) => m.username === s.username).map((m) => Number(m.content.split(' ')[1]));
        expect(own).toEqual([...own].sort((a, b) => a - b));
      }
    } finally {
      await Promise.all(sessions.map((s) => s.close()));
    }
  });

  it('reconnects to another node, rejoins, and resumes without repeating or losing messages', async () => {
    const owner = new ChatSession({ nodes: [`ws://${node(1)}`], username: 'host', pingIntervalMs: 0 });
    const roamer = new ChatSession({ nodes: [`ws://${node(2)}`, `ws://${node(3)}`], username: 'roamer', pingIntervalMs: 0, retryDelayMs: 100 });
    await owner.connect();
    await roamer.connect();
    try {
      const room = await owner.createRoom('roaming');
      for (let i = 1; i <= 5; i++) await owner.sendMessage(room.room_id, `early ${i}`);
      const seqs: number[] = [];
      roamer.on('message', (m) => seqs.push(m.sequence_number));
      const statuses: string[] = [];
      roamer.on('status', (s) => statuses.push(s.state));
      const rejoined = new Promise((r) => roamer.once('rejoined', r));
      await roamer.joinRoom(room.room_id);
      await waitFor('history', () => seqs.length === 5);

      await cluster.stopNode('node2');
      // Sent while the roamer is between nodes: must arrive after the rejoin, exactly once.
      await owner.sendMessage(room.room_id, 'while away');
      expect(await rejoined).toMatchObject({ room_id: room.room_id, node: `ws://${node(3)}/` });
      await owner.sendMessage(room.room_id, 'after');
      // A last message marks the end: everything before it has been delivered when it shows.
      await owner.sendMessage(room.room_id, 'marker');
      await waitFor('the marker message', () => seqs.includes(8));
      expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(statuses).toEqual(expect.arrayContaining(['reconnecting', 'connected']));
      expect(roamer.node).toBe(`ws://${node(3)}/`);
      const members = roamer.rooms.get(room.room_id)?.members;
      expect(members && [...members].sort()).toEqual(['host', 'roamer']);
    } finally {
      await owner.close();
      await roamer.close();
      await cluster.startNode('node2');
    }
  });
});
