/**
 * The coordinator side of room deletion (node-app/PROTOCOL.md §2.7) as a pure procedure: the caller supplies
 * the participants and how to reach them. Unlike the original (§9.9), the caller passes only the
 * nodes that matter (those holding members of the room), every phase is bounded by a timeout that
 * really bounds it (a hung participant is abandoned, not awaited), and commit/rollback results are
 * not waited on longer than the timeout either.
 */

export interface Vote {
  vote: 'READY' | 'ABORT';
  reason?: string;
}

export interface TwoPhaseDeleteOptions {
  transactionId: string;
  participants: string[];
  prepare(participant: string): Promise<Vote>;
  commit(participant: string): Promise<unknown>;
  rollback(participant: string): Promise<unknown>;
  phaseTimeoutMs: number;
}

export type TwoPhaseOutcome =
  | { outcome: 'committed'; transactionId: string }
  | { outcome: 'aborted'; transactionId: string; reason: string; participant: string };

const TIMED_OUT = Symbol('timed out');

function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export async function runTwoPhaseDelete(opts: TwoPhaseDeleteOptions): Promise<TwoPhaseOutcome> {
  const { transactionId, participants, phaseTimeoutMs } = opts;
  // Phase 1: all votes in parallel; the first failure decides, in participant order for determinism.
  const votes = await Promise.all(
    participants.map(async (p) => {
      try {
        const v = await within(opts.prepare(p), phaseTimeoutMs);
        if (v === TIMED_OUT) return { p, ok: false, reason: `Node ${p} timed out` };
        if (v.vote === 'READY') return { p, ok: true, reason: '' };
        return { p, ok: false, reason: v.reason ?? `Node ${p} voted ABORT` };
      } catch {
        // Same text as the original for an unreachable participant.
        return { p, ok: false, reason: `Node ${p} timed out` };
      }
    }),
  );
  const refusal = votes.find((v) => !v.ok);
  const phase2 = refusal ? opts.rollback : opts.commit;
  await Promise.all(participants.map((p) => within(phase2(p).catch(() => undefined), phaseTimeoutMs)));
  if (refusal) return { outcome: 'aborted', transactionId, reason: refusal.reason, participant: refusal.p };
  return { outcome: 'committed', transactionId };
}
