/**
 * The browser client in headless Chromium against a real three-node cluster on loopback: two
 * pages, each served by (and connected to) a different node, chat with each other, see each other
 * in the member list, and one deletes the room while the other sees it go.
 */
import type { Browser, Page } from 'playwright-core';
import type { LocalCluster } from '../../node-app/src/cluster/local-cluster';
import { launchChromium } from './helpers/browser';
import { freePortBlock, saveScreenshot, startCluster } from './helpers/cluster';

jest.setTimeout(90_000);

const http = (i: number): string => `http://127.0.0.1:${WS_BASE + i - 1}/`;

let cluster: LocalCluster;
/** First WebSocket port of the cluster (node i listens on WS_BASE + i - 1); chosen free at start. */
let WS_BASE = 0;
let browser: Browser;
const pageErrors: string[] = [];

beforeAll(async () => {
  const ports = await freePortBlock(21500, 21600);
  WS_BASE = ports.wsBasePort;
  ({ cluster } = await startCluster(ports));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

async function openAs(username: string, url: string, viewport = { width: 1000, height: 700 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  page.on('pageerror', (err) => pageErrors.push(`${username}: ${err.message}`));
  page.on('console', (msg) => {
    // Chromium logs each refused reconnect attempt itself; while a node restarts that is expected.
    if (msg.type() === 'error' && !/^WebSocket connection to .* failed/.test(msg.text())) pageErrors.push(`${username}: ${msg.text()}`);
  });
  await page.goto(url);
  await page.locator('#username').fill(username);
  await page.locator('#name-form button[type=submit]').click();
  await page.locator('#view-rooms').waitFor({ state: 'visible' });
  await page.locator('#conn.ok').waitFor();
  return page;
}

const members = (page: Page): Promise<string[]> => page.locator('#member-list li').allTextContents();

it('two pages on two nodes chat, see each other as members, and see a deleted room go', async () => {
  const alice = await openAs('alice', http(1));
  expect(await alice.locator('#conn-text').textContent()).toBe(`127.0.0.1:${WS_BASE}`);

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
  await dave.locator('.sys', { hasText: 'Rejoined restart-room' }).waitFor({ timeout: 20_000 });

  await dave.locator('#message').fill('after the restart');
  await dave.locator('#message').press('Enter');
  await carol.locator('.msg', { hasText: 'after the restart' }).waitFor();
  expect(await dave.locator('.msg', { hasText: 'before the restart' }).count()).toBe(1);
  expect(pageErrors).toEqual([]);
  await carol.close();
  await dave.close();
});
