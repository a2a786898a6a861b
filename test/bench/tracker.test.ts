import { Tracker } from '../../node-app/bench/load/tracker';
import { decodeContent, decodeFrame, encodeContent, Receipt } from '../../node-app/bench/load/payload';

/** Two rooms: receivers 0,1 in room 0 and 2 in room 1; sender 0 in room 0, sender 1 in room 1. */
function twoRooms(roomTotalOrder = true): Tracker {
  return new Tracker({
    receiverRoom: Int32Array.from([0, 0, 1]),
    senderRoom: Int32Array.from([0, 1]),
    maxPerSender: 10,
    roomTotalOrder,
  });
}

function sendAll(t: Tracker, sender: number, n: number): void {
  for (let i = 0; i < n; i++) t.onSend(sender, 1);
}

describe('delivery tracker', () => {
  test('a run where every member gets every message in order is complete and in order', () => {
    const t = twoRooms();
    sendAll(t, 0, 3);
    sendAll(t, 1, 2);
    for (let seq = 1; seq <= 3; seq++) for (const r of [0, 1]) t.onDelivery(r, 0, seq, 1, seq);
    for (let seq = 1; seq <= 2; seq++) t.onDelivery(2, 1, seq, 1, seq);
    for (let i = 0; i < 3; i++) t.onAck(0);
    for (let i = 0; i < 2; i++) t.onAck(1);
    const f = t.figures();
    expect(t.drained()).toBe(true);
    expect(f).toMatchObject({ sent: 5, acked: 5, expectedDeliveries: 8, deliveries: 8, complete: true, inOrder: true, missingDeliveries: 0 });
    expect(f.e2e.count).toBe(8);
    expect(f.ack.count).toBe(5);
  });

  test('the ack listener hears every ack and every refusal, with the sender they belong to', () => {
    const t = twoRooms();
    const heard: number[] = [];
    t.ackListener = (s) => heard.push(s);
    sendAll(t, 0, 2);
    sendAll(t, 1, 1);
    t.onAck(0);
    t.onSendError(1);
    t.onAck(0);
    expect(heard).toEqual([0, 1, 0]);
  });

  test('a second answer to one send (an ack after a refusal) is counted apart and makes the run incomplete', () => {
    const t = twoRooms();
    sendAll(t, 0, 1);
    t.onSendError(0);
    t.onAck(0);
    const f = t.figures();
    expect(f).toMatchObject({ sent: 1, sendErrors: 1, unmatchedReplies: 1, expectedDeliveries: 0, complete: false });
    expect(t.drained()).toBe(true);
  });

  test('a lost delivery makes the run incomplete and is counted as missing', () => {
    const t = twoRooms();
    sendAll(t, 0, 2);
    t.onDelivery(0, 0, 1, 1, 1);
    t.onDelivery(0, 0, 2, 1, 2);
    t.onDelivery(1, 0, 1, 1, 1);
    const f = t.figures();
    expect(t.drained()).toBe(false);
    expect(f.complete).toBe(false);
    expect(f.missingDeliveries).toBe(1);
    expect(f.incompletePairs).toBe(1);
  });

  test('a swapped pair of messages from one sender is an order violation', () => {
    const t = twoRooms(false);
    sendAll(t, 0, 2);
    for (const r of [0, 1]) {
      t.onDelivery(r, 0, r === 0 ? 2 : 1, 1, -1);
      t.onDelivery(r, 0, r === 0 ? 1 : 2, 1, -1);
    }
    const f = t.figures();
    expect(f.inOrder).toBe(false);
    // Receiver 0 got 2 then 1: one step back. Receiver 1 got them in order.
    expect(f.senderOrderViolations).toBe(1);
  });

  test('a skipped room-wide sequence number is a missed message even when each sender looks complete', () => {
    const t = twoRooms(true);
    sendAll(t, 0, 2);
    for (const r of [0, 1]) {
      t.onDelivery(r, 0, 1, 1, 5);
      t.onDelivery(r, 0, 2, 1, r === 0 ? 7 : 6);
    }
    const f = t.figures();
    expect(f.roomGaps).toBe(1);
    expect(f.inOrder).toBe(true);
    expect(f.complete).toBe(false);
  });

  test('a room-wide sequence number that goes back is an order violation', () => {
    const t = twoRooms(true);
    sendAll(t, 0, 2);
    t.onDelivery(0, 0, 1, 1, 6);
    t.onDelivery(0, 0, 2, 1, 5);
    expect(t.figures().roomOrderViolations).toBe(1);
    expect(t.figures().inOrder).toBe(false);
  });

  test('a refused send leaves a gap that is neither disorder nor a missing delivery', () => {
    const t = twoRooms(true);
    sendAll(t, 1, 3);
    t.onAck(1);
    t.onSendError(1);
    t.onAck(1);
    t.onDelivery(2, 1, 1, 1, 1);
    t.onDelivery(2, 1, 3, 1, 2);
    const f = t.figures();
    expect(t.drained()).toBe(true);
    expect(f).toMatchObject({ inOrder: true, missingDeliveries: 0, expectedDeliveries: 2, sendErrors: 1, complete: false });
  });

  test('a duplicate delivery breaks completeness and order', () => {
    const t = twoRooms();
    sendAll(t, 1, 1);
    t.onDelivery(2, 1, 1, 1, 1);
    t.onDelivery(2, 1, 1, 1, 1);
    const f = t.figures();
    expect(f.deliveries).toBe(2);
    expect(f.complete).toBe(false);
    expect(f.inOrder).toBe(false);
  });

  test('a message delivered to a member of another room is counted as misrouted', () => {
    const t = twoRooms();
    sendAll(t, 1, 1);
    t.onDelivery(0, 1, 1, 1, 1);
    t.onDelivery(2, 1, 1, 1, 1);
    const f = t.figures();
    expect(f.misrouted).toBe(1);
    expect(f.complete).toBe(false);
  });

  test('a failed send is not expected anywhere but makes the run incomplete', () => {
    const t = twoRooms();
    sendAll(t, 1, 1);
    t.onSendError(1);
    expect(t.drained()).toBe(true);
    expect(t.figures()).toMatchObject({ sendErrors: 1, complete: false });
  });
});

