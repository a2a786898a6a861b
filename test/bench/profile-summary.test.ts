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
