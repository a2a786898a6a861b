/** The verdicts and ratios the issue asks for, computed from one result. */
import type { BenchResult } from '../run';
import type { IdleRoomsResult } from '../workloads/idle-rooms';
import type { TrafficResult } from '../workloads/traffic';

/** The latency bound under which a rate counts as sustained. */
export const SUSTAINED_P99_MS = 100;

export function isGood(r: TrafficResult): boolean {
  return r.drained && r.figures.complete && r.figures.inOrder && r.figures.e2e.p99Ms < SUSTAINED_P99_MS;
}

/** A fan-out step as reported: the repetitions of one (system, rate) merged. */
export type MergedStep = TrafficResult & { runs: number; p99Runs: number[] };

/**
 * Merges the repetitions of each (system, rate): latency figures from the run with the lowest p99
 * (other tenants of a shared machine only ever add latency), but complete / in order / drained
 * only if every run was (a lost or reordered message is never noise).
 */
export function mergedFanout(result: BenchResult): MergedStep[] {
  const groups = new Map<string, TrafficResult[]>();
  for (const r of result.fanout) {
    const k = `${r.system}\u0000${r.offeredRate}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const out: MergedStep[] = [];
  for (const runs of groups.values()) {
    const p99 = (r: TrafficResult): number => (Number.isFinite(r.figures.e2e.p99Ms) ? r.figures.e2e.p99Ms : Infinity);
    const best = runs.reduce((a, b) => (p99(b) < p99(a) ? b : a));
    out.push({
      ...best,
      drained: runs.every((r) => r.drained),
      figures: {
        ...best.figures,
        complete: runs.every((r) => r.figures.complete),
        inOrder: runs.every((r) => r.figures.inOrder),
        missingDeliveries: runs.reduce((s, r) => s + r.figures.missingDeliveries, 0),
        expectedDeliveries: runs.reduce((s, r) => s + r.figures.expectedDeliveries, 0),
        sendErrors: runs.reduce((s, r) => s + r.figures.sendErrors, 0),
        senderOrderViolations: runs.reduce((s, r) => s + r.figures.senderOrderViolations, 0),
        roomOrderViolations: runs.reduce((s, r) => s + r.figures.roomOrderViolations, 0),
      },
      runs: runs.length,
      p99Runs: runs.map((r) => r.figures.e2e.p99Ms),
    });
  }
  return out;
}

/** The highest offered fan-out rate at which a system delivered everything in order with p99 < 100 ms. */
export function highestSustainedRate(result: BenchResult, system: string): number | null {
  let best: number | null = null;
  for (const r of mergedFanout(result)) if (r.system === system && isGood(r) && (best === null || r.offeredRate > best)) best = r.offeredRate;
  return best;
}

export function fanoutAt(result: BenchResult, system: string, rate: number): MergedStep | undefined {
  return mergedFanout(result).find((r) => r.system === system && r.offeredRate === rate);
}

export interface RateComparison {
  rate: number;
  oursP99Ms: number | null;
  /** Our cluster without DATA_DIR, when it ran. */
  oursMemP99Ms: number | null;
  oursMemRatioVsSocketio: number | null;
  socketioP99Ms: number | null;
  wsP99Ms: number | null;
  /** ours p99 / Socket.IO p99 (below 1 = ours better). */
  p99RatioVsSocketio: number | null;
  p99RatioVsWs: number | null;
  oursCompleteInOrder: boolean | null;
  /** ours complete+in order and p99 no worse than Socket.IO's at this rate (the target). */
  meetsTarget: boolean | null;
}

function ratio(a: number | null, b: number | null): number | null {
  if (a === null || b === null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return Math.round((a / b) * 100) / 100;
}

export function compareRates(result: BenchResult): RateComparison[] {
  const rates = [...new Set(result.fanout.map((r) => r.offeredRate))].sort((a, b) => a - b);
  return rates.map((rate) => {
    const o = fanoutAt(result, 'ours', rate);
    const s = fanoutAt(result, 'socketio', rate);
    const w = fanoutAt(result, 'ws', rate);
    const om = fanoutAt(result, 'ours-mem', rate);
    const p = (r: TrafficResult | undefined): number | null => (r && Number.isFinite(r.figures.e2e.p99Ms) ? r.figures.e2e.p99Ms : null);
    const oursOk = o ? o.drained && o.figures.complete && o.figures.inOrder : null;
    let meets: boolean | null = null;
    if (o) {
      // Where Socket.IO could not run the rate (saturated earlier), ours only has to deliver.
      const sP99 = p(s);
      meets = !!oursOk && (sP99 === null || (p(o) ?? Infinity) <= sP99);
    }
    return {
      rate,
      oursP99Ms: p(o),
      oursMemP99Ms: p(om),
      oursMemRatioVsSocketio: ratio(p(om), p(s)),
      socketioP99Ms: p(s),
      wsP99Ms: p(w),
      p99RatioVsSocketio: ratio(p(o), p(s)),
      p99RatioVsWs: ratio(p(o), p(w)),
      oursCompleteInOrder: oursOk,
      meetsTarget: meets,
    };
  });
}

export interface Verdict {
  sustained: Record<string, number | null>;
  sustainedRatioVsSocketio: number | null;
  sustainedRatioVsWs: number | null;
  everyRateMeetsTarget: boolean | null;
  sustainedMeetsTarget: boolean | null;
  shortfalls: string[];
}

export function verdict(result: BenchResult): Verdict {
  const sustained: Record<string, number | null> = {};
  for (const name of result.config.systems) sustained[name] = highestSustainedRate(result, name);
  const rows = compareRates(result);
  const shortfalls: string[] = [];
  for (const row of rows) {
    if (row.meetsTarget === false) {
      shortfalls.push(
        row.oursCompleteInOrder === false
          ? `at ${row.rate} msg/s our cluster did not deliver everything in order`
          : `at ${row.rate} msg/s our p99 ${row.oursP99Ms} ms is ${row.p99RatioVsSocketio}x Socket.IO's ${row.socketioP99Ms} ms`,
      );
    }
  }
  const ours = sustained.ours ?? null;
  const sio = sustained.socketio ?? null;
  const hasOurs = result.fanout.some((r) => r.system === 'ours');
  const sustainedMeets = hasOurs ? (ours ?? 0) >= (sio ?? 0) : null;
  if (sustainedMeets === false) shortfalls.push(`our highest sustained rate ${ours ?? 'none'} is below Socket.IO's ${sio}`);
  return {
    sustained,
    sustainedRatioVsSocketio: ratio(ours, sio),
    sustainedRatioVsWs: ratio(ours, sustained.ws ?? null),
    everyRateMeetsTarget: hasOurs ? rows.every((r) => r.meetsTarget !== false) : null,
    sustainedMeetsTarget: sustainedMeets,
    shortfalls,
  };
}

