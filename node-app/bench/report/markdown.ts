/** The human-readable report of one run: Markdown tables with the issue's ratios. */
import type { BenchResult } from '../run';
import type { TrafficResult } from '../workloads/traffic';
import { compareRates, mergedFanout, MergedStep, SUSTAINED_P99_MS, verdict } from './summary';

const NAMES: Record<string, string> = { ours: 'swarm-chat', 'ours-mem': 'swarm-chat, no disk', socketio: 'Socket.IO+Redis', ws: 'raw ws' };

function n(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return x >= 100 ? String(Math.round(x)) : x.toFixed(digits);
}

function yesNo(b: boolean | null | undefined): string {
  return b === null || b === undefined ? '–' : b ? 'yes' : '**no**';
}

/** The load generator may have limited this step: near a full core, or often late on its send schedule. */
export function loadGenSuspect(r: TrafficResult): boolean {
  return r.loadGenCpuPctOfCore > 85 || r.loadGenP99LagMs > 50;
}

function trafficTable(rows: (TrafficResult | MergedStep)[]): string[] {
  const repeated = rows.some((r) => 'runs' in r && r.runs > 1);
  const out = [
    `| system | offered msg/s | delivered msg/s | deliveries/s | e2e p50 / p99 / max ms |${repeated ? ' p99 of each run |' : ''} ack p50 / p99 ms | complete | in order | server µs/delivery | server CPU % core | load-gen CPU % core | load avg |`,
    `|---|---:|---:|---:|---|${repeated ? '---|' : ''}---|---|---|---:|---:|---:|---:|`,
  ];
  for (const r of rows) {
    const runsCol = repeated ? ` ${'p99Runs' in r ? r.p99Runs.map((x) => n(x)).join(', ') : '–'} |` : '';
    const f = r.figures;
    const complete = f.complete ? 'yes' : `**no** (${f.missingDeliveries} of ${f.expectedDeliveries} missing${f.sendErrors ? `, ${f.sendErrors} send errors` : ''}${r.drained ? '' : ', not drained'})`;
    const order = f.inOrder ? 'yes' : `**no** (${f.senderOrderViolations} sender / ${f.roomOrderViolations} room)`;
    out.push(
      `| ${NAMES[r.system] ?? r.system} | ${r.offeredRate} | ${n(r.deliveredMsgsPerSec)} | ${n(r.deliveriesPerSec, 0)} | ${n(f.e2e.p50Ms)} / ${n(f.e2e.p99Ms)} / ${n(f.e2e.maxMs)} |${runsCol} ${n(f.ack.p50Ms)} / ${n(f.ack.p99Ms)} | ${complete} | ${order} | ${n(r.cpuMicrosPerDelivery)} | ${n(r.serverCpuPctOfCore)} | ${n(r.loadGenCpuPctOfCore)}${loadGenSuspect(r) ? ' ⚠' : ''} | ${n(r.loadavgAfter, 2)} |`,
    );
  }
  return out;
}

