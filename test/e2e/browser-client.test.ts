/**
 * The browser client (the bundle every node serves) in headless Chromium against a real
 * three-node cluster on loopback: two pages, each served by (and connected to) a different node,
 * chat with each other, see each other in the member list, and one deletes the room while the
 * other sees it go; a page reconnects after its node restarts; and messages the page receives out
 * of order, or not at all, are still shown in sequence order (the bundled ordering buffer).
 */
import type { Browser, Page } from 'playwright-core';
import { ChatConnection } from '../../node-app/src/clients/core/chat-connection';
import type { LocalCluster } from '../../node-app/src/cluster/local-cluster';
import { launchChromium } from '../support/browser';
import { nodeAddress, startCluster } from '../support/cluster';
import { saveScreenshot } from '../support/screenshots';
import { waitFor } from '../support/wait';

jest.setTimeout(90_000);

let cluster: LocalCluster;
const http = (i: number): string => `http://${nodeAddress(cluster, i)}/`;
let browser: Browser;
const pageErrors: string[] = [];

beforeAll(async () => {
  ({ cluster } = await startCluster());
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

async function openAs(username: string, url: string, viewport = { width: 1000, height: 700 }, before?: (page: Page) => Promise<void>): Promise<Page> {
  const page = await browser.newPage({ viewport });
  page.on('pageerror', (err) => pageErrors.push(`${username}: ${err.message}`));
  page.on('console', (msg) => {
    // Chromium logs each refused reconnect attempt itself; while a node restarts that is expected.
    if (msg.type() === 'error' && !/^WebSocket connection to .* failed/.test(msg.text())) pageErrors.push(`${username}: ${msg.text()}`);
  });
  await before?.(page);
  await page.goto(url);
  // The page's script is running once its socket is open (it connects on load, before any name is
  // given): only then does the name form have its handler (a submit before it would reload the page).
  await shown(page, page.locator('#conn.ok'), 30_000);
  await page.locator('#username').fill(username);
  await page.locator('#name-form button[type=submit]').click();
  await shown(page, page.locator('#view-rooms'), 30_000);
  return page;
}

const members = (page: Page): Promise<string[]> => page.locator('#member-list li').allTextContents();

/** Waits for `what` on `page`; on a timeout the error says what the pages showed instead (chat lines, toast). */
async function shown(page: Page, what: ReturnType<Page['locator']>, timeout: number, ...others: Page[]): Promise<void> {
  try {
    await what.waitFor({ timeout });
  } catch (err) {
    const states = await Promise.all([page, ...others].map(async (p) => {
      const views = [];
      for (const v of ['name', 'rooms', 'chat']) if (await p.locator(`#view-${v}`).isVisible()) views.push(v);
      const lines = await p.locator('#messages li').allTextContents();
      const conn = `${await p.locator('#conn').getAttribute('class')} ${JSON.stringify(await p.locator('#conn-text').textContent())}`;
      return `${await p.locator('#title').textContent()} (view ${views.join(',')}, ${p.url()}, name field ${JSON.stringify(await p.locator('#username').inputValue())}, connection ${conn}): ` +
        `lines ${JSON.stringify(lines)}, toast ${JSON.stringify(await p.locator('#toast').textContent())}; page errors so far ${JSON.stringify(pageErrors)}`;
    }));
    throw new Error(`${(err as Error).message}\n${states.join('\n')}`);
  }
}

it('two pages on two nodes chat, see each other as members, and see a deleted room go', async () => {
  const alice = await openAs('alice', http(1));
  expect(await alice.locator('#conn-text').textContent()).toBe(nodeAddress(cluster, 1));

  await alice.locator('#room-name').fill('browser-room');
  await alice.locator('#room-desc').fill('made in Chromium');
  await alice.locator('#create-form button[type=submit]').click();
  // The creator lands in the room at once, with the delete button (creator only).
  await alice.locator('#view-chat').waitFor({ state: 'visible' });
  expect(await alice.locator('#chat-room').textContent()).toBe('browser-room');
  expect(await alice.locator('#delete').isVisible()).toBe(true);
  expect(await members(alice)).toEqual(['alice (you)']);

  // bob, on a phone-sized screen, is served by node2 and talks to node2.
  const bob = await openAs('bob', http(2), { width: 390, height: 760 });
  const row = bob.locator('#room-list button', { hasText: 'browser-room' });
  await row.waitFor();
  expect(await row.textContent()).toContain('node1');
  saveScreenshot('browser-rooms-phone.png', await bob.screenshot());
  await row.click();
  await bob.locator('#view-chat').waitFor({ state: 'visible' });
  expect(await bob.locator('#delete').isVisible()).toBe(false);

  await alice.locator('#member-list li', { hasText: 'bob' }).waitFor();
  expect(await members(alice)).toEqual(['alice (you)', 'bob']);
  expect(await members(bob)).toEqual(['alice', 'bob (you)']);
  await alice.locator('.sys', { hasText: 'bob joined' }).waitFor();

  await bob.locator('#message').fill('hi alice, bob here on node2');
  await bob.locator('#message').press('Enter');
  await alice.locator('.msg', { hasText: 'hi alice, bob here on node2' }).waitFor();
  expect(await alice.locator('.msg .who').last().textContent()).toBe('bob');
  expect(await bob.locator('.msg.own .who').last().textContent()).toBe('You');

  // User text is shown as text: markup in a message never becomes elements.
  const hostile = '<img src=x onerror="window.__pwned=1"> <b>bold?</b>';
  await alice.locator('#message').fill(hostile);
  await alice.locator('#send-form button[type=submit]').click();
  const shown = bob.locator('.msg .text', { hasText: 'onerror' });
  await shown.waitFor();
  expect(await shown.textContent()).toBe(hostile);
  expect(await bob.locator('.msg img, .msg b').count()).toBe(0);
  expect(await bob.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

  // The phone layout keeps members behind a toggle.
  await bob.locator('#members-toggle').click();
  await bob.locator('#members.open').waitFor();
  saveScreenshot('browser-chat-phone.png', await bob.screenshot());
  await bob.locator('#members-toggle').click();
  saveScreenshot('browser-chat.png', await alice.screenshot());

  await alice.locator('#delete').click();
  await alice.locator('#confirm-delete').waitFor({ state: 'visible' });
  expect(await alice.locator('#confirm-room').textContent()).toBe('browser-room');
  await alice.locator('#confirm-yes').click();

  // bob, a member through another node, is taken back to the room list and told why.
  await bob.locator('#view-rooms').waitFor({ state: 'visible' });
  await bob.locator('#toast', { hasText: 'has been deleted' }).waitFor();
  await alice.locator('#view-rooms').waitFor({ state: 'visible' });
  await bob.locator('#rooms-empty').waitFor({ state: 'visible' });
  expect(await bob.locator('#room-list button', { hasText: 'browser-room' }).count()).toBe(0);
  saveScreenshot('browser-room-deleted-phone.png', await bob.screenshot());

  expect(pageErrors).toEqual([]);
  await alice.close();
  await bob.close();
});

it('reconnects to its node after the node restarts and rejoins the room without repeating messages', async () => {
  const carol = await openAs('carol', http(3));
  await carol.locator('#room-name').fill('restart-room');
  await carol.locator('#create-form button[type=submit]').click();
  await carol.locator('#view-chat').waitFor({ state: 'visible' });

  const dave = await openAs('dave', http(2));
  await dave.locator('#room-list button', { hasText: 'restart-room' }).click();
  await dave.locator('#view-chat').waitFor({ state: 'visible' });
  await dave.locator('#message').fill('before the restart');
  await dave.locator('#message').press('Enter');
  await dave.locator('.msg', { hasText: 'before the restart' }).waitFor();

  await cluster.stopNode('node2');
  await dave.locator('#conn.down').waitFor();
  await cluster.startNode('node2');
  await dave.locator('#conn.ok').waitFor({ timeout: 20_000 });
  await shown(dave, dave.locator('.sys', { hasText: 'Rejoined restart-room' }), 20_000);

  await dave.locator('#message').fill('after the restart');
  await dave.locator('#message').press('Enter');
  await shown(carol, carol.locator('.msg', { hasText: 'after the restart' }), 30_000, dave);
  expect(await dave.locator('.msg', { hasText: 'before the restart' }).count()).toBe(1);
  expect(pageErrors).toEqual([]);
  await carol.close();
  await dave.close();
});

it('shows messages in sequence order when frames arrive out of order or are lost on the way', async () => {
  const owner = await ChatConnection.connect(cluster.nodes[2].wsUrl, { pingIntervalMs: 0 });
  try {
    const room = await owner.createRoom('reorder-room', 'owner');
    await owner.joinRoom(room.room_id, 'owner');
    // A fresh join's replayed history sets where the sequence continues (the protocol's join
    // names no sequence number), so the reordered messages are not the first the page sees.
    await owner.sendMessage(room.room_id, 'owner', 'before');
    // Between the node and the page: hold 'first' until 'second' has been passed on, and drop
    // 'lost' entirely, so only the page's buffer (and its history request) can restore the order.
    const forwarded: string[] = [];
    const requestsSent: { type: string; extended?: unknown }[] = [];
    let held: string | undefined;
    const erin = await openAs('erin', http(1), undefined, (page) =>
      page.routeWebSocket(/.*/, (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((raw) => {
          requestsSent.push(JSON.parse(String(raw)));
          server.send(raw);
        });
        server.onMessage((raw) => {
          const text = String(raw);
          const frame = JSON.parse(text) as { type: string; data: { content?: string } };
          const content = frame.type === 'new_message' ? frame.data.content : undefined;
          if (content === 'first') {
            held = text;
            return;
          }
          if (content === 'lost') return;
          if (content) forwarded.push(content);
          ws.send(text);
          if (content === 'second' && held) {
            forwarded.push('first');
            ws.send(held);
          }
        });
      }),
    );
    await erin.locator('#room-list button', { hasText: 'reorder-room' }).click();
    await erin.locator('#view-chat').waitFor({ state: 'visible' });
    await waitFor('erin in the member list', () => owner.rooms.get(room.room_id)?.members.has('erin'));

    for (const text of ['first', 'second', 'lost', 'last']) await owner.sendMessage(room.room_id, 'owner', text);
    await erin.locator('.msg', { hasText: 'last' }).waitFor();
    await erin.locator('.msg', { hasText: 'lost' }).waitFor();

    expect(forwarded).toEqual(['before', 'second', 'first', 'last']);
    expect(await erin.locator('.msg .text').allTextContents()).toEqual(['before', 'first', 'second', 'lost', 'last']);
    expect(await erin.locator('.msg').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.seq)))).toEqual([1, 2, 3, 4, 5]);
    expect(await erin.locator('.sys.warn').count()).toBe(0);
    // The page asked the node for the dropped message, and every request asked for extended replies.
    expect(requestsSent.map((r) => r.type)).toEqual(expect.arrayContaining(['discover_rooms', 'join_room', 'get_history']));
    expect(requestsSent.filter((r) => r.extended !== true)).toEqual([]);
    expect(pageErrors).toEqual([]);
    await erin.close();
  } finally {
    await owner.close();
  }
});
