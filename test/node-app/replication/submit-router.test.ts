/**
 * Client sends through any replica under admin changes, on a logical clock (SimCluster): each
 * sender's messages commit in the order it sent them, a message is stored once however often it
 * is resubmitted, and no send is answered with an error while its message commits later.
 */
import { randomUUID } from 'node:crypto';
import { ReplicationError } from '../../../node-app/src/replication/replicator';
import type { LogEntry } from '../../../node-app/src/storage/room-log-store';
import { seededRandom } from '../../support/random';
import { SimCluster, type SimReplica } from './sim-cluster';
import { newRoom, track, type Tracked } from './sim-helpers';

const IDS = ['node1', 'node2', 'node3'];
/**
 * How long a replica cut off from the admin may take to catch up once healed, in logical ms: a
 * probe lost in the partition holds the channel until its call timeout (600 ms, the sim's
 * default), the next heartbeat tick (100 ms) probes again, and the backlog follows.
 */
const CATCH_UP_MS = 600 + 2 * 100 + 500;

function logLength(node: SimReplica, room: string): number {
  return node.store.history(room, { afterSeq: 0, limit: 100_000 }).length;
}

interface Sent { sender: string; n: number; id: string; box: Tracked<LogEntry> }

function sendAs(node: SimReplica, room: string, sender: string, n: number, out: Sent[]): void {
  const id = randomUUID();
  out.push({ sender, n, id, box: track(node.repl.submit(room, 'message', { message_id: id, username: sender, content: `${sender}|${n}` })) });
}

/** Per-message outcome figures over one replica's committed log. */
function audit(node: SimReplica, room: string, sent: Sent[]) {
  const log = node.store.history(room, { afterSeq: 0, limit: 100_000 });
  const byContent = new Map<string, number[]>();
  for (const m of log) byContent.set(m.content, [...(byContent.get(m.content) ?? []), m.sequence_number]);
  let duplicates = 0;
  for (const seqs of byContent.values()) duplicates += seqs.length - 1;
  let inversions = 0;
  const lastSeqOf = new Map<string, number>();
  for (const s of sent) {
    const seq = byContent.get(`${s.sender}|${s.n}`)?.[0];
    if (seq === undefined) continue;
    if ((lastSeqOf.get(s.sender) ?? 0) > seq) inversions++;
    lastSeqOf.set(s.sender, Math.max(lastSeqOf.get(s.sender) ?? 0, seq));
  }
  const committedIds = new Set(log.map((m) => m.message_id));
  const errorThenCommit = sent.filter((s) => s.box.error && committedIds.has(s.id)).length;
  const ackedLost = sent.filter((s) => s.box.value && !committedIds.has(s.id)).length;
  const errors = sent.filter((s) => s.box.error).length;
  return { committed: log.length, duplicates, inversions, errorThenCommit, ackedLost, errors };
}

