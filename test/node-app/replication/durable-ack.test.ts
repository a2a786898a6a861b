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

/** Three replicas with `full` durability and a room; from then on the syncs of the `held` nodes complete only when released. */
async function startHolding(held: string[]): Promise<{ set: ReplicaSet; room: string; syncs: HeldSync[] }> {
  const syncs = held.map(() => new HeldSync());
  for (const s of syncs) s.holding = false;
  const set = new ReplicaSet(IDS, {}, 7, 'full', Object.fromEntries(held.map((id, i) => [id, syncs[i].call])));
  await set.start();
  const room = await newRoom(set);
  for (const s of syncs) s.holding = true;
  return { set, room, syncs };
}

describe('acknowledged only once a majority has synced it', () => {
  let set: ReplicaSet | undefined;
  afterEach(async () => {
    await set?.close();
    set = undefined;
  });

  test('a message is not acknowledged while both followers have written it but not synced it', async () => {
    const started = await startHolding(['node2', 'node3']);
    set = started.set;
    const { room, syncs: [s2, s3] } = started;
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
    // node3 answers at once; node1 (the admin) and node2 sync, but their syncs do not complete.
    const started = await startHolding(['node1', 'node2']);
    set = started.set;
    const { room, syncs: [s1, s2] } = started;
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
