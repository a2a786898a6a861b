/**
 * The benchmark's message content: `bm|<sender>|<senderSeq>|<sendTimeMicros>|xxxx...`, padded to a
 * fixed length so every system carries the same bytes. Receipts are decoded straight from the
 * frame's bytes (no JSON.parse, no strings) so that the load generator's cost per delivery stays
 * far below the servers'.
 */

export const CONTENT_LENGTH = 96;
const MARK = Buffer.from('"bm|');
const SEQ_KEY = Buffer.from('"sequence_number"');
const PAD = 'x'.repeat(CONTENT_LENGTH);

/** Microseconds since this process started, from the monotonic clock. */
export function nowMicros(): number {
  return Math.round(performance.now() * 1000);
}

export function encodeContent(sender: number, seq: number, sendMicros: number): string {
  const head = `bm|${sender}|${seq}|${sendMicros}|`;
  return head + PAD.slice(head.length);
}

/** A decoded receipt; one instance is reused by each decoder, never kept. */
export interface Receipt {
  sender: number;
  seq: number;
  sendMicros: number;
  /** The room-wide sequence_number, or -1 when the frame has none. */
  roomSeq: number;
}

const CH_0 = 48;
const CH_9 = 57;
const CH_PIPE = 124;
const CH_SPACE = 32;
const CH_COLON = 58;

/** Parses digits starting at i; returns the value and leaves the index after them in state. */
function readUint(buf: Buffer | string, i: number, out: { v: number; i: number }): boolean {
  let v = 0;
  let n = 0;
  const isStr = typeof buf === 'string';
  for (; i < buf.length; i++) {
    const c = isStr ? (buf as string).charCodeAt(i) : (buf as Buffer)[i];
    if (c < CH_0 || c > CH_9) break;
    v = v * 10 + (c - CH_0);
    n++;
  }
  out.v = v;
  out.i = i;
  return n > 0;
}

const cursor = { v: 0, i: 0 };

/** Reads `<sender>|<seq>|<micros>|` at i; false if malformed. */
function readTriple(buf: Buffer | string, i: number, r: Receipt): boolean {
  const isStr = typeof buf === 'string';
  const at = (k: number): number => (isStr ? (buf as string).charCodeAt(k) : (buf as Buffer)[k]);
  if (!readUint(buf, i, cursor) || at(cursor.i) !== CH_PIPE) return false;
  r.sender = cursor.v;
  if (!readUint(buf, cursor.i + 1, cursor) || at(cursor.i) !== CH_PIPE) return false;
  r.seq = cursor.v;
  if (!readUint(buf, cursor.i + 1, cursor) || at(cursor.i) !== CH_PIPE) return false;
  r.sendMicros = cursor.v;
  return true;
}

/**
 * Decodes a new_message frame of our protocol from its raw bytes. Returns false when the frame
 * carries no benchmark content (a control frame: parse it as JSON instead), throws on a frame
 * that has the mark but is malformed (a garbled delivery must never pass silently).
 */
export function decodeFrame(frame: Buffer, r: Receipt, wantRoomSeq: boolean): boolean {
  const m = frame.indexOf(MARK);
  if (m < 0) return false;
  if (!readTriple(frame, m + MARK.length, r)) throw new Error(`garbled benchmark frame: ${frame.toString('utf8', 0, 300)}`);
  r.roomSeq = -1;
  if (wantRoomSeq) {
    const k = frame.indexOf(SEQ_KEY);
    if (k < 0) throw new Error(`new_message without sequence_number: ${frame.toString('utf8', 0, 300)}`);
    let i = k + SEQ_KEY.length;
    while (frame[i] === CH_SPACE || frame[i] === CH_COLON) i++;
    if (!readUint(frame, i, cursor)) throw new Error(`bad sequence_number: ${frame.toString('utf8', 0, 300)}`);
    r.roomSeq = cursor.v;
  }
  return true;
}

/** Decodes content already parsed to a string (the Socket.IO client hands us objects). */
export function decodeContent(content: unknown, r: Receipt): boolean {
  if (typeof content !== 'string' || !content.startsWith('bm|')) return false;
  if (!readTriple(content, 3, r)) throw new Error(`garbled benchmark content: ${content.slice(0, 200)}`);
  r.roomSeq = -1;
  return true;
}
