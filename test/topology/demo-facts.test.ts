import * as fs from 'fs';
import { parse } from 'yaml';
import { addDemoStack } from '../../stacks/demo';
import { cleanupTempDirs, readTree, stackDir, synthApp } from './helpers';

/** The hand-written original demo's facts, asserted exactly on the synthesized `demo` stack. */
let files: Record<string, string>;
let dir: string;
beforeAll(() => {
  dir = stackDir(synthApp((app) => addDemoStack(app)), 'demo');
  files = readTree(dir);
});
afterAll(cleanupTempDirs);

const NODES = [
  { name: 'node1', hostname: 'chat-node1', ip: '192.168.56.101', ws: 8081, rpc: 9091 },
  { name: 'node2', hostname: 'chat-node2', ip: '192.168.56.102', ws: 8082, rpc: 9092 },
  { name: 'node3', hostname: 'chat-node3', ip: '192.168.56.103', ws: 8083, rpc: 9093 },
];

it('synthesizes the files the demo needs into cdktf.out/stacks/demo', () => {
  expect(Object.keys(files).sort()).toEqual([
    'README.md',
    'Vagrantfile',
    'demo.env',
    'docker-compose.demo.yml',
    'provision/hosts.sh',
    'provision/install-docker.sh',
    'provision/swarm-init.sh',
    'provision/swarm-join.sh',
    'scripts/change-topology.sh',
    'scripts/deploy-demo.sh',
    'scripts/deploy-stack.sh',
    'scripts/run-scenarios.sh',
    'scripts/setup-swarm.sh',
    'services/node1.yml',
    'services/node2.yml',
    'services/node3.yml',
  ]);
});

describe('Vagrantfile', () => {
  it('pins the jammy box, turns off box updates, and sizes every VM 2048 MB / 2 CPUs on VirtualBox with the NAT DNS settings', () => {
    const v = files.Vagrantfile;
    expect(v).toContain('config.vm.box = "ubuntu/jammy64"');
    expect(v).toMatch(/config\.vm\.box_version = "\d+\.\d+\.\d+"/);
    expect(v).toContain('config.vm.box_check_update = false');
    expect(v).toContain('machine.vm.provider "virtualbox" do |vb|');
    expect(v).toContain('"--natdnshostresolver1", "on"');
    expect(v).toContain('"--natdnsproxy1", "on"');
  });

  it('lists node1..node3 with their hostnames and private-network IPs', () => {
    for (const n of NODES) {
      const role = n.name === 'node1' ? 'manager' : 'worker';
      expect(files.Vagrantfile).toContain(
        `{ name: "${n.name}", hostname: "${n.hostname}", ip: "${n.ip}", role: "${role}", memory: 2048, cpus: 2 },`,
      );
    }
    expect(files.Vagrantfile).toContain('machine.vm.network "private_network", ip: node[:ip]');
  });

  it('labels the swarm on vagrant up after the last worker, and removes the token files on destroy', () => {
    expect(files.Vagrantfile).toContain('LAST_NODE = "node3"');
    expect(files.Vagrantfile).toContain('config.trigger.after [:up, :provision, :reload] do |trigger|');
    expect(files.Vagrantfile).toContain(`"vagrant ssh #{MANAGER} -c 'sudo bash /vagrant/scripts/setup-swarm.sh'"`);
    expect(files.Vagrantfile).toContain('config.trigger.after :destroy do |trigger|');
    expect(files.Vagrantfile).toContain('TOKEN_FILES = ["swarm-token.txt", "swarm-manager-ip.txt"].freeze');
  });
});

