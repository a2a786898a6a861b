import { newMessageId } from '../../../node-app/src/util/message-id';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('message ids', () => {
  it('are UUIDs of version 7 with the RFC variant (opaque UUID strings to clients and original nodes)', () => {
    for (let i = 0; i < 1000; i++) expect(newMessageId()).toMatch(UUID_V7);
  });

  it('carry the creation millisecond in their first 48 bits', () => {
    const at = Date.UTC(2026, 11, 6, 3, 30, 0, 123);
    const id = newMessageId(at);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
  });

  it('sort in creation order across milliseconds, so the log index takes them at its right edge', () => {
    const ids = Array.from({ length: 500 }, (_, i) => newMessageId(1_780_000_000_000 + i * 7));
    expect([...ids].sort()).toEqual(ids);
  });

  it('differ within one millisecond (random bits, drawn from a pool refilled across its end)', () => {
    const ids = new Set(Array.from({ length: 5000 }, () => newMessageId(1_780_000_000_000)));
    expect(ids.size).toBe(5000);
  });
});
