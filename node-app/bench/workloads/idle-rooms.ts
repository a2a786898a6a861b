/**
 * Idle cost: what rooms cost a server when nobody speaks. On a fresh instance: CPU per server
 * process over a window with no clients (the baseline), then `rooms` rooms are created and their
 * members joined (spread over the nodes), and after a settling pause CPU per process is read again
 * over the idle window. Last, one message per room proves every room still works
 * (each member gets it, in order): a room that went quiet must still wake up.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { protocolErrorsOf } from '../load/clients';
import { encodeContent, nowMicros } from '../load/payload';
import { DeliveryFigures, Tracker } from '../load/tracker';
import { cpuSnapshot, loadavg1 } from '../measure/proc';
import { RunningSystem } from '../systems/types';
import { setupRooms, spreadRooms, TrafficPlan } from './traffic';

export interface IdleRoomsOptions {
  rooms: number;
  membersPerRoom: number;
  /** The measured idle window. */
  windowMs: number;
  /** The baseline window before any client connects. */
  baselineMs: number;
  /** Pause between the last join and the idle window, so setup work is not counted as idle. */
  settleMs: number;
  drainTimeoutMs: number;
}

export interface IdleRoomsResult {
  workload: 'idle-rooms';
  system: string;
  rooms: number;
  membersPerRoom: number;
  clients: number;
  windowMs: number;
  setupSeconds: number;
  /** CPU % of one core per server process (node1.., redis): without clients, and with the idle rooms. */
  baselinePctByProcess: Record<string, number>;
  idlePctByProcess: Record<string, number>;
  /** The busiest node process (Redis excluded) with the idle rooms: the per-node figure. */
  maxNodeIdlePct: number;
  /** The wake-up check: one message per room after the window. */
  probe: Pick<DeliveryFigures, 'sent' | 'sendErrors' | 'expectedDeliveries' | 'deliveries' | 'complete' | 'inOrder'> & { drained: boolean; p99Ms: number };
  loadGenCpuPctOfCore: number;
  loadavgBefore: number;
  loadavgAfter: number;
  protocolErrors: number;
  lastProtocolError: string;
}

/** The rooms spread over the nodes as in the many-rooms workload; nobody sends. */
export function idleRoomsPlan(opts: { rooms: number; membersPerRoom: number; nodes?: number }): Pick<TrafficPlan, 'workload' | 'clientNode' | 'rooms' | 'setupTimeoutMs'> {
  return { workload: 'idle-rooms', ...spreadRooms(opts), setupTimeoutMs: 60000 };
}

/** CPU % of one core of each server process over `ms` of waiting. */
async function cpuOverWindow(system: RunningSystem, ms: number): Promise<Record<string, number>> {
  const before = cpuSnapshot(system.serverPids);
  const t0 = nowMicros();
  await sleep(ms);
  const after = cpuSnapshot(system.serverPids);
  const wallS = (nowMicros() - t0) / 1e6;
  const out: Record<string, number> = {};
  system.serverPids.forEach((pid, i) => {
    const micros = (after.get(pid) ?? NaN) - (before.get(pid) ?? NaN);
    out[system.serverRoles[i] ?? String(pid)] = Math.round((micros / 1e6 / wallS) * 1000) / 10;
  });
  return out;
}

export async function runIdleRooms(system: RunningSystem, opts: IdleRoomsOptions): Promise<IdleRoomsResult> {
  const load0 = loadavg1();
  await sleep(opts.settleMs);
  const baseline = await cpuOverWindow(system, opts.baselineMs);
  const plan = idleRoomsPlan(opts);
  const s0 = nowMicros();
  const { clients, roomIds, receiverRoom } = await setupRooms(system, plan);
  try {
    const setupSeconds = Math.round((nowMicros() - s0) / 1e5) / 10;
    await sleep(opts.settleMs);
    const own0 = process.cpuUsage();
    const w0 = nowMicros();
    const idle = await cpuOverWindow(system, opts.windowMs);
    const own = process.cpuUsage(own0);
    const wallS = (nowMicros() - w0) / 1e6;

    // Wake-up check: the creator of every room sends one message; every member must get it.
    const creators = plan.rooms.map((r) => r.creator);
    const tracker = new Tracker({
      receiverRoom,
      senderRoom: Int32Array.from(creators.map((c) => receiverRoom[c])),
      maxPerSender: 1,
      roomTotalOrder: system.roomTotalOrder,
    });
    clients.forEach((c, i) => {
      c.receiver = i;
      c.tracker = tracker;
    });
    creators.forEach((c, s) => {
      clients[c].sender = s;
      const t = nowMicros();
      if (tracker.onSend(s, t) > 0) clients[c].send(roomIds[receiverRoom[c]], `u${c}`, encodeContent(s, 1, t));
    });
    const deadline = nowMicros() + opts.drainTimeoutMs * 1000;
    while (!tracker.drained() && nowMicros() < deadline) await sleep(5);
    const f = tracker.figures();
    const nodeRoles = new Set(system.serverPids.filter((pid) => system.nodePids.includes(pid)).map((pid) => system.serverRoles[system.serverPids.indexOf(pid)]));
    return {
      workload: 'idle-rooms',
      system: system.name,
      rooms: opts.rooms,
      membersPerRoom: opts.membersPerRoom,
      clients: clients.length,
      windowMs: opts.windowMs,
      setupSeconds,
      baselinePctByProcess: baseline,
      idlePctByProcess: idle,
      maxNodeIdlePct: Math.max(...Object.entries(idle).filter(([role]) => nodeRoles.has(role)).map(([, v]) => v)),
      probe: {
        sent: f.sent,
        sendErrors: f.sendErrors,
        expectedDeliveries: f.expectedDeliveries,
        deliveries: f.deliveries,
        complete: f.complete,
        inOrder: f.inOrder,
        drained: tracker.drained(),
        p99Ms: f.e2e.p99Ms,
      },
      loadGenCpuPctOfCore: Math.round(((own.user + own.system) / 1e6 / wallS) * 1000) / 10,
      loadavgBefore: load0,
      loadavgAfter: loadavg1(),
      ...protocolErrorsOf(clients),
    };
  } finally {
    for (const c of clients) c.close();
    await sleep(300);
  }
}
