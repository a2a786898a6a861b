/** The node's metric families; gauges are read from live state at scrape time. */
import { MetricsRegistry, type Counter, type Histogram } from '../http/metrics';

export interface NodeMetrics {
  registry: MetricsRegistry;
  clientRequests: Counter;
  clientErrors: Counter;
  messagesSequenced: Counter;
  framesDelivered: Counter;
  slowConsumers: Counter;
  peerCalls: Counter;
  peerCallSeconds: Histogram;
  rpcRequests: Counter;
}

export function createNodeMetrics(): NodeMetrics {
  const registry = new MetricsRegistry();
  return {
    registry,
    clientRequests: registry.counter('swarmchat_client_requests_total', 'Client requests accepted, by type.'),
    clientErrors: registry.counter('swarmchat_client_errors_total', 'Client frames rejected at the edge, by reply type.'),
    messagesSequenced: registry.counter('swarmchat_messages_sequenced_total', 'Chat messages sequenced by this node as room admin.'),
    framesDelivered: registry.counter('swarmchat_frames_delivered_total', 'Room event frames written to local WebSocket clients.'),
    slowConsumers: registry.counter('swarmchat_slow_consumers_total', 'Connections closed for not reading their frames.'),
    peerCalls: registry.counter('swarmchat_node_peer_requests_total', 'Calls and posts to peers, by peer, method and outcome.'),
    peerCallSeconds: registry.histogram('swarmchat_node_peer_request_seconds', 'Latency of request/response peer calls.', [
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
    ]),
    rpcRequests: registry.counter('swarmchat_rpc_requests_total', 'XML-RPC requests served, by method and outcome.'),
  };
}
