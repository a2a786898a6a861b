import {
  checkAppend, decideVote, firstNewEntry, isLogUpToDate, majorityCommitIndex, successorRank,
} from '../../../node-app/src/replication/raft-rules';

const voter = { currentTerm: 3, votedFor: null, lastIndex: 10, lastTerm: 3, leaderRecentlySeen: false };

describe('vote decisions', () => {
  test('a candidate whose log is behind never gets the vote, so committed entries cannot be lost', () => {
    expect(decideVote(voter, { term: 4, candidateId: 'n2', lastIndex: 9, lastTerm: 3, pre: false }).granted).toBe(false);
    expect(decideVote(voter, { term: 4, candidateId: 'n2', lastIndex: 50, lastTerm: 2, pre: false }).granted).toBe(false);
    const ok = decideVote(voter, { term: 4, candidateId: 'n2', lastIndex: 10, lastTerm: 3, pre: false });
    expect(ok).toMatchObject({ granted: true, persist: { term: 4, votedFor: 'n2' }, stepDown: true });
  });

  test('one vote per term: a second candidate in the same term is refused', () => {
    const voted = { ...voter, currentTerm: 4, votedFor: 'n2' };
    expect(decideVote(voted, { term: 4, candidateId: 'n3', lastIndex: 10, lastTerm: 3, pre: false }).granted).toBe(false);
    expect(decideVote(voted, { term: 4, candidateId: 'n2', lastIndex: 10, lastTerm: 3, pre: false }).granted).toBe(true);
  });

  test('a higher term with a stale log is adopted (step down) without granting', () => {
    const d = decideVote(voter, { term: 9, candidateId: 'n3', lastIndex: 1, lastTerm: 1, pre: false });
    expect(d).toMatchObject({ granted: false, stepDown: true, persist: { term: 9, votedFor: null } });
  });

  test('while the admin is alive, neither pre-votes nor votes are granted and no state changes', () => {
    const alive = { ...voter, leaderRecentlySeen: true };
    for (const pre of [true, false]) {
      const d = decideVote(alive, { term: 4, candidateId: 'n2', lastIndex: 10, lastTerm: 3, pre });
      expect(d.granted).toBe(false);
      expect(d.persist).toBeUndefined();
      expect(d.stepDown).toBe(false);
    }
  });

  test('a pre-vote never changes the voter state', () => {
    const d = decideVote(voter, { term: 4, candidateId: 'n2', lastIndex: 10, lastTerm: 3, pre: true });
    expect(d).toEqual({ granted: true, stepDown: false, reason: 'pre-vote granted' });
  });

  test('log comparison uses the last term first, then the length', () => {
    expect(isLogUpToDate(3, 1, 2, 100)).toBe(true);
    expect(isLogUpToDate(2, 100, 3, 1)).toBe(false);
    expect(isLogUpToDate(3, 5, 3, 5)).toBe(true);
    expect(isLogUpToDate(3, 4, 3, 5)).toBe(false);
  });
});

describe('append checks', () => {
  test('an append from a stale term is refused (a deposed admin is fenced)', () => {
    expect(checkAppend({ currentTerm: 5, termAtPrev: 4, lastIndex: 10, commitIndex: 8 }, 4, 10, 4)).toEqual({ ok: false, reason: 'stale-term' });
  });

  test('a missing or conflicting previous entry asks the admin to resend after our commit index', () => {
    expect(checkAppend({ currentTerm: 5, termAtPrev: undefined, lastIndex: 10, commitIndex: 8 }, 5, 12, 5)).toEqual({ ok: false, reason: 'mismatch', conflictIndex: 11 });
    expect(checkAppend({ currentTerm: 5, termAtPrev: 3, lastIndex: 10, commitIndex: 8 }, 5, 10, 4)).toEqual({ ok: false, reason: 'mismatch', conflictIndex: 9 });
    expect(checkAppend({ currentTerm: 5, termAtPrev: 4, lastIndex: 10, commitIndex: 8 }, 5, 10, 4)).toEqual({ ok: true });
    expect(checkAppend({ currentTerm: 0, termAtPrev: 0, lastIndex: 0, commitIndex: 0 }, 1, 0, 0)).toEqual({ ok: true });
  });

  test('re-sent entries already present are skipped, the first conflicting one is found', () => {
    const mine = new Map([[1, 1], [2, 1], [3, 2]]);
    const at = (i: number) => mine.get(i);
    expect(firstNewEntry([{ idx: 2, term: 1 }, { idx: 3, term: 2 }], at)).toBeUndefined();
    expect(firstNewEntry([{ idx: 2, term: 1 }, { idx: 3, term: 3 }, { idx: 4, term: 3 }], at)).toBe(1);
    expect(firstNewEntry([{ idx: 4, term: 3 }], at)).toBe(0);
  });
});

describe('commit rule', () => {
  const terms = new Map([[1, 1], [2, 1], [3, 2], [4, 2]]);
  const at = (i: number) => terms.get(i);
  test('an entry commits when a majority (the admin included) stores it', () => {
    expect(majorityCommitIndex([4, 3, 0], 3, 0, 2, at)).toBe(3);
    expect(majorityCommitIndex([4, 4, 0], 3, 0, 2, at)).toBe(4);
    expect(majorityCommitIndex([4, 0, 0], 3, 0, 2, at)).toBe(0);
    expect(majorityCommitIndex([4], 1, 0, 2, at)).toBe(4);
  });
  test('entries of an earlier term are not committed by counting replicas', () => {
    expect(majorityCommitIndex([4, 2, 2], 3, 0, 2, at)).toBe(0);
  });
});

describe('successor order', () => {
  test('is the same on every node and spreads rooms over successors', () => {
    const voters = ['node1', 'node2', 'node3'];
    const firsts = new Set<string>();
    for (let r = 0; r < 30; r++) {
      const room = `room-${r}`;
      const ranks = voters.map((v) => successorRank(room, v, voters));
      expect([...ranks].sort()).toEqual([0, 1, 2]);
      expect(voters.map((v) => successorRank(room, v, [...voters].reverse()))).toEqual(ranks);
      firsts.add(voters[ranks.indexOf(0)]);
    }
    expect(firsts.size).toBe(3);
  });
});