describe('provisioning', () => {
  it('lists all three VMs in /etc/hosts', () => {
    for (const n of NODES) expect(files['provision/hosts.sh']).toContain(`printf '%s %s\\n' ${n.ip} ${n.hostname}`);
  });

  it('installs Docker from its apt repository with capped json-file logs, and adds vagrant to group docker', () => {
    const s = files['provision/install-docker.sh'];
    expect(s).toContain('https://download.docker.com/linux/ubuntu');
    expect(s).toContain('docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin');
    expect(s).toContain('"log-driver": "json-file"');
    expect(s).toContain('"log-opts": { "max-size": "10m", "max-file": "3" }');
    expect(s).toContain('usermod -aG docker vagrant');
    expect(s).toContain('systemctl enable --now docker');
  });

  it('inits the swarm on node1 advertising its IP and hands the token over through the synced folder', () => {
    expect(files['provision/swarm-init.sh']).toContain('docker swarm init --advertise-addr "$advertise_ip"');
    expect(files['provision/swarm-init.sh']).toContain('docker swarm join-token -q worker >"$sync_dir/swarm-token.txt.tmp"');
    expect(files['provision/swarm-join.sh']).toContain('docker swarm join --advertise-addr "$advertise_ip" --token "$token" "$manager_ip:2377"');
    expect(files.Vagrantfile).toContain('path: "provision/swarm-init.sh", args: [node[:ip]]');
    expect(files.Vagrantfile).toContain('path: "provision/swarm-join.sh", args: [node[:ip]]');
  });

  it('labels nodes node_type=node1|node2|node3 by hostname', () => {
    expect(files['scripts/setup-swarm.sh']).toContain('  chat-node1 node1\n  chat-node2 node2\n  chat-node3 node3\n');
    expect(files['scripts/setup-swarm.sh']).toContain('docker node update --label-add "node_type=$label" "$id"');
  });
});

describe('stack file', () => {
  let doc: any;
  beforeAll(() => {
    doc = parse(files['docker-compose.demo.yml']);
  });

  it.each(NODES)('writes $name alone to services/$name.yml, defined exactly as in the whole stack file', (n) => {
    const own = parse(files[`services/${n.name}.yml`]);
    expect(Object.keys(own.services)).toEqual([n.name]);
    expect(own.services[n.name]).toEqual(doc.services[n.name]);
    expect(own.networks).toEqual(doc.networks);
    expect(own.secrets).toEqual(doc.secrets);
    expect(own.volumes).toEqual({ [`${n.name}-data`]: {}, [`${n.name}-logs`]: {} });
  });

  it('has services node1..node3 on an attachable overlay network chat-overlay', () => {
    expect(Object.keys(doc.services)).toEqual(['node1', 'node2', 'node3']);
    expect(doc.networks).toEqual({ 'chat-overlay': { driver: 'overlay', attachable: true } });
  });

  it.each(NODES)('pins $name to its VM with its ports, env, volumes and policies', (n) => {
    const s = doc.services[n.name];
    const others = NODES.filter((o) => o !== n).map((o) => `${o.name}:http://${o.name}:${o.rpc}`).join(',');
    expect(s.image).toBe('chat-node:demo');
    expect(s.deploy.placement.constraints).toEqual([`node.labels.node_type == ${n.name}`]);
    expect(s.ports).toEqual([
      { target: n.ws, published: n.ws, protocol: 'tcp', mode: 'host' },
      { target: n.rpc, published: n.rpc, protocol: 'tcp', mode: 'host' },
    ]);
    expect(s.environment).toMatchObject({
      NODE_ID: n.name,
      WEBSOCKET_PORT: String(n.ws),
      XMLRPC_PORT: String(n.rpc),
      XMLRPC_ADDRESS: `http://${n.name}:${n.rpc}`,
      PEER_NODES: others,
      CLUSTER_SECRET_FILE: '/run/secrets/chat_cluster_secret',
      DATA_DIR: '/data',
    });
    expect(s.networks).toEqual(['chat-overlay']);
    expect(s.volumes).toEqual([`${n.name}-data:/data`, `${n.name}-logs:/app/logs`]);
    expect(s.secrets).toEqual([{ source: 'chat_cluster_secret', target: 'chat_cluster_secret' }]);
    expect(s.deploy.restart_policy).toMatchObject({ condition: 'on-failure', delay: '5s', max_attempts: 3 });
    expect(s.deploy.resources).toEqual({ limits: { cpus: '1.0', memory: '512M' }, reservations: { cpus: '0.25', memory: '256M' } });
    expect(s.deploy.update_config).toMatchObject({ parallelism: 1, failure_action: 'rollback', order: 'stop-first' });
    expect(s.healthcheck.test).toEqual(['CMD', 'node', 'dist/node-app/bin/chat-healthcheck.js']);
    expect(s.stop_grace_period).toBe('30s');
  });

  it('declares the cluster secret as an external Swarm secret and a data and log volume per node', () => {
    expect(doc.secrets).toEqual({ chat_cluster_secret: { external: true, name: 'chat_cluster_secret' } });
    expect(Object.keys(doc.volumes)).toEqual(['node1-data', 'node1-logs', 'node2-data', 'node2-logs', 'node3-data', 'node3-logs']);
  });
});

