import { App } from 'cdktf';
import { ChatStack, Ipv4Subnet, numberedNodes, PrivateNetwork, SwarmChatStack, SwarmCluster, SwarmRole, toYaml } from '../../src';
import { demoProps } from '../../stacks/demo';

describe('ipv4 subnet', () => {
  it('numbers hosts from the subnet base and knows its bounds', () => {
    const subnet = Ipv4Subnet.parse('192.168.56.0/24');
    expect(subnet.host(101)).toBe('192.168.56.101');
    expect(subnet.contains('192.168.56.254')).toBe(true);
    expect(subnet.contains('192.168.57.1')).toBe(false);
    expect(subnet.isNetworkOrBroadcast('192.168.56.255')).toBe(true);
    expect(Ipv4Subnet.parse('10.0.0.0/8').host(65536 + 2)).toBe('10.1.0.2');
  });
});

describe('numberedNodes', () => {
  it('puts node1..N on consecutive addresses and ports', () => {
    expect(numberedNodes('192.168.60.0/24', 5).map((n) => [n.name, n.ip, n.webSocketPort, n.xmlRpcPort])).toEqual([
      ['node1', '192.168.60.101', 8081, 9091],
      ['node2', '192.168.60.102', 8082, 9092],
      ['node3', '192.168.60.103', 8083, 9093],
      ['node4', '192.168.60.104', 8084, 9094],
      ['node5', '192.168.60.105', 8085, 9095],
    ]);
  });
});

describe('chat stack model', () => {
  it('computes every service peer list from the topology, in topology order', () => {
    const stack = new SwarmChatStack(new App({ outdir: '/nonexistent' }), 'demo', demoProps());
    const chat = stack.deployment.chat;
    expect(chat.services.map((s) => chat.peerNodes(s))).toEqual([
      'node2:http://node2:9092,node3:http://node3:9093',
      'node1:http://node1:9091,node3:http://node3:9093',
      'node1:http://node1:9091,node2:http://node2:9092',
    ]);
  });

  it('includes services added after the files were declared (rendering is deferred to synth)', () => {
    const app = new App({ outdir: '/nonexistent' });
    const stack = new SwarmChatStack(app, 'demo', demoProps());
    const { swarm, chat } = stack.deployment;
    const extra = swarm.addNode('node4', { ip: '192.168.56.104', role: SwarmRole.WORKER });
    chat.addService(extra, { webSocketPort: 8084, xmlRpcPort: 9094 });
    const compose = stack.deployment.compose().toObject() as { services: Record<string, { environment: Record<string, string> }> };
    expect(Object.keys(compose.services)).toEqual(['node1', 'node2', 'node3', 'node4']);
    expect(compose.services.node1.environment.PEER_NODES).toBe('node2:http://node2:9092,node3:http://node3:9093,node4:http://node4:9094');
    // Its own stack file too (change-topology.sh deploys a service alone from it).
    expect(stack.deployment.node.tryFindChild('ServiceFile-node4')).toBeDefined();
  });

  it('builds the stack file from the object model with one service per node', () => {
    const app = new App({ outdir: '/nonexistent' });
    const network = new PrivateNetwork(app, 'net', { cidr: '10.9.0.0/24', allowedRanges: ['10.0.0.0/8'] });
    const swarm = new SwarmCluster(app, 'swarm', { network, labelKey: 'role_of' });
    const chat = new ChatStack(app, 'chat', { swarm, stackName: 'xy', image: 'img:1' });
    const m = swarm.addNode('alpha', { ip: '10.9.0.10', role: SwarmRole.MANAGER });
    chat.addService(m, { webSocketPort: 7000, xmlRpcPort: 7001 });
    const doc = chat.toCompose().toObject() as Record<string, any>;
    expect(doc.services.alpha.image).toBe('img:1');
    expect(doc.services.alpha.deploy.placement.constraints).toEqual(['node.labels.role_of == alpha']);
    expect(doc.services.alpha.environment.PEER_NODES).toBe('');
    expect(doc.volumes).toEqual({ 'alpha-data': {}, 'alpha-logs': {} });
  });
});

describe('yaml serializer', () => {
  it('quotes strings that YAML 1.1 readers would turn into booleans or octal numbers', () => {
    const text = toYaml({ a: 'yes', b: 'on', c: '0755', d: '1.0', e: 3 });
    expect(text).toBe('a: "yes"\nb: "on"\nc: "0755"\nd: "1.0"\ne: 3\n');
  });
});