export function renderMarkdown(result: BenchResult, chartFile?: string): string {
  const m = result.machine;
  const c = result.config;
  const v = verdict(result);
  const lines: string[] = [];
  lines.push(`# Benchmark run ${result.startedAt}`);
  lines.push('');
  lines.push(
    `Machine: ${m.cores} cores (${m.cpuModel}), ${Math.round(m.totalMemBytes / 2 ** 30)} GiB, Node ${m.node}, ${m.platform}; ` +
      `load average at start ${m.loadavg.join(' / ')}. ` +
      (result.cores.serverCores
        ? `Servers pinned to core(s) ${result.cores.serverCores}, load generator to core ${result.cores.loadGenCores}${result.cores.loadGenPinned ? '' : ' (pinning failed)'}.`
        : 'Nothing pinned.'),
  );
  lines.push('');
  for (const [name, s] of Object.entries(result.systems)) {
    lines.push(`- **${NAMES[name] ?? name}** (${s.label}): ${s.notes.join('; ')}${s.pinnedTo ? `; pinned to ${s.pinnedTo}` : ''}.`);
  }
  lines.push('');
  lines.push(
    `## Fan-out: 1 room, ${c.fanout.members} members over 3 nodes, ${c.fanout.sendersPerNode} senders per node, ${c.fanout.stepMs / 1000} s per rate`,
  );
  lines.push('');
  const merged = mergedFanout(result);
  if (c.fanout.repeat > 1) {
    lines.push(
      `Each rate ran ${c.fanout.repeat} times per system (interleaved rounds); a row shows the run with the lowest p99 (other tenants of a shared machine only ever add latency), and is complete / in order only if every run was.`,
    );
    lines.push('');
  }
  lines.push(...trafficTable(merged));
  if (merged.some(loadGenSuspect)) {
    lines.push('');
    lines.push('⚠ = the load generator used over 85 % of its core or sent 1 % of its messages over 50 ms late: that step may be limited by it.');
  }
  for (const s of result.skipped.filter((x) => x.workload === 'fanout')) {
    lines.push('');
    lines.push(`${NAMES[s.system] ?? s.system} at ${s.offeredRate} msg/s: not run (${s.reason}).`);
  }
  if (chartFile) {
    lines.push('');
    lines.push(`![end-to-end latency against offered load](${chartFile})`);
  }
  lines.push('');
  lines.push('### Where the time sits (fan-out)');
  lines.push('');
  lines.push('Node 1 holds the room\'s creator (our room\'s admin). Latency as p50 / p99 ms; server CPU in ms over the step, per process.');
  lines.push('');
  lines.push('| system | offered msg/s | e2e by receiver node 1 / 2 / 3 | ack by sender node 1 / 2 / 3 | server CPU ms by process | syscalls per delivery |');
  lines.push('|---|---:|---|---|---|---:|');
  const pair = (x: { p50Ms: number; p99Ms: number }): string => `${n(x.p50Ms)} / ${n(x.p99Ms)}`;
  for (const r of merged) {
    const f = r.figures;
    lines.push(
      `| ${NAMES[r.system] ?? r.system} | ${r.offeredRate} | ${f.e2eByReceiverNode.map(pair).join(' · ')} | ${f.ackBySenderNode.map(pair).join(' · ')} | ${Object.entries(r.serverCpuMsByProcess).map(([k, v]) => `${k} ${v}`).join(', ')} | ${n(r.syscallsPerDelivery, 2)} |`,
    );
  }
  lines.push('');
  lines.push('### Ratios');
  lines.push('');
  lines.push('| offered msg/s | swarm-chat p99 ms | Socket.IO p99 ms | raw ws p99 ms | ours / Socket.IO | ours / ws | target met | no-disk p99 ms | no-disk / Socket.IO |');
  lines.push('|---:|---:|---:|---:|---:|---:|---|---:|---:|');
  for (const r of compareRates(result)) {
    lines.push(
      `| ${r.rate} | ${n(r.oursP99Ms)} | ${n(r.socketioP99Ms)} | ${n(r.wsP99Ms)} | ${n(r.p99RatioVsSocketio, 2)} | ${n(r.p99RatioVsWs, 2)} | ${yesNo(r.meetsTarget)} | ${n(r.oursMemP99Ms)} | ${n(r.oursMemRatioVsSocketio, 2)} |`,
    );
  }
  lines.push('');
  const sus = (name: string): string => (v.sustained[name] === undefined ? 'not run' : v.sustained[name] === null ? 'none' : `${v.sustained[name]} msg/s`);
  lines.push(
    `Highest offered rate with complete, in-order delivery and p99 < ${SUSTAINED_P99_MS} ms: swarm-chat ${sus('ours')}, ` +
      `swarm-chat without DATA_DIR ${sus('ours-mem')}, Socket.IO+Redis ${sus('socketio')}, raw ws ${sus('ws')}` +
      ` (ours / Socket.IO = ${n(v.sustainedRatioVsSocketio, 2)}, ours / raw ws = ${n(v.sustainedRatioVsWs, 2)}).`,
  );
  lines.push('');
  if (v.everyRateMeetsTarget !== null) {
    lines.push(
      v.shortfalls.length === 0
        ? 'Target met: at every offered rate our cluster delivered everything in order with a p99 no worse than Socket.IO\'s, and its highest sustained rate is at least theirs.'
        : `Target **not** met: ${v.shortfalls.join('; ')}.`,
    );
    lines.push('');
  }
  lines.push(
    `## Many rooms: ${c.manyRooms.rooms} rooms x ${c.manyRooms.membersPerRoom} members, administrators and members spread over 3 nodes, every member sending ${c.manyRooms.perMemberRate} msg/s for ${c.manyRooms.durationMs / 1000} s`,
  );
  lines.push('');
  lines.push(...trafficTable(result.manyRooms));
  lines.push('');
  lines.push('## Connections: idle clients on one node');
  lines.push('');
  lines.push('| system | held (and still answering) | RSS per connection | fresh client round trip at max | node RSS at max | stopped because |');
  lines.push('|---|---:|---:|---:|---:|---|');
  for (const r of result.connections) {
    const last = r.levels[r.levels.length - 1];
    lines.push(
      `| ${NAMES[r.system] ?? r.system} | ${r.maxHeld} | ${last ? `${n(last.bytesPerConnection / 1024)} KiB` : '–'} | ${last ? `${n(last.probeMs)} ms` : '–'} | ${last ? `${n(last.rssBytes / 2 ** 20)} MiB` : '–'} | ${r.stoppedBecause} |`,
    );
  }
  if (result.errors.length) {
    lines.push('');
    lines.push('## Errors');
    lines.push('');
    for (const e of result.errors) lines.push(`- ${NAMES[e.system] ?? e.system} ${e.workload}: ${e.error.split('\n')[0]}`);
  }
  lines.push('');
  return lines.join('\n');
}
