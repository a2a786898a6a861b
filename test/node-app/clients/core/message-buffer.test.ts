import { describeGap, GapReport, RoomMessageBuffer } from '../../../../node-app/src/clients/core/message-buffer';
import type { ChatMessage } from '../../../../node-app/src/protocol/messages';

const ROOM = 'room-1';
const msg = (seq: number, room = ROOM): ChatMessage => ({
  message_id: `id-${room}-${seq}`,
  room_id: room,
  username: 'alice',
  content: `m${seq}`,
  sequence_number: seq,
  timestamp: '2026-11-26T11:53:19.604421+00:00',
});

function harness(opts: { resumeAfter?: number; gapWaitMs?: number; maxBuffered?: number } = {}) {
  const shown: number[] = [];
  const gaps: GapReport[] = [];
  const buffer = new RoomMessageBuffer({
    roomId: ROOM,
    gapWaitMs: opts.gapWaitMs ?? 1000,
    maxBuffered: opts.maxBuffered,
    resumeAfter: opts.resumeAfter,
    onReady: (ms) => shown.push(...ms.map((m) => m.sequence_number)),
    onGap: (g) => gaps.push(g),
  });
  return { buffer, shown, gaps };
}

describe('RoomMessageBuffer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('delivers in-order messages at once', () => {
    const { buffer, shown } = harness();
    for (const s of [1, 2, 3]) expect(buffer.add(msg(s))).toBe('delivered');
    expect(shown).toEqual([1, 2, 3]);
  });

  it('takes history that starts above 1 as the baseline instead of stalling', () => {
    const { buffer, shown, gaps } = harness();
    for (let s = 151; s <= 250; s++) buffer.add(msg(s));
    buffer.add(msg(251));
    expect(shown).toHaveLength(101);
    expect(shown[0]).toBe(151);
    jest.advanceTimersByTime(10_000);
    expect(gaps).toEqual([]);
  });

  it('reorders messages that arrive out of order without reporting a gap', () => {
    const { buffer, shown, gaps } = harness({ resumeAfter: 0 });
    expect(buffer.add(msg(2))).toBe('buffered');
    expect(buffer.add(msg(3))).toBe('buffered');
    expect(shown).toEqual([]);
    expect(buffer.add(msg(1))).toBe('delivered');
    expect(shown).toEqual([1, 2, 3]);
    jest.advanceTimersByTime(5000);
    expect(gaps).toEqual([]);
  });

  it('drops duplicates: replayed history after a rejoin and repeated broadcasts', () => {
    const { buffer, shown } = harness({ resumeAfter: 0 });
    buffer.add(msg(1));
    buffer.add(msg(3));
    expect(buffer.add(msg(1))).toBe('duplicate');
    expect(buffer.add(msg(3))).toBe('duplicate');
    buffer.add(msg(2));
    expect(shown).toEqual([1, 2, 3]);
    expect(buffer.stats.duplicates).toBe(2);
  });

  it('resumes after a given sequence so a rejoin shows only what was missed', () => {
    const { buffer, shown } = harness({ resumeAfter: 5 });
    for (let s = 1; s <= 7; s++) buffer.add(msg(s));
    expect(shown).toEqual([6, 7]);
  });

  it('waits briefly for a missing message, then reports the gap once and moves on', () => {
    const { buffer, shown, gaps } = harness({ resumeAfter: 0, gapWaitMs: 1000 });
    buffer.add(msg(1));
    buffer.add(msg(4));
    jest.advanceTimersByTime(400);
    buffer.add(msg(5)); // more traffic while the gap lasts: still no report
    buffer.add(msg(6));
    jest.advanceTimersByTime(599);
    expect(gaps).toEqual([]);
    expect(shown).toEqual([1]);
    jest.advanceTimersByTime(1);
    expect(gaps).toEqual([{ room_id: ROOM, from: 2, to: 3, missing: 2, why: 'timeout' }]);
    expect(shown).toEqual([1, 4, 5, 6]);
    buffer.add(msg(7));
    jest.advanceTimersByTime(10_000);
    expect(gaps).toHaveLength(1);
    expect(shown).toEqual([1, 4, 5, 6, 7]);
  });

  it('fills a gap that closes in time without any report, and drops the late straggler after a skip', () => {
    const { buffer, shown, gaps } = harness({ resumeAfter: 0, gapWaitMs: 1000 });
    buffer.add(msg(2));
    jest.advanceTimersByTime(900);
    buffer.add(msg(1));
    jest.advanceTimersByTime(5000);
    expect(gaps).toEqual([]);
    expect(shown).toEqual([1, 2]);

    buffer.add(msg(4));
    jest.advanceTimersByTime(1000);
    expect(gaps).toHaveLength(1);
    expect(buffer.add(msg(3))).toBe('duplicate');
    expect(shown).toEqual([1, 2, 4]);
  });

  it('reports two separate gaps as two reports', () => {
    const { buffer, gaps, shown } = harness({ resumeAfter: 0, gapWaitMs: 1000 });
    buffer.add(msg(2));
    buffer.add(msg(5));
    jest.advanceTimersByTime(1000);
    expect(gaps.map((g) => [g.from, g.to])).toEqual([[1, 1]]);
    jest.advanceTimersByTime(1000);
    expect(gaps.map((g) => [g.from, g.to])).toEqual([[1, 1], [3, 4]]);
    expect(shown).toEqual([2, 5]);
  });

  it('gives up a gap at once when the out-of-order backlog exceeds its bound', () => {
    const { buffer, gaps, shown } = harness({ resumeAfter: 0, maxBuffered: 3 });
    for (const s of [3, 4, 5]) buffer.add(msg(s));
    expect(gaps).toEqual([]);
    buffer.add(msg(6));
    expect(gaps).toEqual([{ room_id: ROOM, from: 1, to: 2, missing: 2, why: 'overflow' }]);
    expect(shown).toEqual([3, 4, 5, 6]);
    expect(buffer.bufferedCount).toBe(0);
  });

  it('rejects malformed messages and messages of other rooms', () => {
    const { buffer, shown } = harness();
    expect(buffer.add({ ...msg(1), sequence_number: 0 })).toBe('invalid');
    expect(buffer.add({ ...msg(1), sequence_number: 1.5 })).toBe('invalid');
    expect(buffer.add({ ...msg(1), sequence_number: '1' })).toBe('invalid');
    expect(buffer.add(null)).toBe('invalid');
    expect(buffer.add(msg(1, 'other-room'))).toBe('invalid');
    expect(shown).toEqual([]);
    expect(buffer.stats.invalid).toBe(5);
  });

  it('stops its timer when disposed', () => {
    const { buffer, gaps } = harness({ resumeAfter: 0 });
    buffer.add(msg(3));
    buffer.dispose();
    jest.advanceTimersByTime(10_000);
    expect(gaps).toEqual([]);
    expect(buffer.add(msg(1))).toBe('invalid');
  });

  it('takes the baseline the node announces, and ignores it once a resume point exists', () => {
    const { buffer, shown, gaps } = harness();
    buffer.setBaseline(40);
    buffer.add(msg(41));
    expect(shown).toEqual([41]);
    const resumed = harness({ resumeAfter: 10 });
    resumed.buffer.setBaseline(40); // a rejoin must not silently skip 11..40
    resumed.buffer.add(msg(41));
    jest.advanceTimersByTime(2000);
    expect(resumed.gaps).toEqual([{ room_id: ROOM, from: 11, to: 40, missing: 30, why: 'timeout' }]);
    expect(gaps).toEqual([]);
  });

  it('asks for the missing range once per gap, and a fill in time closes it silently', () => {
    const asked: [number, number][] = [];
    const shown: number[] = [];
    const gaps: GapReport[] = [];
    const buffer = new RoomMessageBuffer({
      roomId: ROOM,
      resumeAfter: 0,
      gapWaitMs: 1000,
      onReady: (ms) => shown.push(...ms.map((m) => m.sequence_number)),
      onGap: (g) => gaps.push(g),
      onMissing: (r) => asked.push([r.from, r.to]),
    });
    buffer.add(msg(1));
    buffer.add(msg(4));
    buffer.add(msg(5));
    expect(asked).toEqual([[2, 3]]);
    jest.advanceTimersByTime(300);
    buffer.add(msg(2));
    buffer.add(msg(3));
    jest.advanceTimersByTime(5000);
    expect(shown).toEqual([1, 2, 3, 4, 5]);
    expect(gaps).toEqual([]);
    expect(asked).toEqual([[2, 3]]);
  });

  it('reports a gap below where the node\'s history begins at once, as compacted, and delivers what follows', () => {
    const { buffer, shown, gaps } = harness({ resumeAfter: 10 });
    buffer.add(msg(40));
    expect(shown).toEqual([]);
    // The gap fill's history page says the node keeps nothing before 35: 11-34 cannot come.
    buffer.historyStartsAt(35);
    expect(gaps).toEqual([{ room_id: ROOM, from: 11, to: 34, missing: 24, why: 'compacted' }]);
    for (const s of [35, 36, 37, 38, 39]) buffer.add(msg(s));
    expect(shown).toEqual([35, 36, 37, 38, 39, 40]);
    // Nothing missing any more: the gap timer reports nothing later.
    jest.advanceTimersByTime(5000);
    expect(gaps).toHaveLength(1);
  });

  it('keeps a message received below where the node\'s history begins and reports the runs around it', () => {
    const { buffer, shown, gaps } = harness({ resumeAfter: 10 });
    buffer.add(msg(20));
    buffer.historyStartsAt(35);
    expect(shown).toEqual([20]);
    expect(gaps.map((g) => [g.from, g.to, g.why])).toEqual([[11, 19, 'compacted'], [21, 34, 'compacted']]);
  });

  it('ignores a history start at or below what is already shown', () => {
    const { buffer, gaps } = harness({ resumeAfter: 10 });
    buffer.historyStartsAt(11);
    buffer.historyStartsAt(3);
    expect(gaps).toEqual([]);
  });

  it('words a compacted gap differently from one that did not arrive', () => {
    expect(describeGap({ room_id: ROOM, from: 11, to: 34, missing: 24, why: 'compacted' }))
      .toBe('24 message(s) (#11-#34) are no longer kept by the node (log retention) and were skipped');
    expect(describeGap({ room_id: ROOM, from: 7, to: 7, missing: 1, why: 'timeout' })).toBe('1 message(s) (#7) did not arrive and were skipped');
  });

  it('refuses a negative resume point', () => {
    expect(() => harness({ resumeAfter: -1 })).toThrow(/non-negative integer/);
  });
});
