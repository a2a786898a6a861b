/**
 * The peer-facing handlers on a logical clock (SimCluster): `swarmchat_repl` calls that arrive in
 * one event-loop turn are stored in one transaction (group commit) and each gets its own answer.
 */
import { randomUUID } from 'node:crypto';
import type { XmlRpcValue } from '../../../node-app/src/peers/xmlrpc-codec';
import { encodeItem } from '../../../node-app/src/replication/wire';
import { SimCluster } from './sim-cluster';
import { newRoom } from './sim-helpers';

describe('replication handlers', () => {
  let set: SimCluster;
  beforeEach(() => {
    set = new SimCluster(['node1', 'node2', 'node3']);
    set.start();
  });
  afterEach(() => set.stop());

  test('appends arriving in one turn share one transaction, and each call is answered with its own result', async () => {
    const room = await newRoom(set);
    const n2 = set.node('node2');
    const store = n2.store;
    const real = store.transaction.bind(store);
    let depth = 0;
    let outer = 0;
    store.transaction = ((fn: () => unknown, opts?: { durable?: boolean }) => {
      if (depth++ === 0) outer++;
      try {
        return real(fn, opts);
      } finally {
        depth--;
      }
    }) as typeof store.transaction;
    const append = (idx: number) => encodeItem({
      k: 'a', room, term: 1, prevIndex: idx - 1, prevTerm: 1, commit: 1,
      entries: [{ idx, term: 1, kind: 'message', data: { message_id: randomUUID(), username: 'alice', content: `m${idx}`, seq: idx - 1, timestamp: 't' } }],
    });
    const repl = n2.repl.handlers().swarmchat_repl;
    const answers = await Promise.all([repl(['node1', [append(2)]]), repl(['node1', [append(3)]])]) as XmlRpcValue[][];
    expect(outer).toBe(1);
    expect(answers.map((a) => a[0])).toEqual([{ ok: true, t: 1, m: 2, x: 0 }, { ok: true, t: 1, m: 3, x: 0 }]);
    expect(n2.repl.roomStatus(room)!.lastIndex).toBe(3);
  });
});
