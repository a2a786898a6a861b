/**
 * Ports for tests: always ephemeral (the OS picks them), so two runs of the suite side by side never
 * collide. The picking itself lives with the local cluster, which uses it for `--base-port 0`.
 */
export { freePorts } from '../../node-app/src/cluster/local-cluster';
