import { runTwoPhaseDelete, type Vote } from '../../../node-app/src/rooms/two-phase-delete';

function participants(behaviour: Record<string, 'ready' | 'abort' | 'fail' | 'hang'>) {
  const calls: string[] = [];
  const hung: Array<() => void> = [];
  const prepare = (p: string): Promise<Vote> => {
    calls.push(`prepare ${p}`);
    switch (behaviour[p]) {
      case 'ready': return Promise.resolve({ vote: 'READY' });
      case 'abort': return Promise.resolve({ vote: 'ABORT', reason: 'Room in COMMITTING state' });
      case 'fail': return Promise.reject(new Error('ECONNREFUSED'));
      default: return new Promise((resolve) => hung.push(() => resolve({ vote: 'READY' })));
    }
  };
  const commit = async (p: string) => { calls.push(`commit ${p}`); };
  const rollback = async (p: string) => { calls.push(`rollback ${p}`); };
  return { calls, prepare, commit, rollback, release: () => hung.forEach((f) => f()) };
}

describe('two-phase room deletion', () => {
  it('commits on every participant when all vote READY', async () => {
    const p = participants({ n2: 'ready', n3: 'ready' });
    const r = await runTwoPhaseDelete({ transactionId: 't', participants: ['n2', 'n3'], phaseTimeoutMs: 500, ...p });
    expect(r).toEqual({ outcome: 'committed', transactionId: 't' });
    expect(p.calls.filter((c) => c.startsWith('commit')).sort()).toEqual(['commit n2', 'commit n3']);
  });

  it('commits at once with no participants (no member elsewhere)', async () => {
    const p = participants({});
    await expect(runTwoPhaseDelete({ transactionId: 't', participants: [], phaseTimeoutMs: 500, ...p })).resolves.toMatchObject({ outcome: 'committed' });
  });

  it('rolls back everywhere when one votes ABORT, passing its reason on', async () => {
    const p = participants({ n2: 'ready', n3: 'abort' });
    const r = await runTwoPhaseDelete({ transactionId: 't', participants: ['n2', 'n3'], phaseTimeoutMs: 500, ...p });
    expect(r).toMatchObject({ outcome: 'aborted', reason: 'Room in COMMITTING state', participant: 'n3' });
    expect(p.calls.filter((c) => c.startsWith('rollback')).sort()).toEqual(['rollback n2', 'rollback n3']);
    expect(p.calls.some((c) => c.startsWith('commit'))).toBe(false);
  });

  it('counts an unreachable participant as a timeout, in the original wording', async () => {
    const p = participants({ n2: 'fail' });
    const r = await runTwoPhaseDelete({ transactionId: 't', participants: ['n2'], phaseTimeoutMs: 500, ...p });
    expect(r).toMatchObject({ outcome: 'aborted', reason: 'Node n2 timed out' });
  });

  it('abandons a hung participant after the phase timeout instead of waiting for it', async () => {
    const p = participants({ n2: 'ready', n3: 'hang' });
    // n3 never answers until released, and it is released only after the outcome: the outcome did not wait for it.
    const r = await runTwoPhaseDelete({ transactionId: 't', participants: ['n2', 'n3'], phaseTimeoutMs: 200, ...p });
    p.release();
    expect(r).toMatchObject({ outcome: 'aborted', reason: 'Node n3 timed out' });
  });
});
