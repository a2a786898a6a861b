import { App } from 'cdktf';
import {
  DOCKER_SYSTEMD_CREATE_ARGS,
  DockerEngineSource,
  MachineProvider,
  SwarmChatDeploymentProps,
  SwarmChatStack,
  VagrantBox,
} from '../../../src';
import { demoProps } from '../../../stacks/demo';
import { demoDockerProps } from '../../../stacks/demo-docker';
import { cleanupTempDirs, readTree, stackDir, synthApp } from '../helpers';

afterAll(cleanupTempDirs);

const build = (props: SwarmChatDeploymentProps) => () => new SwarmChatStack(new App({ outdir: '/nonexistent' }), 'demo', props);
const files = (props: SwarmChatDeploymentProps) => readTree(stackDir(synthApp((app) => new SwarmChatStack(app, 'demo', props)), 'demo'));

describe('the docker provider refuses combinations that cannot work', () => {
  it('needs exactly one of image and build', () => {
    expect(() => MachineProvider.docker({})).toThrow('docker provider has neither an image nor a build; give image: "<name:tag>" or build: {}');
    expect(() => MachineProvider.docker({ image: 'vm:1', build: {} })).toThrow(
      'docker provider has both an image and a build; give one: image (prebuilt) or build (from docker-vm/Dockerfile)',
    );
  });

  it('rejects image references docker would refuse', () => {
    expect(() => MachineProvider.docker({ image: 'My VM' })).toThrow('docker provider image "My VM" is not a docker image reference');
    expect(() => MachineProvider.docker({ build: { baseImage: 'Ubuntu:22.04' } })).toThrow('docker provider base image "Ubuntu:22.04" is not a docker image reference');
  });

  it('rejects container options that the topology or Vagrant already sets', () => {
    const withArg = (arg: string) => () => MachineProvider.docker({ image: 'vm:1', createArgs: [...DOCKER_SYSTEMD_CREATE_ARGS, arg] });
    expect(withArg('--hostname=x')).toThrow('docker provider create argument "--hostname=x" conflicts with the topology (the hostname comes from the node\'s hostname); remove it');
    expect(withArg('--network=host')).toThrow("(the private network comes from the topology's subnet)");
    expect(withArg('--memory=1g')).toThrow('(memory and cpus come from memoryMiB and cpus)');
    expect(withArg('-p')).toThrow('(the nodes are reached on their private-network addresses)');
    expect(withArg('--name=a')).toThrow('(vagrant names the container after the machine)');
    expect(withArg('')).toThrow('docker provider create argument "" is not an option');
  });

  it('rejects options that --privileged silently overrides', () => {
    expect(() => MachineProvider.docker({ image: 'vm:1', privileged: true })).toThrow(
      'docker provider create argument "--cap-add=ALL" does nothing with privileged: true (--privileged grants every capability and device); remove it or set privileged: false',
    );
    expect(() => MachineProvider.docker({ image: 'vm:1', privileged: true, createArgs: ['--tmpfs=/run'] })).not.toThrow();
  });

  it('rejects a box, which the docker provider does not use', () => {
    expect(build({ ...demoDockerProps(), box: VagrantBox.UBUNTU_JAMMY })).toThrow(
      'box "ubuntu/jammy64" is set but the docker provider uses no box; remove box, or use the image option of the provider',
    );
  });

  it('accepts any private subnet, and names the RFC 1918 ranges for others', () => {
    expect(build(demoDockerProps('10.20.0.0/24'))).not.toThrow();
    expect(build(demoDockerProps('100.64.0.0/24'))).toThrow(
      'subnet 100.64.0.0/24 is outside the private ranges (RFC 1918) (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16); use a subnet inside them, like "192.168.60.0/24", or list it in allowedSubnetRanges',
    );
  });

  it('rejects an unknown docker engine source', () => {
    expect(build({ ...demoProps(), dockerEngine: 'snap' as DockerEngineSource })).toThrow(
      'docker engine source "snap" is unknown; expected one of docker-apt-repository, distribution-package',
    );
  });
});

describe('what each provider choice writes', () => {
  it('virtualbox (the default) writes a box, a virtualbox block and no machine image', () => {
    const f = files(demoProps());
    expect(f.Vagrantfile).toContain('config.vm.box = "ubuntu/jammy64"');
    expect(f.Vagrantfile).toContain('machine.vm.provider "virtualbox"');
    expect(f.Vagrantfile).not.toContain('"docker" do');
    expect(f['docker-vm/Dockerfile']).toBeUndefined();
  });

  it('docker with a build writes the machine Dockerfile, built by vagrant with the key from its installation', () => {
    const f = files(demoDockerProps());
    expect(f.Vagrantfile).not.toContain('config.vm.box');
    expect(f.Vagrantfile).toContain('d.build_dir = DOCKER_BUILD_DIR');
    expect(f.Vagrantfile).toContain('Vagrant.source_root, "keys", "vagrant.pub*"');
    expect(f.Vagrantfile).toContain('d.create_args = DOCKER_CREATE_ARGS + ["--memory=#{node[:memory]}m", "--cpus=#{node[:cpus]}"]');
    for (const arg of DOCKER_SYSTEMD_CREATE_ARGS) expect(f.Vagrantfile).toContain(`  "${arg}",`);
    expect(f.Vagrantfile).not.toContain('d.privileged');
    expect(f['docker-vm/Dockerfile']).toContain('ARG BASE_IMAGE=ubuntu:22.04');
  });

  it('docker with an image names it and builds nothing', () => {
    const f = files({ ...demoDockerProps(), provider: MachineProvider.docker({ image: 'lab/vm:1', privileged: true, createArgs: ['--tmpfs=/run'] }) });
    expect(f.Vagrantfile).toContain('DOCKER_IMAGE = "lab/vm:1"');
    expect(f.Vagrantfile).toContain('d.privileged = true');
    expect(f.Vagrantfile).not.toContain('build_dir');
  });

  it("the engine source picks Docker's apt repository or the distribution's docker.io", () => {
    expect(files(demoProps())['provision/install-docker.sh']).toContain('https://download.docker.com/linux/ubuntu');
    const distro = files(demoDockerProps())['provision/install-docker.sh'];
    expect(distro).toContain('apt-get install -y -qq --no-install-recommends docker.io iptables');
    expect(distro).not.toContain('download.docker.com/linux');
  });
});