/** Issue 12's targets for the three workloads below. */
export const CLOSED_LOOP_TARGET_MSGS_PER_SEC = 3000;
export const IDLE_TARGET_PCT_OF_CORE = 5;
export const CPU_PER_DELIVERY_TARGET_RATIO = 1.3;

function median(xs: number[]): number {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export interface CpuPerDeliveryRow {
  system: string;
  rate: number;
  /** Median over the runs (CPU time is what a shared machine disturbs least; the median drops the odd run). */
  microsPerDelivery: number;
  runs: number[];
  completeInOrder: boolean;
}

export function cpuPerDeliveryRows(result: BenchResult): CpuPerDeliveryRow[] {
  const by = new Map<string, TrafficResult[]>();
  for (const r of result.cpuPerDelivery ?? []) by.set(r.system, [...(by.get(r.system) ?? []), r]);
  return [...by.entries()].map(([system, runs]) => ({
    system,
    rate: runs[0].offeredRate,
    microsPerDelivery: Math.round(median(runs.map((r) => r.cpuMicrosPerDelivery)) * 100) / 100,
    runs: runs.map((r) => r.cpuMicrosPerDelivery),
    completeInOrder: runs.every((r) => r.drained && r.figures.complete && r.figures.inOrder),
  }));
}

/** Ours / Socket.IO server CPU per delivery (null when either did not run) and the target verdict. */
export function cpuPerDeliveryRatio(result: BenchResult): { ratio: number | null; meetsTarget: boolean | null } {
  const rows = cpuPerDeliveryRows(result);
  const o = rows.find((r) => r.system === 'ours');
  const s = rows.find((r) => r.system === 'socketio');
  const rt = ratio(o?.microsPerDelivery ?? null, s?.microsPerDelivery ?? null);
  return { ratio: rt, meetsTarget: rt === null ? null : rt <= CPU_PER_DELIVERY_TARGET_RATIO && !!o?.completeInOrder };
}

export interface ClosedLoopRow {
  system: string;
  senders: number;
  /** The run with the most acknowledged msg/s (other tenants only ever lower it); every run listed too. */
  best: TrafficResult;
  ackedRuns: number[];
  completeInOrder: boolean;
  meetsTarget: boolean;
}

export function closedLoopRows(result: BenchResult): ClosedLoopRow[] {
  const by = new Map<string, TrafficResult[]>();
  for (const r of result.closedLoop ?? []) by.set(r.system, [...(by.get(r.system) ?? []), r]);
  return [...by.entries()].map(([system, runs]) => {
    const best = runs.reduce((a, b) => (b.ackedMsgsPerSec > a.ackedMsgsPerSec ? b : a));
    const ok = runs.every((r) => r.drained && r.figures.complete && r.figures.inOrder);
    return { system, senders: best.senders, best, ackedRuns: runs.map((r) => r.ackedMsgsPerSec), completeInOrder: ok, meetsTarget: ok && best.ackedMsgsPerSec >= CLOSED_LOOP_TARGET_MSGS_PER_SEC };
  });
}

/** Idle rooms: every node of the system at or under the target, and every room still delivering. */
export function idleMeetsTarget(r: IdleRoomsResult): boolean {
  return r.maxNodeIdlePct <= IDLE_TARGET_PCT_OF_CORE && r.probe.complete && r.probe.inOrder;
}
