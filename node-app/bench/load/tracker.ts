/**
 * Checks every delivery of a run and keeps the figures: per receiver and sender the last sequence
 * seen (completeness and per-sender order), per receiver the last room-wide sequence (total order,
 * where the system has one), and latency histograms. Flat typed arrays: no allocation per delivery.
 */
import { createHistogram, RecordableHistogram } from 'node:perf_hooks';
import { nowMicros } from './payload';

export interface TrackerLayout {
  /** Room index of each receiver (client) and of each sender. */
  receiverRoom: Int32Array;
  senderRoom: Int32Array;
  /** The most messages one sender may send in the run (sizes the send-time table). */
  maxPerSender: number;
  roomTotalOrder: boolean;
  /** Node index of each receiver and sender, for latency split by node (e.g. a room's admin vs the others). */
  receiverNode?: Int32Array;
  senderNode?: Int32Array;
}

export interface DeliveryFigures {
  sent: number;
  acked: number;
  sendErrors: number;
  expectedDeliveries: number;
  deliveries: number;
  /** Receiver/sender pairs (of senders with no failed send) whose last sequence is not the sender's last. */
  incompletePairs: number;
  missingDeliveries: number;
  /** Deliveries that came after a later message of the same sender (reordered or duplicated). */
  senderOrderViolations: number;
  /** Deliveries whose room-wide sequence did not increase (systems with a room sequence only). */
  roomOrderViolations: number;
  /** Room-wide sequence numbers a receiver skipped: messages the room sequenced that it never got. */
  roomGaps: number;
  /** Deliveries from a sender whose room the receiver is not in. */
  misrouted: number;
  /** Acks or refusals for a sender with nothing in flight (a second answer to one send). */
  unmatchedReplies: number;
  complete: boolean;
  inOrder: boolean;
  e2e: LatencyFigures;
  ack: LatencyFigures;
  /** End-to-end latency by the receiver's node, and ack latency by the sender's node (index = node). */
  e2eByReceiverNode: LatencyFigures[];
  ackBySenderNode: LatencyFigures[];
}

export interface LatencyFigures {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export function latencyFigures(h: RecordableHistogram): LatencyFigures {
  const ms = (us: number): number => Math.round(us) / 1000;
  if (h.count === 0) return { count: 0, p50Ms: NaN, p90Ms: NaN, p99Ms: NaN, maxMs: NaN, meanMs: NaN };
  return {
    count: h.count,
    p50Ms: ms(h.percentile(50)),
    p90Ms: ms(h.percentile(90)),
    p99Ms: ms(h.percentile(99)),
    maxMs: ms(h.max),
    meanMs: ms(h.mean),
  };
}

export class Tracker {
  readonly receivers: number;
  readonly senders: number;
  private readonly layout: TrackerLayout;
  private readonly stride: number;
  private readonly sendTimes: Float64Array;
  readonly sent: Int32Array;
  private readonly acked: Int32Array;
  private readonly lastSeq: Int32Array;
  private readonly lastRoomSeq: Float64Array;
  readonly received: Float64Array;
  private readonly e2e = createHistogram();
  private readonly ackLat = createHistogram();
  deliveries = 0;
  sendErrors = 0;
  senderOrderViolations = 0;
  roomOrderViolations = 0;
  roomGaps = 0;
  misrouted = 0;
  unmatchedReplies = 0;
  private readonly failed: Int32Array;
  lastDeliveryMicros = 0;
  lastAckMicros = 0;
  /** Deliveries and acks still expected; the run is drained when both reach zero. */
  outstandingDeliveries = 0;
  outstandingAcks = 0;
  /** Called after each ack or refusal of a sender's message (the closed loop sends its next one). */
  ackListener: ((sender: number) => void) | null = null;
  private readonly roomMembers: Int32Array;
  private readonly e2eByNode: RecordableHistogram[] = [];
  private readonly ackByNode: RecordableHistogram[] = [];
  private readonly receiverNode: Int32Array;
  private readonly senderNode: Int32Array;

  constructor(layout: TrackerLayout) {
    this.layout = layout;
    this.receivers = layout.receiverRoom.length;
    this.senders = layout.senderRoom.length;
    this.stride = layout.maxPerSender + 1;
    this.sendTimes = new Float64Array(this.senders * this.stride);
    this.sent = new Int32Array(this.senders);
    this.acked = new Int32Array(this.senders);
    this.failed = new Int32Array(this.senders);
    this.lastSeq = new Int32Array(this.receivers * this.senders);
    this.lastRoomSeq = new Float64Array(this.receivers).fill(-1);
    this.received = new Float64Array(this.receivers);
    let rooms = 0;
    for (const r of layout.receiverRoom) rooms = Math.max(rooms, r + 1);
    this.roomMembers = new Int32Array(rooms);
    for (const r of layout.receiverRoom) this.roomMembers[r]++;
    this.receiverNode = layout.receiverNode ?? new Int32Array(this.receivers);
    this.senderNode = layout.senderNode ?? new Int32Array(this.senders);
    let nodes = 0;
    for (const n of this.receiverNode) nodes = Math.max(nodes, n + 1);
    for (const n of this.senderNode) nodes = Math.max(nodes, n + 1);
    for (let i = 0; i < nodes; i++) {
      this.e2eByNode.push(createHistogram());
      this.ackByNode.push(createHistogram());
    }
  }