describe('submit routing on a logical clock', () => {
  let set: SimCluster;
  afterEach(() => set.stop());

  test('messages in flight when the admin is cut off commit once each, in each sender\'s order, and none is answered with an error', async () => {
    set = new SimCluster(IDS);
    set.start();
    const room = await newRoom(set);
    const sent: Sent[] = [];
    const counters = new Map<string, number>();
    const senders = [['node2', 'b'], ['node3', 'c'], ['node2', 'd']] as const;
    const tick = () => {
      for (const [node, sender] of senders) {
        const n = (counters.get(sender) ?? 0) + 1;
        counters.set(sender, n);
        sendAs(set.node(node), room, sender, n, sent);
      }
    };
    for (let i = 0; i < 20; i++) {
      tick();
      await set.run(10);
    }
    set.isolate('node1');
    for (let i = 0; i < 200; i++) {
      tick();
      await set.run(10);
    }
    set.heal();
    await set.runUntil('every send answered', () => sent.every((s) => s.box.done), 30_000);
    const figures = audit(set.node('node2'), room, sent);
    expect(figures).toEqual({ committed: sent.length, duplicates: 0, inversions: 0, errorThenCommit: 0, ackedLost: 0, errors: 0 });
    // node1 catches up once the new admin reaches it.
    await set.runUntil('every replica has every message', () => set.nodes.every((n) => logLength(n, room) === sent.length), CATCH_UP_MS);
    for (const n of set.nodes) expect(audit(n, room, sent)).toEqual(figures);
  });

  test('under repeated admin changes (each admin cut off in turn, then back) per-sender order, exactly-once and no error-then-commit hold', async () => {
    const rnd = seededRandom(Number(process.env.TEST_SEED ?? 7));
    set = new SimCluster(IDS, {}, rnd.seed);
    set.start();
    const room = await newRoom(set);
    const sent: Sent[] = [];
    let n = 0;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 60; i++) {
        n++;
        for (const node of set.nodes) sendAs(node, room, `s-${node.id}`, n, sent);
        await set.run(rnd.int(5, 25));
      }
      const admin = set.admins(room)[0];
      set.heal();
      if (admin) set.isolate(admin);
    }
    set.heal();
    await set.runUntil('every send answered', () => sent.every((s) => s.box.done), 60_000);
    // node1 may be the admin cut off last. Not catching up in time is left to the audit below
    // to report (with the seed), hence no throw here.
    await set.runUntil('node1 has every message', () => logLength(set.node('node1'), room) >= sent.length, CATCH_UP_MS).catch(() => undefined);
    const figures = audit(set.node('node1'), room, sent);
    expect({ seed: rnd.seed, ...figures }).toEqual({ seed: rnd.seed, committed: sent.length, duplicates: 0, inversions: 0, errorThenCommit: 0, ackedLost: 0, errors: 0 });
  });

  test('a sender whose node loses the admin for longer than the submit timeout gets no error: its messages stay pending and commit once, in order, when the admin is back', async () => {
    set = new SimCluster(IDS);
    set.start();
    const room = await newRoom(set);
    const sent: Sent[] = [];
    const node2 = set.node('node2');
    for (let i = 1; i <= 10; i++) {
      sendAs(node2, room, 'b', i, sent);
      await set.run(5);
    }
    // node2 hears nothing from the admin for 12 s (its pre-votes are refused: node3 still hears the admin).
    set.cutLink('node1', 'node2');
    for (let i = 11; i <= 20; i++) {
      sendAs(node2, room, 'b', i, sent);
      await set.run(50);
    }
    await set.run(12_000);
    set.heal();
    await set.runUntil('every send answered', () => sent.every((s) => s.box.done), 30_000);
    await set.run(300);
    expect(audit(set.node('node1'), room, sent)).toEqual({ committed: 20, duplicates: 0, inversions: 0, errorThenCommit: 0, ackedLost: 0, errors: 0 });
  });

  test('a message refused by the admin (the sender is not a member) is refused, and the sender\'s next message still commits', async () => {
    set = new SimCluster(IDS, {
      validate: (_room, kind, data) => {
        if (kind === 'message' && String(data.content).startsWith('bad')) throw new ReplicationError('NOT_MEMBER', 'You are not a member of this room');
      },
    });
    set.start();
    const room = await newRoom(set);
    const sent: Sent[] = [];
    const node2 = set.node('node2');
    const ok1 = track(node2.repl.submit(room, 'message', { message_id: randomUUID(), username: 'b', content: 'ok1' }));
    const bad = track(node2.repl.submit(room, 'message', { message_id: randomUUID(), username: 'b', content: 'bad' }));
    const ok2 = track(node2.repl.submit(room, 'message', { message_id: randomUUID(), username: 'b', content: 'ok2' }));
    await set.runUntil('answered', () => ok1.done && bad.done && ok2.done, 5000);
    expect(bad.error).toBeDefined();
    expect([ok1.value?.data.content, ok2.value?.data.content]).toEqual(['ok1', 'ok2']);
    expect(node2.store.history(room, { afterSeq: 0, limit: 10 }).map((m) => m.content)).toEqual(['ok1', 'ok2']);
    expect(sent).toHaveLength(0);
  });
});
