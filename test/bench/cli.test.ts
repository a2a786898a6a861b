import { parseArgs } from '../../node-app/bench/cli';
import { FULL_CONFIG, systemFor } from '../../node-app/bench/run';

describe('bench command line', () => {
  test('--only runs one workload against ours and Socket.IO, the two its target compares', () => {
    const { config } = parseArgs(['--only', 'closed-loop']);
    expect(config.workloads).toEqual(['closed-loop']);
    expect(config.systems).toEqual(['ours', 'socketio']);
  });

  test('--only keeps the systems given with --systems, in either order', () => {
    expect(parseArgs(['--systems', 'ours', '--only', 'idle-rooms']).config.systems).toEqual(['ours']);
    expect(parseArgs(['--only', 'idle-rooms', '--systems', 'ws,ours']).config.systems).toEqual(['ws', 'ours']);
  });

  test('without options every workload runs against every system', () => {
    const { config } = parseArgs([]);
    expect(config.workloads).toEqual(FULL_CONFIG.workloads);
    expect(config.systems).toEqual(FULL_CONFIG.systems);
    expect(config.workloads).toEqual(expect.arrayContaining(['closed-loop', 'idle-rooms', 'cpu-per-delivery']));
  });

  test('the new workloads take their sizes from the command line', () => {
    const { config } = parseArgs(['--cpu-rate', '250', '--closed-loop-senders', '12', '--closed-loop-ms', '3000', '--idle-rooms', '200', '--idle-window-ms', '5000']);
    expect(config.cpuPerDelivery.rate).toBe(250);
    expect(config.closedLoop).toMatchObject({ senders: 12, durationMs: 3000 });
    expect(config.idleRooms).toMatchObject({ rooms: 200, windowMs: 5000 });
  });

  test('an unknown workload, or several after --only, is refused with the list of names', () => {
    expect(() => parseArgs(['--only', 'closedloop'])).toThrow(/unknown workload "closedloop" \(fanout, cpu-per-delivery, closed-loop/);
    expect(() => parseArgs(['--only', 'fanout,idle-rooms'])).toThrow(/--only takes one workload/);
  });

  test('the baseline system runs another checkout\'s build and refuses to start without one', () => {
    const { config } = parseArgs(['--only', 'closed-loop', '--systems', 'ours,ours-base', '--baseline', '/tmp/checkout']);
    expect(config.systems).toEqual(['ours', 'ours-base']);
    expect(config.baselineDir).toBe('/tmp/checkout');
    expect(() => parseArgs(['--systems', 'ours-base'])).toThrow(/--systems ours-base needs --baseline DIR/);
    expect(() => systemFor('ours-base', { ...config, baselineDir: '/nonexistent-checkout' })).toThrow(/chat-node\.js is missing \(run npm run build in that checkout\)/);
  });
});
