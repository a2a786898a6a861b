/**
 * The interactive terminal client in real pseudo-terminals (tmux), against a real three-node
 * cluster on loopback: connect, create, join, chat between two clients on two different nodes,
 * leave; then the node under one client goes away and the client moves to another node and
 * rejoins, showing the user what happened.
 */
import type { LocalCluster } from '../../node-app/src/cluster/local-cluster';
import { launchChromium, renderTerminal } from '../support/browser';
import { CLIENT_BIN, nodeAddress, startCluster } from '../support/cluster';
import { saveScreenshot } from '../support/screenshots';
import { Tmux } from '../support/tmux';

jest.setTimeout(90_000);

let cluster: LocalCluster;
const node = (i: number): string => nodeAddress(cluster, i);
const tmux = new Tmux();

beforeAll(async () => {
  ({ cluster } = await startCluster());
});

afterAll(async () => {
  tmux.killServer();
  await cluster?.stop();
});

function client(name: string, user: string, nodes: string[]): void {
  tmux.start(name, ['node', CLIENT_BIN, '--user', user, ...nodes], { columns: 110, rows: 30 });
}

it('two clients on two nodes connect, create, join, chat and leave', async () => {
  client('alice', 'alice', [node(1)]);
  await tmux.waitForText('alice', 'Connect to a chat node');
  await tmux.keys('alice', 'Enter');
  await tmux.waitForText('alice', /Rooms on all nodes \(0\)/);
  expect(tmux.screen('alice')).toContain(`alice @ ws://${node(1)}/`);

  await tmux.keys('alice', 'c');
  await tmux.waitForText('alice', 'Create a room');
  await tmux.type('alice', 'tmux-room');
  await tmux.keys('alice', 'Tab');
  await tmux.type('alice', 'chat in a terminal');
  await tmux.keys('alice', 'Enter');
  // The creator is joined at once (the original left that to a second step).
  let a = await tmux.waitForText('alice', 'Room: tmux-room | chat in a terminal | Members: 1 | Host: node1');
  expect(a).toMatch(/● alice/);
  expect(a).toContain('Ctrl-X delete room');

  client('bob', 'bob', [node(2)]);
  await tmux.waitForText('bob', 'Connect to a chat node');
  await tmux.keys('bob', 'Enter');
  await tmux.waitForText('bob', /tmux-room\s+chat in a terminal\s+1\s+node1/);
  await tmux.keys('bob', 'Enter');
  let b = await tmux.waitForText('bob', 'Room: tmux-room | chat in a terminal | Members: 2 | Host: node1');
  expect(b).toMatch(/○ alice/);
  expect(b).toMatch(/● bob/);
  expect(b).not.toContain('Ctrl-X delete room'); // only the creator may delete
  a = await tmux.waitForText('alice', '* bob joined');
  expect(a).toContain('Members: 2');

  await tmux.type('bob', 'hi alice, this is bob on node2');
  await tmux.keys('bob', 'Enter');
  await tmux.waitForText('alice', /\d\d:\d\d:\d\d bob: hi alice, this is bob on node2/);
  await tmux.waitForText('bob', /\d\d:\d\d:\d\d You: hi alice, this is bob on node2/);

  // Markup and escape sequences arrive as text, not as formatting.
  await tmux.type('alice', 'hello bob <b>not bold</b> & more');
  await tmux.keys('alice', 'Enter');
  await tmux.waitForText('bob', 'alice: hello bob <b>not bold</b> & more');
  a = await tmux.waitForText('alice', 'You: hello bob <b>not bold</b> & more');

  const browser = await launchChromium();
  try {
    saveScreenshot('terminal-chat.png', await renderTerminal(browser, tmux.screen('alice', true), 'chat-client'));
    await tmux.keys('bob', 'Escape');
    await tmux.waitForText('bob', /Rooms on all nodes/);
    saveScreenshot('terminal-rooms.png', await renderTerminal(browser, tmux.screen('bob', true), 'chat-client'));
  } finally {
    await browser.close();
  }

  a = await tmux.waitForText('alice', '* bob left');
  expect(a).toContain('Members: 1');
  expect(a).not.toMatch(/○ bob/);

  await tmux.keys('bob', 'q');
  await tmux.waitForText('bob', 'swarm-chat: disconnected.');
  expect(tmux.command('bob')).toBe('sleep');
});

it('moves to another known node when its node goes away, rejoins and keeps chatting', async () => {
  client('carol', 'carol', [node(2), node(3)]);
  await tmux.waitForText('carol', 'Connect to a chat node');
  await tmux.keys('carol', 'Enter');
  await tmux.waitForText('carol', /tmux-room\s+chat in a terminal/);
  await tmux.keys('carol', 'Enter');
  await tmux.waitForText('carol', 'Room: tmux-room');
  await tmux.waitForText('alice', '* carol joined');

  await cluster.stopNode('node2');
  const c = await tmux.waitForText('carol', `Reconnected via ws://${node(3)}/ and rejoined tmux-room`, 30_000);
  expect(c).toContain(`Lost ws://${node(2)}/`);
  expect(c).toContain(`carol @ ws://${node(3)}/`);

  await tmux.type('carol', 'carol, now through node3');
  await tmux.keys('carol', 'Enter');
  await tmux.waitForText('alice', 'carol: carol, now through node3');
  const screen = await tmux.waitForText('carol', 'You: carol, now through node3');
  // History replayed on the rejoin is not shown twice.
  expect(screen.match(/hi alice, this is bob on node2/g)?.length ?? 0).toBeLessThanOrEqual(1);
  await cluster.startNode('node2');
});

it('the creator deletes the room after a confirmation and the member on another node sees it go', async () => {
  await tmux.keys('alice', 'C-x');
  await tmux.waitForText('alice', "Delete 'tmux-room' for everyone?");
  await tmux.keys('alice', 'n');
  await tmux.waitForText('alice', 'Room: tmux-room');
  // Shortcut keys in the middle of typing (scrolling) must not leave their escape sequences in the draft.
  await tmux.type('alice', 'still');
  await tmux.keys('alice', 'PPage', 'NPage');
  await tmux.type('alice', ' here');
  await tmux.keys('alice', 'Enter');
  await tmux.waitForText('carol', 'alice: still here');

  await tmux.keys('alice', 'C-x');
  await tmux.waitForText('alice', "Delete 'tmux-room' for everyone?");
  await tmux.keys('alice', 'y');
  await tmux.waitForText('alice', /Rooms on all nodes \(0\)/);
  const c = await tmux.waitForText('carol', "Room 'tmux-room' has been deleted");
  expect(c).toMatch(/Rooms on all nodes/);
});
