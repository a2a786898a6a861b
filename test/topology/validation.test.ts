import { App } from 'cdktf';
import { ChatNodeSpec, CommentStyle, SwarmChatDeploymentProps, SwarmChatStack, SwarmRole, TextFile } from '../../src';
import { demoProps } from '../../stacks/demo';
import { cleanupTempDirs, synthApp } from './helpers';

afterAll(cleanupTempDirs);

const build = (props: SwarmChatDeploymentProps) => () => new SwarmChatStack(new App({ outdir: '/nonexistent' }), 'demo', props);
const withNodes = (edit: (nodes: ChatNodeSpec[]) => ChatNodeSpec[], extra: Partial<SwarmChatDeploymentProps> = {}) => {
  const base = demoProps();
  return build({ ...base, ...extra, nodes: edit(base.nodes.map((n) => ({ ...n }))) });
};
const synthWith = (props: SwarmChatDeploymentProps) => () => synthApp((app) => new SwarmChatStack(app, 'demo', props));

describe('a topology that cannot work fails with a message naming the value and the fix', () => {
  it('rejects duplicate vm names', () => {
    expect(withNodes((n) => [n[0], { ...n[1], name: 'node1', hostname: 'other' }])).toThrow(
      'duplicate vm name "node1"; give each vm its own name',
    );
  });

  it('rejects a grown-from node count that is not smaller than the stack', () => {
    expect(build({ ...demoProps(), grownFromNodes: 3 })).toThrow(
      'grown-from node count 3 is out of range; expected a whole number from 1 to 2 (fewer than the 3 nodes)',
    );
  });

  it('rejects duplicate hostnames', () => {
    expect(withNodes((n) => [n[0], { ...n[1], hostname: 'chat-node1' }])).toThrow(
      'duplicate hostname "chat-node1" on vms node1 and node2; give each vm its own hostname',
    );
  });

  it('rejects duplicate ips', () => {
    expect(withNodes((n) => [n[0], { ...n[1], ip: '192.168.56.101' }])).toThrow(
      'duplicate ip "192.168.56.101" on vms node1 and node2; give each vm its own address in 192.168.56.0/24',
    );
  });

  it('rejects a published port used by two services', () => {
    expect(withNodes((n) => [n[0], { ...n[1], webSocketPort: 9091 }])).toThrow(
      'duplicate published port 9091: the websocket port of node2 is already used by node1; give every published port its own number',
    );
  });

  it('rejects one port for both websocket and xml-rpc', () => {
    expect(withNodes((n) => [{ ...n[0], xmlRpcPort: 8081 }])).toThrow('websocket and xml-rpc ports of node1 are both 8081');
  });

  it('rejects ports outside 1024-65535', () => {
    expect(withNodes((n) => [{ ...n[0], webSocketPort: 80 }])).toThrow(
      'websocket port of node1 80 is out of range; expected a whole number from 1024 to 65535',
    );
    expect(withNodes((n) => [{ ...n[0], xmlRpcPort: 70000 }])).toThrow('xml-rpc port of node1 70000 is out of range');
  });

  it('rejects an ip outside the subnet', () => {
    expect(withNodes((n) => [{ ...n[0], ip: '192.168.57.101' }])).toThrow(
      'ip "192.168.57.101" of vm node1 is outside its network 192.168.56.0/24; pick an address inside it, like "192.168.56.101"',
    );
  });

  it('rejects the network, broadcast and host-adapter addresses', () => {
    expect(withNodes((n) => [{ ...n[0], ip: '192.168.56.0' }])).toThrow('is the network or broadcast address of 192.168.56.0/24');
    expect(withNodes((n) => [{ ...n[0], ip: '192.168.56.255' }])).toThrow('is the network or broadcast address');
    expect(withNodes((n) => [{ ...n[0], ip: '192.168.56.1' }])).toThrow("is taken by the host's adapter on 192.168.56.0/24");
  });

  it('rejects text that is not an ip address or subnet', () => {
    expect(withNodes((n) => [{ ...n[0], ip: '192.168.56.300' }])).toThrow('ip of vm node1 "192.168.56.300" is not an IPv4 address');
    expect(build({ ...demoProps(), subnet: '192.168.56.7/24' })).toThrow('subnet "192.168.56.7/24" has host bits set; use "192.168.56.0/24"');
    expect(build({ ...demoProps(), subnet: '192.168.56.0' })).toThrow('subnet "192.168.56.0" is not a usable CIDR');
  });

  it("rejects a subnet VirtualBox would refuse, unless it is listed as allowed", () => {
    const props = { ...demoProps('10.20.0.0/24') };
    expect(build(props)).toThrow(
      'subnet 10.20.0.0/24 is outside the host-only ranges VirtualBox accepts (192.168.56.0/21); use a subnet inside them, like "192.168.60.0/24", or list it in /etc/vbox/networks.conf and in allowedRanges',
    );
    expect(build({ ...props, allowedSubnetRanges: ['10.20.0.0/16'] })).not.toThrow();
  });

  it('rejects a swarm without a manager at synth', () => {
    const props = demoProps();
    const workersOnly = { ...props, nodes: props.nodes.map((n) => ({ ...n, role: SwarmRole.WORKER })) };
    expect(synthWith(workersOnly)).toThrow('swarm has no manager (nodes: node1, node2, node3); give exactly one node role SwarmRole.MANAGER');
  });

  it('rejects a second manager', () => {
    expect(withNodes((n) => [n[0], { ...n[1], role: SwarmRole.MANAGER }, n[2]])).toThrow(
      'second manager node2: node1 is already the manager; a swarm here has exactly one manager, make node2 a worker',
    );
  });

  it('rejects a placement label that matches no node at synth', () => {
    const props = demoProps();
    const bad = { ...props, nodes: props.nodes.map((n, i) => (i === 2 ? { ...n, placementLabel: 'node9' } : n)) };
    expect(synthWith(bad)).toThrow(
      'placement label node_type=node9 of service node3 matches no swarm node (labels: node_type=node1, node_type=node2, node_type=node3); use one of those values',
    );
  });

  it('rejects nonsense vm sizes', () => {
    expect(build({ ...demoProps(), memoryMiB: 512 })).toThrow('memory of vm node1 512 is out of range; expected a whole number from 1024 to 262144 MiB');
    expect(build({ ...demoProps(), memoryMiB: 2048.5 })).toThrow('memory of vm node1 2048.5 is out of range');
    expect(build({ ...demoProps(), cpus: 0 })).toThrow('cpus of vm node1 0 is out of range; expected a whole number from 1 to 64');
  });

  it('rejects nonsense service sizes', () => {
    expect(build({ ...demoProps(), chat: { cpuReservation: 2, cpuLimit: 1 } })).toThrow(
      'cpu reservation 2 exceeds cpu limit 1; a reservation must be at most the limit',
    );
    expect(build({ ...demoProps(), chat: { memoryLimitMiB: 256, memoryReservationMiB: 512 } })).toThrow(
      'memory reservation 512 MiB exceeds memory limit 256 MiB',
    );
    expect(build({ ...demoProps(), chat: { memoryLimitMiB: -5 } })).toThrow('memory limit -5 is out of range');
    expect(build({ ...demoProps(), chat: { stopGracePeriodSeconds: 0 } })).toThrow('stop grace period 0 is out of range');
  });

  it('rejects service limits larger than the vm at synth', () => {
    expect(synthWith({ ...demoProps(), chat: { memoryLimitMiB: 4096 } })).toThrow(
      "memory limit 4096 MiB of service node1 exceeds vm node1's 2048 MiB; lower the limit or give the vm more memory",
    );
    expect(synthWith({ ...demoProps(), cpus: 1, chat: { cpuLimit: 1.5, cpuReservation: 0.5 } })).toThrow(
      "cpu limit 1.5 of service node1 exceeds vm node1's 1 cpus",
    );
  });

  it('rejects names that cannot be vm, service and dns names at once', () => {
    expect(withNodes((n) => [{ ...n[0], name: 'Node_1' }])).toThrow('vm name "Node_1" is not a valid name');
    expect(withNodes((n) => [{ ...n[0], hostname: 'chat node1' }])).toThrow('hostname "chat node1" is not a valid hostname');
    expect(build({ ...demoProps(), chat: { image: 'Chat Node' } })).toThrow('image "Chat Node" is not a docker image reference');
  });

  it('rejects an empty topology at synth', () => {
    expect(synthWith({ ...demoProps(), nodes: [] })).toThrow('swarm has no nodes; add at least one node with addNode()');
  });

  it('rejects two files claiming one path at synth', () => {
    expect(() =>
      synthApp((app) => {
        const stack = new SwarmChatStack(app, 'demo', demoProps());
        new TextFile(stack, 'Again', { path: 'demo.env', lines: ['X=1'], commentStyle: CommentStyle.HASH });
      }),
    ).toThrow('two constructs write demo.env: demo/deployment/DemoEnv and demo/Again; give each file its own path');
  });

  it('leaves the previous output untouched when synth fails', () => {
    const outdir = synthApp((app) => new SwarmChatStack(app, 'demo', demoProps()));
    const props = demoProps();
    expect(() =>
      synthApp((app) => new SwarmChatStack(app, 'demo', { ...props, nodes: props.nodes.map((n) => ({ ...n, role: SwarmRole.WORKER })) }), outdir),
    ).toThrow('swarm has no manager');
    expect(require('fs').existsSync(`${outdir}/stacks/demo/Vagrantfile`)).toBe(true);
  });
});
