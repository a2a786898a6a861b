/**
 * The real peer server (node-app/src/peers/peer-server.ts) as the peer-link suites start it: on
 * loopback with an OS-picked port, and a handler that records what a receiving peer saw, in order.
 */
import { type PeerHandler, type PeerServer, type PeerServerOptions, startPeerServer } from '../../node-app/src/peers/peer-server';
import type { XmlRpcValue } from '../../node-app/src/peers/xmlrpc-codec';

export function loopbackPeerServer(opts: Omit<PeerServerOptions, 'host' | 'port'>): Promise<PeerServer> {
  return startPeerServer({ host: '127.0.0.1', port: 0, ...opts });
}

/** `record(x)`: appends x to `into` and answers true. */
export function recorder(into: XmlRpcValue[]): PeerHandler {
  return ([x]) => {
    into.push(x);
    return true;
  };
}