describe('benchmark payload', () => {
  const r: Receipt = { sender: 0, seq: 0, sendMicros: 0, roomSeq: -1 };

  test('a new_message frame decodes to sender, sequence, send time and room sequence', () => {
    const content = encodeContent(17, 4242, 123456789);
    const frame = Buffer.from(JSON.stringify({ type: 'new_message', data: { message_id: 'x', room_id: 'r', username: 'u', content, sequence_number: 99, timestamp: 't' } }));
    expect(decodeFrame(frame, r, true)).toBe(true);
    expect(r).toEqual({ sender: 17, seq: 4242, sendMicros: 123456789, roomSeq: 99 });
  });

  test('Python-style separators still decode', () => {
    const frame = Buffer.from(`{"type": "new_message", "data": {"content": "${encodeContent(1, 2, 3)}", "sequence_number": 12}}`);
    expect(decodeFrame(frame, r, true)).toBe(true);
    expect(r.roomSeq).toBe(12);
  });

  test('a control frame is left for JSON parsing', () => {
    expect(decodeFrame(Buffer.from('{"type":"message_sent","data":{"sequence_number":3}}'), r, true)).toBe(false);
  });

  test('a garbled delivery throws instead of passing silently', () => {
    expect(() => decodeFrame(Buffer.from('{"data":{"content":"bm|1|x|3|"}}'), r, false)).toThrow(/garbled/);
    expect(() => decodeContent('bm|1|2', r)).toThrow(/garbled/);
  });

  test('content has a fixed length whatever the numbers', () => {
    expect(encodeContent(1, 1, 1).length).toBe(encodeContent(299, 99999, 9999999999).length);
  });
});
