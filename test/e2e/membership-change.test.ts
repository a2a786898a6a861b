/**
 * Adding and removing a node on a live cluster, as an operator does it (real nodes on loopback,
 * DATA_DIR and CLUSTER_SECRET each, compiled dist/): 3 -> 4 -> 3 under continuous chat. node4
 * starts with all four in its PEER_NODES and is not ready (a join there is refused with
 * NODE_NOT_READY) until the others, restarted one at a time with node4 added, count it; then it
 * serves a sender of its own. Removing it is the same roll backwards; it then reports not ready.
 * Every message is checked: none acknowledged and lost, none duplicated, none out of room or
 * sender order, no error-then-commit, no sender left without a node. And 3 -> 5 in one edit:
 * the rooms' configurations go 3, 4, 5 (one server at a time). Prints its figures.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChatConnection } from '../../node-app/src/clients/core/chat-connection';
import { startLocalCluster, type LocalCluster } from '../../node-app/src/cluster/local-cluster';
import { ChatLoad, roomHistory } from '../support/chat-load';
import { health, membership, settledUnder } from '../support/node-http';
import { sleep, waitFor } from '../support/wait';

jest.setTimeout(120_000);

describe('adding and removing a node under continuous chat (real nodes)', () => {
  let cluster: LocalCluster | undefined;
  let load: ChatLoad | undefined;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'membership-'));

  afterAll(async () => {
    await load?.close();
    await cluster?.stop();
    if (!process.env.KEEP_LOGS) fs.rmSync(root, { recursive: true, force: true });
    else console.log(`logs kept in ${root}`);
  });

  test('3 -> 4 -> 3: nothing lost, duplicated, reordered or answered with an error and committed; the new node serves only once counted', async () => {
    const three = ['node1', 'node2', 'node3'];
    const four = [...three, 'node4'];
    cluster = await startLocalCluster({
      count: 4, wsBasePort: 0, rpcBasePort: 0, dataDir: path.join(root, 'data'), logDir: path.join(root, 'logs'),
      initial: three, peers: { node1: three, node2: three, node3: three, node4: four }, env: { LOG_LEVEL: 'info' },
    });
    const c = cluster;
    const serving = new Set(three);
    const url = (id: string) => c.nodes.find((n) => n.id === id)!.wsUrl;
    const rooms: string[] = [];
    for (let r = 0; r < 3; r++) {
      const creator = await ChatConnection.connect(url(three[r]));
      rooms.push((await creator.createRoom(`memb-${r}`, `creator${r}`)).room_id);
      await creator.close();
    }
    load = new ChatLoad({ url, liveNodes: () => [...serving], periodMs: 50 });
    for (let r = 0; r < 3; r++) {
      await load.addSender(rooms[r], `a${r}`, three[(r + 1) % 3]);
      await load.addSender(rooms[r], `b${r}`, three[(r + 2) % 3]);
    }
    load.start();
    await sleep(1000);

    // node4 comes up knowing everyone; nobody counts it yet.
    await c.startNode('node4', { waitReady: false });
    await waitFor('node4 says why it is not ready', async () => (await health(url('node4'))).status === 'not_a_member', 10_000);
    const early = await ChatConnection.connect(url('node4'));
    await expect(early.joinRoom(rooms[0], 'early')).rejects.toMatchObject({ code: 'NODE_NOT_READY' });
    await early.close();

    const roll = async (view: string[]) => {
      for (const id of three) {
        serving.delete(id);
        const stopping = c.stopNode(id);
        await load!.moveOff(id);
        await stopping;
        await c.startNode(id, { peers: view });
        serving.add(id);
        await sleep(500);
      }
    };
    await roll(four);
    await waitFor('node4 ready', async () => (await health(url('node4'))).code === 200, 20_000);
    for (const id of four) await waitFor(`${id}: every room settled under four voters`, async () => settledUnder(await membership(url(id)), four), 20_000);
    serving.add('node4');
    await load.addSender(rooms[0], 'd0', 'node4');
    await sleep(1500);

    // Back to three: the roll removes node4 from every room; it stops serving and says so.
    serving.delete('node4');
    await roll(three);
    await waitFor('node4 not ready after removal', async () => (await health(url('node4'))).code === 503, 20_000);
    for (const id of three) await waitFor(`${id}: every room settled under three voters`, async () => settledUnder(await membership(url(id)), three), 20_000);
    // node4 drains: it tells its clients to move; the sender there moves and resumes by itself.
    await waitFor('the sender on node4 moved', () => load!.senderNodes().d0 !== 'node4', 10_000);
    await sleep(1000);
    await load.stop();
    const history = new Map<string, Awaited<ReturnType<typeof roomHistory>>>();
    for (const room of rooms) history.set(room, await roomHistory(url('node1'), room));
    const figures = load.audit(history);
    console.log('membership 3->4->3 figures', JSON.stringify(figures));
    expect(figures).toMatchObject({ ackedLost: 0, duplicates: 0, senderInversions: 0, errorThenCommit: 0, stranded: 0, errors: 0 });
    for (const room of rooms) {
      const seqs = history.get(room)!.map((m) => m.sequence_number);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    }
  });

  test('3 -> 5 in one edit, as change-topology.sh orders it: each new node serves once every room committed it, each room went 3 -> 4 -> 5 voters, chat unharmed', async () => {
    await load?.close();
    await cluster?.stop();
    const three = ['node1', 'node2', 'node3'];
    const five = [...three, 'node4', 'node5'];
    cluster = await startLocalCluster({
      count: 5, wsBasePort: 0, rpcBasePort: 0, dataDir: path.join(root, 'data5'), logDir: path.join(root, 'logs5'),
      initial: three, peers: { node1: three, node2: three, node3: three, node4: five, node5: five }, env: { LOG_LEVEL: 'info' },
    });
    const c = cluster;
    const serving = new Set(three);
    const url = (id: string) => c.nodes.find((n) => n.id === id)!.wsUrl;
    // One room per admin, so every running node's admin role goes through the change.
    const rooms: string[] = [];
    for (const [r, id] of three.entries()) {
      const creator = await ChatConnection.connect(url(id));
      rooms.push((await creator.createRoom(`memb5-${r}`, `creator${r}`)).room_id);
      await creator.close();
    }
    load = new ChatLoad({ url, liveNodes: () => [...serving], periodMs: 50 });
    for (const [r, room] of rooms.entries()) await load.addSender(room, `a${r}`, three[(r + 1) % 3]);
    load.start();
    // The running nodes learn the new topology one at a time; node4 and node5 do not run yet.
    for (const id of three) {
      serving.delete(id);
      const stopping = c.stopNode(id);
      await load.moveOff(id);
      await stopping;
      await c.startNode(id, { peers: five });
      serving.add(id);
      await sleep(500);
    }
    // Each new node in turn: a learner until every room has committed it, then it serves.
    for (const [i, id] of ['node4', 'node5'].entries()) {
      await c.startNode(id, { waitReady: false });
      const members = [...serving, id];
      await waitFor(`${id} a committed voter of every room on every node`, async () => {
        for (const m of members) {
          const summary = await membership(url(m));
          if (!summary || summary.unsettled !== 0 || Object.keys(summary.voter_sets).some((set) => !set.split(',').includes(id))) return false;
        }
        return true;
      }, 20_000);
      await waitFor(`${id} ready`, async () => (await health(url(id))).code === 200, 20_000);
      serving.add(id);
      await load.addSender(rooms[i], `new${i}`, id);
    }
    for (const id of five) expect(settledUnder(await membership(url(id)), five)).toBe(true);
    await sleep(1500);
    await load.stop();
    const history = new Map<string, Awaited<ReturnType<typeof roomHistory>>>();
    for (const room of rooms) history.set(room, await roomHistory(url('node5'), room));
    const figures = load.audit(history);
    console.log('membership 3->5 figures', JSON.stringify(figures));
    expect(figures).toMatchObject({ ackedLost: 0, duplicates: 0, senderInversions: 0, errorThenCommit: 0, stranded: 0, errors: 0 });
    const logs = three.map((id) => fs.readFileSync(path.join(root, 'logs5', `${id}.log`), 'utf8')).join('\n');
    for (const room of rooms) {
      const seqs = history.get(room)!.map((m) => m.sequence_number);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      // The admins logged the change as two single-server steps.
      const changes = logs.split('\n').filter((l) => l.includes('replication: membership change') && l.includes(room));
      const sizes = changes.map((l) => (JSON.parse(l.slice(l.indexOf('{'))) as { to: string[] }).to.length);
      expect(sizes.filter((n) => n > 3)).toEqual([4, 5]);
    }
  });
});
