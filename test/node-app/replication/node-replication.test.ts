/**
 * Readiness of a (re)started node (what /healthz reports), on a logical clock: one election
 * timeout after its start when there is nothing to catch up (rooms it has no log of yet have that
 * long to reach it), and at the catch-up cap, naming what it waited for, when the rooms' admins do
 * not answer.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '../../../node-app/src/log';
import { ManualClock } from '../../../node-app/src/replication/clock';
import { createNodeReplication, type ReplicationSettings } from '../../../node-app/src/replication/node-replication';
import { RoomLogStore } from '../../../node-app/src/storage/room-log-store';

const SETTINGS: ReplicationSettings = { heartbeatMs: 100, electionBaseMs: 700, electionStepMs: 300, callTimeoutMs: 600, submitTimeoutMs: 8000, synchronous: 'normal' };

function recordingLogger(lines: { level: string; msg: string; fields?: Record<string, unknown> }[]): Logger {
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => lines.push({ level, msg, fields });
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
  return log;
}

describe('node replication readiness', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'repl-ready-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const unreachable = { id: 'node2', call: () => Promise.reject(new Error('connection refused')) };

  test('a node with no rooms is ready one election timeout after its start, not before (a room may still be on its way)', () => {
    const lines: { level: string; msg: string }[] = [];
    const clock = new ManualClock();
    const r = createNodeReplication({ selfId: 'node1', dataDir: dir, peers: [unreachable], historyLimit: 100, logger: recordingLogger(lines), settings: SETTINGS, clock });
    r.start();
    expect(r.ready()).toBe(false);
    expect(r.notReadyReason()?.code).toBe('catching_up');
    clock.advance(SETTINGS.electionBaseMs - 1);
    expect(r.ready()).toBe(false);
    clock.advance(1);
    expect(r.ready()).toBe(true);
    expect(lines.map((l) => l.msg)).toContain('replication: caught up, serving');
    r.stop();
  });

  test('a node whose room admin never answers is ready at the 10 s cap, naming the room it waited for', async () => {
    const seed = RoomLogStore.open({ dir, synchronous: 'normal' });
    seed.setTermAndVote('room-a', 1, 'node2');
    seed.append('room-a', [{ idx: 1, term: 1, kind: 'create', data: { room_name: 'a', description: null, creator_id: 'alice', created_at: 't0', admin_node: 'node2' } }]);
    seed.commit('room-a', 1);
    seed.close();
    const clock = new ManualClock();
    const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
    const r = createNodeReplication({ selfId: 'node1', dataDir: dir, peers: [unreachable], historyLimit: 100, logger: recordingLogger(lines), settings: SETTINGS, clock });
    r.start();
    expect(r.ready()).toBe(false);
    for (let t = 0; t < 10_000; t += 500) {
      clock.advance(500);
      await new Promise((res) => setImmediate(res));
      if (t + 500 <= 10_000) expect(r.ready()).toBe(false);
    }
    clock.advance(1);
    expect(r.ready()).toBe(true);
    const cap = lines.find((l) => l.msg === 'replication: not caught up within the cap, serving anyway');
    expect(cap?.level).toBe('warn');
    expect(cap?.fields).toMatchObject({ after_ms: 10_001, rooms: [expect.objectContaining({ room_id: 'room-a', role: 'follower' })] });
    // While it waited it said so every 2 s (when asked).
    expect(lines.filter((l) => l.msg === 'replication: catching up').length).toBe(5);
    r.stop();
  });

  test('a node its peers do not count (not in their PEER_NODES: being added or removed) is not ready, with no cap, and says why at info', async () => {
    const refusing = (id: string) => ({ id, call: () => Promise.reject(new Error(`swarmchat_repl: node1 is not a peer of ${id}`)) });
    const clock = new ManualClock();
    const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
    const r = createNodeReplication({ selfId: 'node1', dataDir: dir, peers: [refusing('node2'), refusing('node3')], historyLimit: 100, logger: recordingLogger(lines), settings: SETTINGS, clock });
    r.start();
    for (let t = 0; t < 15_000; t += 500) {
      clock.advance(500);
      await new Promise((res) => setImmediate(res));
    }
    expect(r.ready()).toBe(false);
    expect(r.notReadyReason()).toEqual({ code: 'not_a_member', detail: expect.stringContaining('node2, node3') });
    expect(lines.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
    expect(lines.filter((l) => l.msg === 'replication: not serving, membership')).toHaveLength(1);
    r.stop();
  });
});
