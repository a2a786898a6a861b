/**
 * Elections under a logical clock (SimCluster): who becomes admin, when, and that a partition or a
 * returning node never yields two admins committing in one room. Times asserted are logical
 * milliseconds, so they are exact and the same on every run, whatever the machine's load.
 */
import type { Election } from '../../../node-app/src/replication/election';
import type { Engine } from '../../../node-app/src/replication/engine';
import { SimCluster, type SimReplica } from './sim-cluster';
import { newRoom, send, track } from './sim-helpers';

const IDS = ['node1', 'node2', 'node3'];
// Production defaults: heartbeat 100, election 700 + 300 × rank + ≤ 100 jitter, calls time out at 600.
const DEFAULTS = {};

function engineOf(n: SimReplica): Engine {
  return (n.repl as unknown as { e: Engine }).e;
}

describe('elections on a logical clock', () => {
  let set: SimCluster;
  afterEach(() => set.stop());

  test('the creating node administers the room and every replica agrees, with no election', async () => {
    set = new SimCluster(IDS, DEFAULTS);
    set.start();
    const room = await newRoom(set);
    await set.run(5000);
    expect(set.admins(room)).toEqual(['node1']);
    for (const n of set.nodes) expect(n.repl.adminOf(room)).toBe('node1');
    expect(set.nodes.map((n) => n.repl.stats.elections)).toEqual([0, 0, 0]);
  });

  test('when the admin is cut off, the rank-0 survivor takes over within one election timeout and writes continue in sequence', async () => {
    set = new SimCluster(IDS, DEFAULTS);
    set.start();
    const room = await newRoom(set);
    for (let i = 0; i < 3; i++) {
      const p = track(send(set.node('node2'), room, `m${i}`));
      await set.runUntil('sent', () => p.done, 1000);
    }
    set.isolate('node1');
    const p = track(send(set.node('node2'), room, 'after'));
    const ms = await set.runUntil('write after failover', () => p.done, 3000);
    expect(p.error).toBeUndefined();
    expect(Number(p.value!.data.seq)).toBe(4);
    // base 700 + jitter < 100 + one election tick (50): the rank-0 survivor wins the first round.
    expect(ms).toBeLessThanOrEqual(850);
    const admin = set.node('node2').repl.adminOf(room)!;
    expect(['node2', 'node3']).toContain(admin);
    expect(set.nodes.filter((n) => n.id !== 'node1').map((n) => n.repl.stats.elections).reduce((a, b) => a + b)).toBe(1);
  });

  test('a partitioned admin steps down after two election timeouts without a majority, and acknowledges nothing meanwhile', async () => {
    set = new SimCluster(IDS, DEFAULTS);
    set.start();
    const room = await newRoom(set);
    set.isolate('node1');
    const lonely = track(send(set.node('node1'), room, 'lonely'));
    const ms = await set.runUntil('old admin stepped down', () => !set.node('node1').repl.isAdmin(room), 3000);
    // Quorum check: no peer answered for 2 × 700 ms; checked every 50 ms.
    expect(ms).toBeGreaterThanOrEqual(1400);
    expect(ms).toBeLessThanOrEqual(1450);
    expect(lonely.done && lonely.value).toBeFalsy();
    // Meanwhile the majority side elected an admin of a newer term.
    const other = set.admins(room).filter((id) => id !== 'node1');
    expect(other).toHaveLength(1);
    expect(set.node(other[0]).repl.roomStatus(room)!.term).toBe(2);
  });

  test('after the partition heals the old admin follows the new one and its unacknowledged entry is replaced', async () => {
    set = new SimCluster(IDS, DEFAULTS);
    set.start();
    const room = await newRoom(set);
    set.isolate('node1');
    const lonely = track(send(set.node('node1'), room, 'lonely'));
    await set.run(2000);
    const n2 = track(send(set.node('node2'), room, 'majority'));
    await set.runUntil('majority write', () => n2.done, 1000);
    expect(Number(n2.value!.data.seq)).toBe(1);
    set.heal();
    // The lonely submit is retried through the new admin: it commits once, after the majority's.
    await set.runUntil('lonely resubmitted', () => lonely.done, 8000);
    expect(lonely.error).toBeUndefined();
    expect(Number(lonely.value!.data.seq)).toBe(2);
    await set.run(500);
    const logs = set.nodes.map((n) => n.store.history(room, { afterSeq: 0, limit: 100 }).map((m) => m.content));
    for (const l of logs) expect(l).toEqual(['majority', 'lonely']);
    expect(set.admins(room)).toHaveLength(1);
  });

  test('pre-vote: a follower that was cut off for long does not depose the healthy admin when it returns', async () => {
    set = new SimCluster(IDS, DEFAULTS);
    set.start();
    const room = await newRoom(set);
    set.isolate('node3');
    await set.run(10_000);
    // Alone, node3 ran pre-votes only: its term did not move (without pre-vote it would be far ahead).
    expect(set.node('node3').repl.roomStatus(room)!.term).toBe(1);
    set.heal();
    await set.run(2000);
    expect(set.admins(room)).toEqual(['node1']);
    expect(set.node('node1').repl.roomStatus(room)!.term).toBe(1);
    expect(set.node('node3').repl.roomStatus(room)!.caughtUp).toBe(true);
  });

  test('a split vote (two candidates, one term, one vote each) resolves in the next round', async () => {
    set = new SimCluster(IDS, DEFAULTS);
    set.start();
    const room = await newRoom(set);
    set.isolate('node1');
    // Both survivors stand for the same term at the same instant, each voting for itself.
    const e2 = engineOf(set.node('node2'));
    const e3 = engineOf(set.node('node3'));
    const rt2 = e2.rooms.get(room)!;
    const rt3 = e3.rooms.get(room)!;
    (e2.election as Election).startElection(rt2);
    (e3.election as Election).startElection(rt3);
    await set.run(5);
    expect([rt2.role, rt3.role, rt2.term, rt3.term]).toEqual(['candidate', 'candidate', 2, 2]);
    // node1, cut off, still believes it is admin until its quorum check; count the survivors.
    const survivorAdmins = () => set.admins(room).filter((id) => id !== 'node1');
    const ms = await set.runUntil('one admin among the survivors', () => survivorAdmins().length === 1, 3000);
    expect(ms).toBeLessThanOrEqual(1200);
    expect([rt2.role, rt3.role].sort()).toEqual(['follower', 'leader']);
    expect(rt2.term).toBe(rt3.term);
    expect(rt2.term).toBeGreaterThan(2);
    const p = track(send(set.node('node2'), room, 'after split'));
    await set.runUntil('write', () => p.done, 1000);
    expect(Number(p.value!.data.seq)).toBe(1);
  });

  test('a resigning admin hands over in well under one election timeout', async () => {
    set = new SimCluster(IDS, DEFAULTS);
    set.start();
    const room = await newRoom(set);
    const resigned = track(set.node('node1').repl.resign(1000));
    await set.runUntil('resigned', () => resigned.done, 1000);
    set.isolate('node1');
    const p = track(send(set.node('node2'), room, 'after resign'));
    const ms = await set.runUntil('write after hand-over', () => p.done, 3000);
    expect(p.error).toBeUndefined();
    // The rank-0 successor stands 20 ms after the resign, rank 1 at 80 ms; an election tick is 50 ms.
    expect(ms).toBeLessThan(200);
    expect(['node2', 'node3']).toContain(set.node('node3').repl.adminOf(room));
  });

  test('the same seed gives the same run', async () => {
    const trace = async (): Promise<string[]> => {
      const s = new SimCluster(IDS, DEFAULTS, 7);
      s.start();
      const room = await newRoom(s, 'node1', 'fixed-room');
      s.isolate('node1');
      const out: string[] = [];
      for (let i = 0; i < 40; i++) {
        await s.run(50);
        out.push(s.nodes.map((n) => `${n.repl.roomStatus(room)!.role}:${n.repl.roomStatus(room)!.term}`).join(','));
      }
      s.stop();
      return out;
    };
    set = new SimCluster(IDS);
    expect(await trace()).toEqual(await trace());
  });
});
