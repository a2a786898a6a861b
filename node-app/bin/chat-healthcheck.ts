#!/usr/bin/env node
/**
 * Exits 0 iff http://127.0.0.1:$WEBSOCKET_PORT/healthz answers 200 within 2 s. The image's
 * HEALTHCHECK and the stack file use it, so the image needs no curl.
 */
import http from 'node:http';

const port = Number(process.env.WEBSOCKET_PORT || 8080);
const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 2000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => {
  req.destroy();
  process.exit(1);
});
req.on('error', () => process.exit(1));
