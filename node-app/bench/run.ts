/**
 * The whole benchmark: for each system, start it (pinned away from the load generator), run the
 * workloads against a fresh instance each, stop it, and collect one result object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CorePlan, machineInfo, MachineInfo, pinProcess, planCores } from './measure/proc';
import { oursSystem } from './systems/ours';
import { socketioRedis } from './systems/socketio-redis';
import { BenchSystem, RunningSystem, SystemName } from './systems/types';
import { wsCeiling } from './systems/ws-ceiling';
import { ConnectionsResult, runConnections } from './workloads/connections';
import { fanoutPlan, manyRoomsPlan, runTraffic, TrafficResult } from './workloads/traffic';

export type WorkloadName = 'fanout' | 'many-rooms' | 'connections';

export interface BenchConfig {
  systems: SystemName[];
  workloads: WorkloadName[];
  /** repeat: every (rate, system) step runs this many times, in interleaved rounds. */
  fanout: { rates: number[]; stepMs: number; drainMs: number; members: number; sendersPerNode: number; warmupMs: number; repeat: number };
  manyRooms: { rooms: number; membersPerRoom: number; perMemberRate: number; durationMs: number; drainMs: number };
  connections: { levels: number[]; deadlineMs: number };
  /** Pin servers and the load generator to different cores (taskset). */
  pin: boolean;
  /** Skip a system's higher fan-out rates once a rate did not drain in time. */
  skipAfterSaturation: boolean;
  /** Extra environment for our nodes. */
  oursEnv: Record<string, string>;
  oursDurable: boolean;
  /** Extra arguments for node running our nodes (profiling). */
  oursNodeArgs: string[];
  /** Drive Socket.IO with socket.io-client rather than the byte-decoding wire client. */
  socketioLibraryClient: boolean;
}

export const FULL_CONFIG: BenchConfig = {
  systems: ['ours', 'ours-mem', 'socketio', 'ws'],
  workloads: ['fanout', 'many-rooms', 'connections'],
  fanout: { rates: [100, 200, 500, 1000, 2000], stepMs: 10000, drainMs: 10000, members: 99, sendersPerNode: 3, warmupMs: 2000, repeat: 2 },
  manyRooms: { rooms: 30, membersPerRoom: 10, perMemberRate: 1, durationMs: 10000, drainMs: 10000 },
  connections: { levels: [1000, 2500, 5000, 10000, 15000], deadlineMs: 120000 },
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
  workloads: ['fanout', 'many-rooms', 'connections'],
  fanout: { rates: [50], stepMs: 1000, drainMs: 5000, members: 12, sendersPerNode: 1, warmupMs: 0, repeat: 1 },
  manyRooms: { rooms: 3, membersPerRoom: 4, perMemberRate: 2, durationMs: 1000, drainMs: 5000 },
  connections: { levels: [50], deadlineMs: 20000 },
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
  manyRooms: TrafficResult[];
  connections: ConnectionsResult[];
  skipped: SkippedStep[];
  errors: { system: SystemName; workload: string; error: string }[];
}

