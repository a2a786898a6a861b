/**
 * The whole benchmark: for each system, start it (pinned away from the load generator), run the
 * workloads against a fresh instance each, stop it, and collect one result object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CorePlan, machineInfo, MachineInfo, pinProcess, planCores } from './measure/proc';
import { baselineNodeBin, oursSystem } from './systems/ours';
import { socketioRedis } from './systems/socketio-redis';
import { BenchSystem, RunningSystem, SystemName } from './systems/types';
import { wsCeiling } from './systems/ws-ceiling';
import { ConnectionsResult, runConnections } from './workloads/connections';
import { IdleRoomsResult, runIdleRooms } from './workloads/idle-rooms';
import { closedLoopPlan, fanoutPlan, manyRoomsPlan, runTraffic, TrafficPlan, TrafficResult } from './workloads/traffic';

/**
 * fanout, cpu-per-delivery and closed-loop run with every system up at once, interleaved;
 * idle-rooms, many-rooms and connections one system at a time.
 */
export const WORKLOAD_NAMES = ['fanout', 'cpu-per-delivery', 'closed-loop', 'idle-rooms', 'many-rooms', 'connections'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export interface BenchConfig {
  systems: SystemName[];
  workloads: WorkloadName[];
  /** repeat: every (rate, system) step runs this many times, in interleaved rounds. */
  fanout: { rates: number[]; stepMs: number; drainMs: number; members: number; sendersPerNode: number; warmupMs: number; repeat: number };
  /** The fan-out room at one rate, repeated, for server CPU per delivery (ours / Socket.IO). */
  cpuPerDelivery: { rate: number; stepMs: number; drainMs: number; repeat: number };
  closedLoop: { senders: number; durationMs: number; drainMs: number; warmupMs: number; repeat: number };
  idleRooms: { rooms: number; membersPerRoom: number; windowMs: number; baselineMs: number; settleMs: number; drainMs: number };
  manyRooms: { rooms: number; membersPerRoom: number; perMemberRate: number; durationMs: number; drainMs: number; warmupMs: number };
  /** settleMs: pause after each level before memory is read (and before the baseline). */
  connections: { levels: number[]; deadlineMs: number; settleMs: number };
  /**
   * A fresh instance of each system per workload (the full run). Off (the smoke: nothing it
   * measures is compared), every workload runs on one instance per system, started once, and the
   * one-system-at-a-time workloads of the systems run side by side.
   */
  freshInstances: boolean;
  /** Pin servers and the load generator to different cores (taskset). */
  pin: boolean;
  /** Skip a system's higher fan-out rates once a rate did not drain in time. */
  skipAfterSaturation: boolean;
  /** Extra environment for our nodes. */
  oursEnv: Record<string, string>;
  oursDurable: boolean;
  /** Extra arguments for node running our nodes (profiling). */
  oursNodeArgs: string[];
  /** A checkout whose build `ours-base` runs (`--baseline DIR`). */
  baselineDir?: string;
  /** Drive Socket.IO with socket.io-client rather than the byte-decoding wire client. */
  socketioLibraryClient: boolean;
}

export const FULL_CONFIG: BenchConfig = {
  systems: ['ours', 'ours-mem', 'socketio', 'ws'],
  workloads: [...WORKLOAD_NAMES],
  fanout: { rates: [100, 200, 500, 1000, 2000], stepMs: 10000, drainMs: 10000, members: 99, sendersPerNode: 3, warmupMs: 2000, repeat: 2 },
  cpuPerDelivery: { rate: 500, stepMs: 10000, drainMs: 10000, repeat: 3 },
  closedLoop: { senders: 30, durationMs: 10000, drainMs: 10000, warmupMs: 2000, repeat: 2 },
  idleRooms: { rooms: 1000, membersPerRoom: 3, windowMs: 20000, baselineMs: 5000, settleMs: 3000, drainMs: 15000 },
  manyRooms: { rooms: 30, membersPerRoom: 10, perMemberRate: 1, durationMs: 10000, drainMs: 10000, warmupMs: 2000 },
  connections: { levels: [1000, 2500, 5000, 10000, 15000], deadlineMs: 120000, settleMs: 1000 },
  freshInstances: true,
  pin: true,
  skipAfterSaturation: true,
  oursEnv: {},
  oursDurable: true,
  oursNodeArgs: [],
  socketioLibraryClient: false,
};

/** One small step of each workload against each system: the CI smoke. */
export const SMOKE_CONFIG: BenchConfig = {
  systems: ['ours', 'socketio', 'ws'],
  workloads: [...WORKLOAD_NAMES],
  fanout: { rates: [50], stepMs: 1000, drainMs: 5000, members: 12, sendersPerNode: 1, warmupMs: 0, repeat: 1 },
  cpuPerDelivery: { rate: 50, stepMs: 500, drainMs: 5000, repeat: 1 },
  closedLoop: { senders: 6, durationMs: 1000, drainMs: 5000, warmupMs: 0, repeat: 1 },
  idleRooms: { rooms: 20, membersPerRoom: 3, windowMs: 500, baselineMs: 300, settleMs: 200, drainMs: 5000 },
  manyRooms: { rooms: 3, membersPerRoom: 4, perMemberRate: 2, durationMs: 1000, drainMs: 5000, warmupMs: 0 },
  connections: { levels: [50], deadlineMs: 20000, settleMs: 200 },
  freshInstances: false,
  pin: false,
  skipAfterSaturation: true,
  oursEnv: {},
  oursDurable: true,
  oursNodeArgs: [],
  socketioLibraryClient: false,
};

export interface SkippedStep {
  system: SystemName;
  workload: string;
  offeredRate?: number;
  repetition?: number;
  reason: string;
}

export interface BenchResult {
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  cores: CorePlan & { loadGenPinned: boolean };
  config: BenchConfig;
  /** Per system; pids of every server process started (to prove they were all stopped). */
  systems: Record<string, { label: string; notes: string[]; pinnedTo: string | null; pids: number[] }>;
  fanout: TrafficResult[];
  cpuPerDelivery: TrafficResult[];
  closedLoop: TrafficResult[];
  idleRooms: IdleRoomsResult[];
  manyRooms: TrafficResult[];
  connections: ConnectionsResult[];
  skipped: SkippedStep[];
  errors: { system: SystemName; workload: string; error: string }[];
}

export function systemFor(name: SystemName, config: BenchConfig): BenchSystem {
  if (name === 'ours') return oursSystem(config.oursEnv, config.oursDurable, config.oursNodeArgs);
  if (name === 'ours-mem') return oursSystem(config.oursEnv, false, config.oursNodeArgs, 'ours-mem');
  if (name === 'ours-offloop') return oursSystem({ ...config.oursEnv, REPL_SYNC: 'full' }, config.oursDurable, config.oursNodeArgs, 'ours-offloop');
  if (name === 'ours-base') return oursSystem(config.oursEnv, config.oursDurable, config.oursNodeArgs, 'ours-base', baselineNodeBin(config.baselineDir));
  if (name === 'socketio') return socketioRedis(config.socketioLibraryClient);
  return wsCeiling;
}

export type Progress = (line: string) => void;

export async function runBench(config: BenchConfig, progress: Progress = () => undefined): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const cores = planCores(config.pin);
  const loadGenPinned = pinProcess(process.pid, cores.loadGenCores).ok;
  const result: BenchResult = {
    startedAt,
    finishedAt: '',
    machine: machineInfo(),
    cores: { ...cores, loadGenPinned },
    config,
    systems: {},
    fanout: [],
    cpuPerDelivery: [],
    closedLoop: [],
    idleRooms: [],
    manyRooms: [],
    connections: [],
    skipped: [],
    errors: [],
  };
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'swarm-chat-bench-'));
  const fail = (system: SystemName, workload: string, err: unknown): void => {
    const msg = (err as Error).stack ?? String(err);
    result.errors.push({ system, workload, error: msg });
    progress(`${system} ${workload}: ERROR ${msg.split('\n')[0]}`);
  };
  const start = async (name: SystemName, workload: string): Promise<RunningSystem | null> => {
    try {
      const running = await systemFor(name, config).start({ serverCores: cores.serverCores, workDir: mkdtempSync(path.join(workDir, `${name}-`)) });
      const prev = result.systems[name]?.pids ?? [];
      result.systems[name] = { label: running.label, notes: running.notes, pinnedTo: running.pinnedTo, pids: [...prev, ...running.serverPids] };
      return running;
    } catch (err) {
      fail(name, workload, err);
      return null;
    }
  };
  const fanoutStep = (rate: number, durationMs: number, drainMs: number): TrafficPlan =>
    fanoutPlan({ rate, durationMs, drainTimeoutMs: drainMs, members: config.fanout.members, sendersPerNode: config.fanout.sendersPerNode });
  const closedLoopStep = (durationMs: number): TrafficPlan =>
    closedLoopPlan({ senders: config.closedLoop.senders, durationMs, drainTimeoutMs: config.closedLoop.drainMs });

  // Interleaved workloads: every system up at once, each step run on every system in turn (the
  // order rotating per step), so that the noise of a shared machine falls on all systems alike.
  const up = new Map<SystemName, RunningSystem>();
  const drop = async (name: SystemName): Promise<void> => {
    const s = up.get(name);
    up.delete(name);
    if (s) await s.stop();
  };
  const interleaved = async (
    workload: WorkloadName,
    into: TrafficResult[],
    steps: TrafficPlan[],
    repeat: number,
    warmup: TrafficPlan | null,
  ): Promise<void> => {
    if (!config.workloads.includes(workload)) return;
    if (config.freshInstances) for (const name of [...up.keys()]) await drop(name);
    // Side by side: the systems do not measure anything while they start.
    await Promise.all(
      config.systems
        .filter((name) => !up.has(name))
        .map(async (name) => {
          const s = await start(name, workload);
          if (s) up.set(name, s);
        }),
    );
    const stoppedBecause = new Map<SystemName, string>();
    // A short unrecorded run first, so JIT warm-up is not charged to the first step.
    if (warmup) {
      for (const [name, s] of [...up]) {
        try {
          progress(`(warm-up) ${describe(await runTraffic(s, warmup))}`);
        } catch (err) {
          fail(name, workload, err);
          await drop(name);
        }
      }
    }
    let turn = 0;
    for (const plan of steps) {
      for (let rep = 1; rep <= repeat; rep++, turn++) {
        const order = config.systems.map((_, k) => config.systems[(k + turn) % config.systems.length]);
        for (const name of order) {
          const s = up.get(name);
          if (!s) {
            const why = stoppedBecause.get(name);
            if (why !== undefined) result.skipped.push({ system: name, workload, offeredRate: plan.rate, repetition: rep, reason: why });
            continue;
          }
          try {
            const r = { ...(await runTraffic(s, plan)), repetition: rep };
            into.push(r);
            progress(describe(r));
            const at = plan.closedLoop ? 'in the closed loop' : `at ${plan.rate} msg/s`;
            if (r.serverDied.length) {
              const tails = r.serverDied.map((role) => `${role}: ${s.logTail?.(role) ?? '(no log)'}`).join('\n');
              fail(name, workload, new Error(`${at} server process(es) ${r.serverDied.join(', ')} died\n${tails}`));
            }
            // A backlog left in a saturated system would burn CPU under the next system's step.
            if (!r.drained || r.serverDied.length) {
              stoppedBecause.set(name, r.serverDied.length ? `a server process died ${at}` : `did not drain ${at}`);
              await drop(name);
            }
          } catch (err) {
            fail(name, workload, err);
            stoppedBecause.set(name, `error: ${(err as Error).message}`);
            await drop(name);
          }
        }
      }
    }
  };

  try {
    const f = config.fanout;
    await interleaved('fanout', result.fanout, f.rates.map((rate) => fanoutStep(rate, f.stepMs, f.drainMs)), f.repeat, f.warmupMs > 0 ? fanoutStep(f.rates[0], f.warmupMs, f.drainMs) : null);
    const c = config.cpuPerDelivery;
    await interleaved('cpu-per-delivery', result.cpuPerDelivery, [{ ...fanoutStep(c.rate, c.stepMs, c.drainMs), workload: 'cpu-per-delivery' }], c.repeat, null);
    const l = config.closedLoop;
    await interleaved('closed-loop', result.closedLoop, [closedLoopStep(l.durationMs)], l.repeat, l.warmupMs > 0 ? closedLoopStep(l.warmupMs) : null);
    if (config.freshInstances) for (const name of [...up.keys()]) await drop(name);

    // One system at a time from here (idle-rooms first: with fresh instances, on one that has
    // seen no traffic); the others are stopped meanwhile.
    const oneSystem = async (name: SystemName): Promise<void> => {
      const withSystem = async (workload: WorkloadName, fn: (s: RunningSystem) => Promise<void>): Promise<void> => {
        if (!config.workloads.includes(workload)) return;
        let running = config.freshInstances ? null : up.get(name) ?? null;
        if (!running) {
          running = await start(name, workload);
          if (!running) return;
          if (!config.freshInstances) up.set(name, running);
        }
        try {
          await fn(running);
        } catch (err) {
          fail(name, workload, err);
        } finally {
          if (config.freshInstances) await running.stop();
        }
      };
      await withSystem('idle-rooms', async (s) => {
        const r = await runIdleRooms(s, { ...config.idleRooms, drainTimeoutMs: config.idleRooms.drainMs });
        result.idleRooms.push(r);
        progress(describeIdle(r));
      });
      await withSystem('many-rooms', async (s) => {
        const m = config.manyRooms;
        const plan = (durationMs: number) => manyRoomsPlan({ rooms: m.rooms, membersPerRoom: m.membersPerRoom, perMemberRate: m.perMemberRate, durationMs, drainTimeoutMs: m.drainMs });
        // As for fan-out and the closed loop: a short unrecorded run (its own rooms) first, so the
        // fresh instance's JIT warm-up is not charged to the figure.
        if (m.warmupMs > 0) progress(`(warm-up) ${describe(await runTraffic(s, plan(m.warmupMs)))}`);
        const r = await runTraffic(s, plan(m.durationMs));
        result.manyRooms.push(r);
        progress(describe(r));
      });
      await withSystem('connections', async (s) => {
        const r = await runConnections(s, config.connections);
        result.connections.push(r);
        const last = r.levels[r.levels.length - 1];
        progress(`${name} connections: held ${r.maxHeld}, ${last ? Math.round((last.bytesPerConnection / 1024) * 10) / 10 : NaN} KiB/conn (${r.stoppedBecause})`);
      });
    };
    if (config.freshInstances) for (const name of config.systems) await oneSystem(name);
    else await Promise.all(config.systems.map(oneSystem));
  } finally {
    for (const name of [...up.keys()]) await drop(name);
    rmSync(workDir, { recursive: true, force: true });
  }
  result.finishedAt = new Date().toISOString();
  return result;
}

