/**
 * "Acknowledged only once a majority has it on disk", with the WAL synced off the event loop
 * (`REPL_SYNC=full`): real replicas over the real wire (ReplicaSet), each store's fdatasync real
 * but its completion held by the test. A follower answers an append only after its sync; the
 * admin counts its own copy only after its own.
 */
import { randomUUID } from 'node:crypto';
import { sleep, waitFor } from '../../support/wait';
import { HeldSync } from '../storage/held-sync';
import { ReplicaSet, TestReplica } from './replica-set';

jest.setTimeout(30_000);

const IDS = ['node1', 'node2', 'node3'];
/** Heartbeats are 50 ms here: this is many chances for a wrong answer or commit to happen. */
const SETTLE_MS = 400;

async function newRoom(set: ReplicaSet): Promise<string> {
  const room = randomUUID();
  await set.node('node1').repl.createRoom(room, { room_name: 'durable', description: null, creator_id: 'alice', created_at: 't0' });
  await set.node('node1').repl.submit(room, 'join', { username: 'alice', node_id: 'node1' });
  return room;
}

/** Submits a message through node1 and reports whether it has been acknowledged (committed). */
function send(set: ReplicaSet, room: string): { acked: () => boolean; done: Promise<unknown> } {
  let acked = false;
  const done = set.node('node1').repl.submit(room, 'message', { message_id: randomUUID(), username: 'alice', content: 'keep me' })
    .then((e) => { acked = true; return e; });
  return { acked: () => acked, done };
}

const written = (n: TestReplica, room: string) => n.store.raftState(room).lastSeq >= 1;

describe('acknowledged only once a majority has synced it', () => {
  let set: ReplicaSet | undefined;
  afterEach(async () => {
    await set?.close();
    set = undefined;
  });

  test('a message is not acknowledged while both followers have written it but not synced it', async () => {
    const s2 = new HeldSync();
    const s3 = new HeldSync();
    s2.holding = false;
    s3.holding = false;
    set = new ReplicaSet(IDS, {}, 7, 'full', { node2: s2.call, node3: s3.call });
    await set.start();
    const room = await newRoom(set);
    s2.holding = true;
    s3.holding = true;
    const m = send(set, room);
    await waitFor('both followers to write the message and wait for their sync', () =>
      written(set!.node('node2'), room) && written(set!.node('node3'), room) && s2.waiting > 0 && s3.waiting > 0, 10_000);
    await sleep(SETTLE_MS);
    expect(m.acked()).toBe(false);
    const leader = set.node('node1');
    expect(leader.store.raftState(room).commitIndex).toBeLessThan(leader.store.raftState(room).lastIndex);
    s2.release(true);
    s3.release(true);
    await m.done;
    expect(m.acked()).toBe(true);
  });

  test('the admin counts its own copy only once its sync completes', async () => {
    const s1 = new HeldSync();
    const s2 = new HeldSync();
    s1.holding = false;
    s2.holding = false;
    set = new ReplicaSet(IDS, {}, 7, 'full', { node1: s1.call, node2: s2.call });
    await set.start();
    const room = await newRoom(set);
    // node3 answers at once; node1 (the admin) and node2 sync, but their syncs do not complete.
    s1.holding = true;
    s2.holding = true;
    const m = send(set, room);
    await waitFor('the admin and node3 to write the message, the admin waiting for its sync', () =>
      written(set!.node('node1'), room) && written(set!.node('node3'), room) && s1.waiting > 0, 10_000);
    await sleep(SETTLE_MS);
    expect(m.acked()).toBe(false);
    // The admin's own sync completes: with node3's copy that is a majority (node2 still waits).
    s1.release(true);
    await m.done;
    expect(m.acked()).toBe(true);
    expect(s2.waiting).toBeGreaterThan(0);
    s2.release(true);
  });
});