export function systemFor(name: SystemName, config: BenchConfig): BenchSystem {
  if (name === 'ours') return oursSystem(config.oursEnv, config.oursDurable, config.oursNodeArgs);
  if (name === 'ours-mem') return oursSystem(config.oursEnv, false, config.oursNodeArgs, 'ours-mem');
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
  const fanoutStep = (rate: number, durationMs: number) =>
    fanoutPlan({ rate, durationMs, drainTimeoutMs: config.fanout.drainMs, members: config.fanout.members, sendersPerNode: config.fanout.sendersPerNode });

  try {
    if (config.workloads.includes('fanout')) {
      // Every system is up at once and the rates are interleaved (system order rotating per rate),
      // so that the noise of a shared machine falls on all systems alike and the ratios hold.
      const up = new Map<SystemName, RunningSystem>();
      const stoppedBecause = new Map<SystemName, string>();
      const drop = async (name: SystemName): Promise<void> => {
        const s = up.get(name);
        up.delete(name);
        if (s) await s.stop();
      };
      try {
        for (const name of config.systems) {
          const s = await start(name, 'fanout');
          if (s) up.set(name, s);
        }
        // A short unrecorded run first, so JIT warm-up is not charged to the first rate.
        if (config.fanout.warmupMs > 0) {
          for (const [name, s] of [...up]) {
            try {
              progress(`(warm-up) ${describe(await runTraffic(s, fanoutStep(config.fanout.rates[0], config.fanout.warmupMs)))}`);
            } catch (err) {
              fail(name, 'fanout', err);
              await drop(name);
            }
          }
        }
        for (let i = 0; i < config.fanout.rates.length; i++) {
          const rate = config.fanout.rates[i];
          for (let rep = 1; rep <= config.fanout.repeat; rep++) {
          const turn = i * config.fanout.repeat + rep - 1;
          const order = config.systems.map((_, k) => config.systems[(k + turn) % config.systems.length]);
          for (const name of order) {
            const s = up.get(name);
            if (!s) {
              const why = stoppedBecause.get(name);
              if (why !== undefined && rep === 1) result.skipped.push({ system: name, workload: 'fanout', offeredRate: rate, reason: why });
              continue;
            }
            try {
              const r = { ...(await runTraffic(s, fanoutStep(rate, config.fanout.stepMs))), repetition: rep };
              result.fanout.push(r);
              progress(describe(r));
              if (r.serverDied.length) {
                const tails = r.serverDied.map((role) => `${role}: ${s.logTail?.(role) ?? '(no log)'}`).join('\n');
                fail(name, 'fanout', new Error(`at ${rate} msg/s server process(es) ${r.serverDied.join(', ')} died\n${tails}`));
              }
              // A backlog left in a saturated system would burn CPU under the next system's step.
              if (!r.drained || r.serverDied.length) {
                stoppedBecause.set(name, r.serverDied.length ? `a server process died at ${rate} msg/s` : `did not drain at ${rate} msg/s`);
                await drop(name);
              }
            } catch (err) {
              fail(name, 'fanout', err);
              await drop(name);
            }
          }
          }
        }
      } finally {
        for (const name of [...up.keys()]) await drop(name);
      }
    }

    // One system at a time from here, a fresh instance per workload.
    for (const name of config.systems) {
      const withSystem = async (workload: WorkloadName, fn: (s: RunningSystem) => Promise<void>): Promise<void> => {
        if (!config.workloads.includes(workload)) return;
        const running = await start(name, workload);
        if (!running) return;
        try {
          await fn(running);
        } catch (err) {
          fail(name, workload, err);
        } finally {
          await running.stop();
        }
      };
      await withSystem('many-rooms', async (s) => {
        const m = config.manyRooms;
        const r = await runTraffic(s, manyRoomsPlan({ rooms: m.rooms, membersPerRoom: m.membersPerRoom, perMemberRate: m.perMemberRate, durationMs: m.durationMs, drainTimeoutMs: m.drainMs }));
        result.manyRooms.push(r);
        progress(describe(r));
      });
      await withSystem('connections', async (s) => {
        const r = await runConnections(s, config.connections);
        result.connections.push(r);
        const last = r.levels[r.levels.length - 1];
        progress(`${name} connections: held ${r.maxHeld}, ${last ? Math.round((last.bytesPerConnection / 1024) * 10) / 10 : NaN} KiB/conn (${r.stoppedBecause})`);
      });
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  result.finishedAt = new Date().toISOString();
  return result;
}

export function describe(r: TrafficResult): string {
  const f = r.figures;
  return (
    `${r.system} ${r.workload} @${r.offeredRate}/s: ${r.deliveredMsgsPerSec} msg/s (${r.deliveriesPerSec} deliveries/s), ` +
    `e2e p50 ${f.e2e.p50Ms} p99 ${f.e2e.p99Ms} max ${f.e2e.maxMs} ms, ack p50 ${f.ack.p50Ms} p99 ${f.ack.p99Ms} ms, ` +
    `e2e p50/p99 by receiver node ${f.e2eByReceiverNode.map((x) => `${x.p50Ms}/${x.p99Ms}`).join(' ')}, ack by sender node ${f.ackBySenderNode.map((x) => `${x.p50Ms}/${x.p99Ms}`).join(' ')}, ` +
    `${f.complete ? 'complete' : `INCOMPLETE (${f.missingDeliveries} missing, ${f.sendErrors} sends refused)`}, ${f.inOrder ? 'in order' : 'OUT OF ORDER'}, ` +
    `server ${r.cpuMicrosPerDelivery} µs/delivery (${r.serverCpuPctOfCore}% core; ms ${Object.entries(r.serverCpuMsByProcess).map(([k, v]) => `${k} ${v}`).join(', ')}; ${r.syscallsPerDelivery} syscalls/delivery), loadgen ${r.loadGenCpuPctOfCore}% core (${r.loadGenSystemCpuPctOfCore}% sys), load ${r.loadavgAfter}` +
    (r.protocolErrors ? `, ${r.protocolErrors} protocol errors (${r.lastProtocolError.slice(0, 120)})` : '')
  );
}