export function describe(r: TrafficResult): string {
  const f = r.figures;
  return (
    (r.mode === 'closed'
      ? `${r.system} ${r.workload} (${r.senders} senders): ${r.ackedMsgsPerSec} acked msg/s, ${r.deliveredMsgsPerSec} msg/s delivered (${r.deliveriesPerSec} deliveries/s), `
      : `${r.system} ${r.workload} @${r.offeredRate}/s: ${r.deliveredMsgsPerSec} msg/s (${r.deliveriesPerSec} deliveries/s), `) +
    `e2e p50 ${f.e2e.p50Ms} p99 ${f.e2e.p99Ms} max ${f.e2e.maxMs} ms, ack p50 ${f.ack.p50Ms} p99 ${f.ack.p99Ms} ms, ` +
    `e2e p50/p99 by receiver node ${f.e2eByReceiverNode.map((x) => `${x.p50Ms}/${x.p99Ms}`).join(' ')}, ack by sender node ${f.ackBySenderNode.map((x) => `${x.p50Ms}/${x.p99Ms}`).join(' ')}, ` +
    `${f.complete ? 'complete' : `INCOMPLETE (${f.missingDeliveries} missing, ${f.sendErrors} sends refused)`}, ${f.inOrder ? 'in order' : 'OUT OF ORDER'}, ` +
    `server ${r.cpuMicrosPerDelivery} µs/delivery (${r.serverCpuPctOfCore}% core; ms ${Object.entries(r.serverCpuMsByProcess).map(([k, v]) => `${k} ${v}`).join(', ')}; ${r.syscallsPerDelivery} syscalls/delivery${Number.isNaN(r.peerCallsPerMessage) ? '' : `, ${r.peerCallsPerMessage} peer calls/message`}), loadgen ${r.loadGenCpuPctOfCore}% core (${r.loadGenSystemCpuPctOfCore}% sys), load ${r.loadavgAfter}` +
    (r.protocolErrors ? `, ${r.protocolErrors} protocol errors (${r.lastProtocolError.slice(0, 120)})` : '')
  );
}

export function describeIdle(r: IdleRoomsResult): string {
  const pct = (m: Record<string, number>): string => Object.entries(m).map(([k, v]) => `${k} ${v}%`).join(', ');
  const p = r.probe;
  return (
    `${r.system} idle-rooms: ${r.rooms} rooms x ${r.membersPerRoom} members (set up in ${r.setupSeconds} s): CPU % of a core over ${r.windowMs / 1000} s ${pct(r.idlePctByProcess)} ` +
    `(no clients: ${pct(r.baselinePctByProcess)}); wake-up message per room ${p.complete && p.inOrder ? 'delivered to every member' : `INCOMPLETE (${p.sendErrors} of ${p.sent} sends refused; ${p.deliveries} deliveries for ${p.expectedDeliveries} expected)`}, load ${r.loadavgAfter}` +
    (r.protocolErrors ? `, ${r.protocolErrors} protocol errors (${r.lastProtocolError.slice(0, 120)})` : '')
  );
}
