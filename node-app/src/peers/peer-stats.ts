/** Per-peer counters and a latency histogram, rendered as Prometheus text for the node's /metrics. */

/** Upper bounds in seconds: loopback calls land in the first buckets, a stopped peer in the last. */
export const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class LatencyHistogram {
  readonly counts = new Array<number>(LATENCY_BUCKETS_S.length).fill(0);
  count = 0;
  sumSeconds = 0;

  observe(seconds: number): void {
    this.count++;
    this.sumSeconds += seconds;
    for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) {
      if (seconds <= LATENCY_BUCKETS_S[i]) {
        this.counts[i]++;
        return;
      }
    }
  }
}

export interface PeerLinkStats {
  /** HTTP calls made (call() and the stream's batches/probes) */
  calls: number;
  /** calls that failed in transport (refused, reset, timed out, bad HTTP status, unsigned reply) */
  errors: number;
  timeouts: number;
  /** calls answered with an XML-RPC fault (the peer is alive) */
  faults: number;
  /** items posted to the ordered stream */
  posted: number;
  /** items the peer confirmed */
  delivered: number;
  /** items given up on (peer down, queue overflow, link closed) */
  dropped: number;
  /** batch calls sent (one per HTTP call of the batching extension) */
  batches: number;
  /** items waiting in the stream */
  queued: number;
  latency: LatencyHistogram;
}

export function newPeerLinkStats(): PeerLinkStats {
  return {
    calls: 0,
    errors: 0,
    timeouts: 0,
    faults: 0,
    posted: 0,
    delivered: 0,
    dropped: 0,
    batches: 0,
    queued: 0,
    latency: new LatencyHistogram(),
  };
}

interface StatsSource {
  readonly peerId: string;
  readonly state: string;
  readonly stats: PeerLinkStats;
}

/** Prometheus exposition text for a set of links (one label `peer` each). */
export function renderPeerMetrics(links: Iterable<StatsSource>, prefix = 'swarmchat_peer'): string {
  const list = [...links];
  const lines: string[] = [];
  const lbl = (p: string) => `peer="${p.replace(/["\\\n]/g, '_')}"`;
  const counter = (name: string, help: string, get: (s: PeerLinkStats) => number, type = 'counter') => {
    lines.push(`# HELP ${prefix}_${name} ${help}`, `# TYPE ${prefix}_${name} ${type}`);
    for (const l of list) lines.push(`${prefix}_${name}{${lbl(l.peerId)}} ${get(l.stats)}`);
  };
  counter('calls_total', 'XML-RPC calls made to the peer.', (s) => s.calls);
  counter('call_errors_total', 'Peer calls that failed in transport.', (s) => s.errors);
  counter('call_timeouts_total', 'Peer calls that timed out.', (s) => s.timeouts);
  counter('call_faults_total', 'Peer calls answered with a fault.', (s) => s.faults);
  counter('stream_posted_total', 'Items posted to the ordered stream.', (s) => s.posted);
  counter('stream_delivered_total', 'Stream items confirmed by the peer.', (s) => s.delivered);
  counter('stream_dropped_total', 'Stream items given up on.', (s) => s.dropped);
  counter('stream_batches_total', 'Batch calls sent.', (s) => s.batches);
  counter('stream_queued', 'Stream items waiting.', (s) => s.queued, 'gauge');
  lines.push(`# HELP ${prefix}_up Whether the peer answered its last call (1), failed (0) or is unknown (-1).`);
  lines.push(`# TYPE ${prefix}_up gauge`);
  for (const l of list) lines.push(`${prefix}_up{${lbl(l.peerId)}} ${l.state === 'up' ? 1 : l.state === 'down' ? 0 : -1}`);
  const h = `${prefix}_call_duration_seconds`;
  lines.push(`# HELP ${h} Peer call latency.`, `# TYPE ${h} histogram`);
  for (const l of list) {
    const hist = l.stats.latency;
    let cum = 0;
    LATENCY_BUCKETS_S.forEach((b, i) => {
      cum += hist.counts[i];
      lines.push(`${h}_bucket{${lbl(l.peerId)},le="${b}"} ${cum}`);
    });
    lines.push(`${h}_bucket{${lbl(l.peerId)},le="+Inf"} ${hist.count}`);
    lines.push(`${h}_sum{${lbl(l.peerId)}} ${hist.sumSeconds}`, `${h}_count{${lbl(l.peerId)}} ${hist.count}`);
  }
  return lines.join('\n') + '\n';
}
