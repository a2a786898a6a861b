/**
 * Message ids: UUIDs in the version 7 layout (RFC 9562 §5.7): a 48-bit Unix millisecond timestamp,
 * then random bits. Clients and the original's nodes treat a message id as an opaque UUID string,
 * so the layout is ours to choose; we choose it for the store. Every node indexes its log by
 * message id (de-duplication of resubmitted messages), and a random (version 4) id put each new
 * message into a random page of that index: one more page written to the WAL per message, which
 * measured a third of the store's CPU per message (test/node-app/storage/message-path.bench.ts).
 * Ids minted in the same millisecond differ in their 74 random bits; ids are increasing across
 * milliseconds as far as the clock is, so new ones land at the index's right edge.
 */
import { pooledRandom } from './random-pool';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function newMessageId(now: number = Date.now()): string {
  const pool = pooledRandom(10);
  const b = new Array<string>(16);
  // 48-bit big-endian milliseconds (Math.floor division: bit operators would cut to 32 bits).
  let t = Math.max(0, Math.floor(now));
  for (let i = 5; i >= 0; i--) {
    b[i] = HEX[t % 256];
    t = Math.floor(t / 256);
  }
  b[6] = HEX[0x70 | (pool[0] & 0x0f)]; // version 7
  b[7] = HEX[pool[1]];
  b[8] = HEX[0x80 | (pool[2] & 0x3f)]; // variant 10xx
  for (let i = 9; i < 16; i++) b[i] = HEX[pool[i - 6]];
  return `${b[0]}${b[1]}${b[2]}${b[3]}-${b[4]}${b[5]}-${b[6]}${b[7]}-${b[8]}${b[9]}-${b[10]}${b[11]}${b[12]}${b[13]}${b[14]}${b[15]}`;
}
