import { PassThrough } from 'node:stream';
import { createLogger } from '../../node-app/src/log';

function capture() {
  const stream = new PassThrough();
  const lines: any[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
  });
  return { stream, lines };
}

describe('JSON logger', () => {
  it('writes one JSON object per event with base and child fields', () => {
    const { stream, lines } = capture();
    const log = createLogger({ level: 'debug', base: { node_id: 'node1' }, stream });
    log.child({ room_id: 'r1' }).info('room created', { creator_id: 'alice' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'room created', node_id: 'node1', room_id: 'r1', creator_id: 'alice' });
    expect(typeof lines[0].time).toBe('string');
  });

  it('drops events below the level and serializes errors with their message', () => {
    const { stream, lines } = capture();
    const log = createLogger({ level: 'warn', stream });
    log.info('hidden');
    log.error('failed', { err: new Error('boom') });
    expect(lines).toHaveLength(1);
    expect(lines[0].err.message).toBe('boom');
  });

  it('survives fields that JSON cannot encode', () => {
    const { stream, lines } = capture();
    const circular: any = {};
    circular.self = circular;
    createLogger({ stream }).warn('odd', { circular });
    expect(lines[0]).toMatchObject({ msg: 'odd', note: 'fields not serializable' });
  });
});
