import { checkDelivery } from '../../../node-app/src/scenarios/delivery';
import { Participant } from '../../../node-app/src/scenarios/participant';

const node = { id: 'node1', wsUrl: 'ws://127.0.0.1:1/', healthUrl: 'http://127.0.0.1:1/healthz' };
const ROOM = 'room-1';

function sender(seqs: number[]): Participant {
  const p = new Participant('sender', node);
  for (const seq of seqs) p.sent.push({ roomId: ROOM, content: `m${seq}`, startedAt: 1000, ackedAt: 1001, seq });
  return p;
}

function receiver(wireSeqs: number[]): Participant {
  const p = new Participant('receiver', node);
  p.wire.set(ROOM, wireSeqs.map((seq) => ({ roomId: ROOM, seq, messageId: `id-${seq}`, username: 'sender', content: `m${seq}`, at: 1000 + seq })));
  return p;
}

const rooms = () => [ROOM];

describe('checkDelivery on the wire', () => {
  it('accepts every acknowledged message once and in order', () => {
    const r = checkDelivery([sender([1, 2, 3]), receiver([1, 2, 3])], (p) => (p.username === 'receiver' ? rooms() : []), 'wire');
    expect(r).toMatchObject({ expected: 3, delivered: 3, missing: 0, duplicates: 0, outOfOrder: 0, problems: [] });
    expect(r.latenciesMs).toEqual([1, 2, 3]);
  });

  it('reports a duplicate frame', () => {
    const r = checkDelivery([sender([1, 2]), receiver([1, 2, 2])], (p) => (p.username === 'receiver' ? rooms() : []), 'wire');
    expect(r.duplicates).toBe(1);
    expect(r.problems).toEqual([expect.stringContaining('1 duplicate message(s) on the wire')]);
  });

  it('reports a message that arrived after a later one', () => {
    const r = checkDelivery([sender([1, 2, 3]), receiver([1, 3, 2])], (p) => (p.username === 'receiver' ? rooms() : []), 'wire');
    expect(r.outOfOrder).toBe(1);
    expect(r.problems).toEqual([expect.stringContaining('out of sequence order')]);
  });

  it('reports acknowledged messages that never arrived, by sequence number', () => {
    const r = checkDelivery([sender([1, 2, 3, 4]), receiver([1, 4])], (p) => (p.username === 'receiver' ? rooms() : []), 'wire');
    expect(r).toMatchObject({ expected: 4, delivered: 2, missing: 2 });
    expect(r.problems).toEqual([expect.stringContaining('2 acknowledged message(s) never arrived (seq 2,3)')]);
  });

  it('does not count unacknowledged sends as expected', () => {
    const s = sender([1]);
    s.sent.push({ roomId: ROOM, content: 'refused', startedAt: 1000, error: 'NOT_MEMBER' });
    const r = checkDelivery([s, receiver([1])], (p) => (p.username === 'receiver' ? rooms() : []), 'wire');
    expect(r).toMatchObject({ expected: 1, missing: 0, problems: [] });
  });
});
