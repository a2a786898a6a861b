import { summarizeProfile } from '../../node-app/bench/profile-summary';

test('profile time inside Node internals is charged to the innermost npm package or module of ours on its stack', () => {
  const frame = (functionName: string, url: string) => ({ functionName, url });
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 5, 6] },
      { id: 2, callFrame: frame('deliver', 'file:///app/dist/node-app/src/node/chat-node.js'), children: [3] },
      { id: 3, callFrame: frame('send', 'file:///app/node_modules/ws/lib/sender.js'), children: [4] },
      { id: 4, callFrame: frame('writev', ''), children: [] },
      { id: 5, callFrame: frame('(idle)', ''), children: [] },
      { id: 6, callFrame: frame('(garbage collector)', ''), children: [] },
    ],
    samples: [4, 4, 3, 5, 6],
    timeDeltas: [1000, 1000, 1000, 5000, 2000],
  };
  const s = summarizeProfile(profile);
  expect(s.idleMs).toBe(5);
  expect(s.busyMs).toBe(5);
  expect(s.modules[0]).toEqual({ key: 'npm:ws', ms: 3, share: 60 });
  expect(s.modules[1]).toEqual({ key: '(node) (garbage collector)', ms: 2, share: 40 });
});

describe('profile summary by kind of work', () => {
  const frame = (functionName: string, url: string, lineNumber = -1) => ({ functionName, url, lineNumber });
  const own = (file: string) => `file:///app/dist/node-app/src/${file}.js`;
  // root -> timer -> heartbeat -> peer-link post -> digest (HMAC)
  //                            -> encode (XML)
  // root -> chat-node deliver -> ws sender -> stream_base_commons -> writev (native)
  // root -> timer -> (anonymous) in node internals only
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 7, 11] },
      { id: 2, callFrame: frame('listOnTimeout', 'node:internal/timers'), children: [3] },
      { id: 3, callFrame: frame('sendHeartbeats', own('replication/replicator'), 41), children: [4, 6] },
      { id: 4, callFrame: frame('post', own('peers/peer-link')), children: [5] },
      { id: 5, callFrame: frame('digest', 'node:internal/crypto/hash'), children: [] },
      { id: 6, callFrame: frame('encodeValue', own('peers/xmlrpc-codec'), 9), children: [] },
      { id: 7, callFrame: frame('deliver', own('node/chat-node')), children: [8] },
      { id: 8, callFrame: frame('sendFrame', 'file:///app/node_modules/ws/lib/sender.js', 99), children: [9] },
      { id: 9, callFrame: frame('writeGeneric', 'node:internal/stream_base_commons'), children: [10] },
      { id: 10, callFrame: frame('writev', ''), children: [] },
      { id: 11, callFrame: frame('processTimers', 'node:internal/timers'), children: [] },
    ],
    samples: [5, 6, 10, 10, 11],
    timeDeltas: [1000, 1000, 1000, 1000, 1000],
  };
  const s = summarizeProfile(profile);
  const share = (list: { key: string; share: number }[], key: string) => list.find((x) => x.key === key)?.share;

  test('each sample goes to the innermost kind of work: HMAC, XML, and a socket write under ws send is socket I/O', () => {
    expect(share(s.categories, 'HMAC / crypto (peer auth)')).toBe(20);
    expect(share(s.categories, 'XML-RPC encode/decode')).toBe(20);
    expect(share(s.categories, 'socket I/O (writev/read, any caller)')).toBe(40);
    expect(share(s.inclusive, 'ws send (client frames)')).toBe(40);
  });

  test('generic Node internals (timers) are a category only when nothing more specific is on the stack', () => {
    expect(share(s.categories, 'timers (Node internals)')).toBe(20);
  });

  test('inclusive shares count everything under a heartbeat, overlapping the exclusive ones', () => {
    expect(share(s.inclusive, 'heartbeats / failure detector')).toBe(40);
    expect(share(s.inclusive, 'timers (Node internals)')).toBe(60);
  });

  test('self time names the leaf with file and line, and a native leaf with the JavaScript that called it', () => {
    expect(s.selfTime[0]).toEqual({ key: 'writev ← writeGeneric node:internal/stream_base_commons', ms: 2, share: 40 });
    expect(share(s.selfTime, 'encodeValue src/peers/xmlrpc-codec.js:10')).toBe(20);
  });

  test('a window (--skip-ms, --until-ms) keeps only the samples inside it', () => {
    // Samples end at 1, 2, 3, 4, 5 ms: [3 ms, 5 ms) keeps the third and fourth (both writev).
    const w = summarizeProfile(profile, 3, 5);
    expect(w.busyMs).toBe(2);
    expect(share(w.categories, 'socket I/O (writev/read, any caller)')).toBe(100);
  });
});
