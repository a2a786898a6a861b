/**
 * The logger the peer modules accept: the node's structured logger interface (node-app/src/log.ts),
 * under the name the peer modules use. One definition, so the two cannot drift apart.
 */
export type { Logger as PeerLogger } from '../log';
export { nullLogger } from '../log';