  /** Registers a send; returns its per-sender sequence (1-based), or 0 if the table is full. */
  onSend(sender: number, micros: number): number {
    const seq = this.sent[sender] + 1;
    if (seq > this.layout.maxPerSender) return 0;
    this.sent[sender] = seq;
    this.sendTimes[sender * this.stride + seq] = micros;
    this.outstandingAcks++;
    this.outstandingDeliveries += this.roomMembers[this.layout.senderRoom[sender]];
    return seq;
  }

  /** Acks arrive in send order on a connection (our protocol has no request id; §2.6). */
  onAck(sender: number): void {
    if (this.acked[sender] >= this.sent[sender]) {
      this.unmatchedReplies++;
      return;
    }
    const seq = ++this.acked[sender];
    const now = nowMicros();
    const v = Math.max(1, now - this.sendTimes[sender * this.stride + seq]);
    this.ackLat.record(v);
    this.ackByNode[this.senderNode[sender]].record(v);
    this.outstandingAcks--;
    this.lastAckMicros = now;
    this.ackListener?.(sender);
  }

  /**
   * A send was refused (message_error, or an overload error). Which of the sender's messages it was
   * is not always knowable (an overload reply may overtake queued acks), so it is counted per sender.
   */
  onSendError(sender: number): void {
    if (this.acked[sender] >= this.sent[sender]) {
      this.unmatchedReplies++;
      return;
    }
    this.sendErrors++;
    this.failed[sender]++;
    this.acked[sender]++;
    this.outstandingAcks--;
    // A failed send will never be delivered.
    this.outstandingDeliveries -= this.roomMembers[this.layout.senderRoom[sender]];
    this.ackListener?.(sender);
  }

  onDelivery(receiver: number, sender: number, seq: number, sendMicros: number, roomSeq: number): void {
    const now = nowMicros();
    this.deliveries++;
    this.outstandingDeliveries--;
    this.lastDeliveryMicros = now;
    this.received[receiver]++;
    if (sender >= this.senders || this.layout.senderRoom[sender] !== this.layout.receiverRoom[receiver]) {
      this.misrouted++;
      return;
    }
    const lat = Math.max(1, now - sendMicros);
    this.e2e.record(lat);
    this.e2eByNode[this.receiverNode[receiver]].record(lat);
    const k = receiver * this.senders + sender;
    // Going back is disorder; skipping ahead is loss (or a refused send), counted by completeness.
    if (seq <= this.lastSeq[k]) this.senderOrderViolations++;
    else this.lastSeq[k] = seq;
    if (this.layout.roomTotalOrder) {
      const last = this.lastRoomSeq[receiver];
      if (last >= 0 && roomSeq <= last) this.roomOrderViolations++;
      else {
        if (last >= 0 && roomSeq > last + 1) this.roomGaps += roomSeq - last - 1;
        this.lastRoomSeq[receiver] = roomSeq;
      }
    }
  }

  drained(): boolean {
    return this.outstandingDeliveries <= 0 && this.outstandingAcks <= 0;
  }

  figures(): DeliveryFigures {
    let sent = 0;
    let acked = 0;
    for (let s = 0; s < this.senders; s++) {
      sent += this.sent[s];
      acked += this.acked[s];
    }
    acked -= this.sendErrors;
    let expected = 0;
    let incompletePairs = 0;
    for (let r = 0; r < this.receivers; r++) {
      const room = this.layout.receiverRoom[r];
      for (let s = 0; s < this.senders; s++) {
        if (this.layout.senderRoom[s] !== room) continue;
        // Refused sends are expected nowhere.
        expected += this.sent[s] - this.failed[s];
        if (this.failed[s] === 0 && this.lastSeq[r * this.senders + s] !== this.sent[s]) incompletePairs++;
      }
    }
    const unique = this.deliveries - this.senderOrderViolations - this.misrouted;
    const missing = Math.max(0, expected - unique);
    const complete =
      missing === 0 &&
      incompletePairs === 0 &&
      this.roomGaps === 0 &&
      this.sendErrors === 0 &&
      this.misrouted === 0 &&
      this.unmatchedReplies === 0 &&
      this.deliveries === expected;
    return {
      sent,
      acked,
      sendErrors: this.sendErrors,
      expectedDeliveries: expected,
      deliveries: this.deliveries,
      incompletePairs,
      missingDeliveries: missing,
      senderOrderViolations: this.senderOrderViolations,
      roomOrderViolations: this.roomOrderViolations,
      roomGaps: this.roomGaps,
      misrouted: this.misrouted,
      unmatchedReplies: this.unmatchedReplies,
      complete,
      inOrder: this.senderOrderViolations === 0 && this.roomOrderViolations === 0,
      e2e: latencyFigures(this.e2e),
      ack: latencyFigures(this.ackLat),
      e2eByReceiverNode: this.e2eByNode.map(latencyFigures),
      ackBySenderNode: this.ackByNode.map(latencyFigures),
    };
  }
}
