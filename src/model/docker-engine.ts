/**
 * Where provisioning takes Docker Engine from. Docker's apt repository gives the current Docker CE;
 * the distribution's own package (`docker.io`) needs only the distribution's mirror, for machines
 * that cannot reach download.docker.com (closed networks, CI without internet).
 */
export enum DockerEngineSource {
  /** docker-ce, docker-ce-cli, containerd.io and plugins from download.docker.com (the demo's). */
  DOCKER_APT_REPOSITORY = 'docker-apt-repository',
  /** `docker.io` (and `iptables`) from the distribution's own archive. */
  DISTRIBUTION_PACKAGE = 'distribution-package',
}