describe('deploy and access', () => {
  it('changes a running stack one node at a time with change-topology.sh when its services differ from the topology', () => {
    const d = files['scripts/deploy-stack.sh'];
    expect(d).toContain('bash "$(dirname "${BASH_SOURCE[0]}")/change-topology.sh"');
    const c = files['scripts/change-topology.sh'];
    expect(c).toContain('target_voters=node1,node2,node3');
    for (const n of NODES) expect(c).toContain(`  ${n.name} chat-demo_${n.name} ${n.ip} ${n.ws} services/${n.name}.yml\n`);
    expect(c).toContain('docker stack deploy --resolve-image never -c "$file" "$stack"');
    expect(c).toContain('docker stack deploy --prune --resolve-image never -c "$sync_dir/docker-compose.demo.yml" "$stack"');
  });

  it('deploys stack chat-demo from docker-compose.demo.yml and waits, bounded, for healthy services', () => {
    const s = files['scripts/deploy-stack.sh'];
    expect(s).toContain('stack=chat-demo');
    expect(s).toContain('-c "$sync_dir/docker-compose.demo.yml" "$stack"');
    expect(s).toContain('services=(chat-demo_node1 chat-demo_node2 chat-demo_node3)');
    expect(s).toContain('timeout=${DEPLOY_TIMEOUT:-300}');
    expect(s).not.toMatch(/sleep (?![23]\b)/);
  });

  it('builds, saves, loads and verifies chat-node:demo on every VM', () => {
    const s = files['scripts/deploy-demo.sh'];
    expect(s).toContain("image=chat-node:demo");
    expect(s).toContain('nodes=(node1 node2 node3)');
    expect(s).toContain("default_build_args='--build-arg BUILD_IN_CONTAINER=true'");
    expect(s).toContain('read -r -a build_args <<<"${IMAGE_BUILD_ARGS:-$default_build_args}"');
    expect(s).toContain('docker build -f "$project_root/Dockerfile.node" "${build_args[@]}" -t "$image" "$project_root"');
    expect(s).toContain('docker save -o');
    expect(s).toContain('sudo docker load -q -i');
    expect(s).toContain("sudo docker image inspect --format '{{.Id}}' $image");
  });

  it('shows the access table in demo.env, the deploy output and the README', () => {
    for (const n of NODES) {
      const v = n.name.toUpperCase();
      expect(files['demo.env']).toContain(`${v}_IP=${n.ip}\n${v}_WS_PORT=${n.ws}\n${v}_XMLRPC_PORT=${n.rpc}\n`);
      expect(files['scripts/deploy-demo.sh']).toContain(`${n.name} ${n.hostname} ${n.ip} ws://${n.ip}:${n.ws} http://${n.ip}:${n.rpc}`);
      expect(files['README.md']).toContain(`| ${n.name} | ${n.hostname} | ${n.ip} | ${n.ws} | ${n.rpc} |`);
    }
  });

  it('runs the scenarios program against the three published WebSocket ports', () => {
    expect(files['scripts/run-scenarios.sh']).toContain('--nodes ws://192.168.56.101:8081,ws://192.168.56.102:8082,ws://192.168.56.103:8083');
    expect(fs.statSync(`${dir}/scripts/run-scenarios.sh`).mode & 0o111).toBe(0o111);
  });
});
