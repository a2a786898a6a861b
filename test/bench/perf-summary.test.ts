import { chargeOf, parsePerfScript, summarizePerf } from '../../node-app/bench/perf-summary';

// Three samples as `perf script -F comm,tid,ip,sym` prints them (innermost frame first).
const SCRIPT = `node 101
\t    7f0000000001 pwrite64
\t    7f0000000002 sqlite3_step
\t    7f0000000003 JS:*transaction /app/dist/node-app/src/storage/room-log-store.js:192:16
\t    7f0000000004 JS:*handle /app/dist/node-app/src/peers/peer-server.js:257:26

node 101
\t    7f0000000011 v8::internal::compiler::GraphReducer::ReduceTop
\t    7f0000000012 v8::internal::OptimizingCompileDispatcher::CompileTask::RunInternal

node 102
\t    7f0000000021 __GI___writev
\t    7f0000000022 JS:*writevGeneric node:internal/stream_base_commons:123:29
\t    7f0000000023 JS:~processImmediate node:internal/timers:438:28
`;

describe('perf summary', () => {
  test('a sample is charged to the innermost frame of our code, its native callees included', () => {
    const stacks = parsePerfScript(SCRIPT);
    expect(stacks).toHaveLength(3);
    expect(chargeOf(stacks[0])).toEqual(['storage/room-log-store.js', 'transaction']);
  });

  test('samples without our code go to the compiler, or to the innermost Node module', () => {
    const stacks = parsePerfScript(SCRIPT);
    expect(chargeOf(stacks[1])).toEqual(['(v8 compiler)', '']);
    expect(chargeOf(stacks[2])).toEqual(['node:internal/stream_base_commons', '']);
    expect(chargeOf(['malloc', '__libc_start_main'])).toEqual(['(native)', 'malloc']);
  });

  test('shares are of all samples, largest first', () => {
    const s = summarizePerf(parsePerfScript(SCRIPT + SCRIPT.split('\n\n')[0] + '\n'));
    expect(s.samples).toBe(4);
    expect(s.byFile[0]).toEqual({ key: 'storage/room-log-store.js', samples: 2, share: 50 });
    expect(s.byFunction[0].key).toBe('storage/room-log-store.js transaction');
  });
});
