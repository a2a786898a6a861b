/**
 * Node addresses as people type them: `host:port`, `ws://host:port[/path]`, or the `http://` URL
 * a browser shows for the same node. The original prefixed `ws://` only; we also accept http(s)
 * because the browser client lives at the very same address.
 */

export class AddressError extends Error {
  override name = 'AddressError';
}

/** Returns a `ws://` or `wss://` URL, or throws an AddressError that names the bad value. */
export function normalizeNodeAddress(input: string): string {
  const raw = input.trim();
  if (raw === '') throw new AddressError('empty node address: expected host:port or ws://host:port');
  let withScheme = raw;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) withScheme = `ws://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new AddressError(`invalid node address "${input}": expected host:port or ws://host:port`);
  }
  const scheme = url.protocol.toLowerCase();
  if (scheme === 'http:') url.protocol = 'ws:';
  else if (scheme === 'https:') url.protocol = 'wss:';
  else if (scheme !== 'ws:' && scheme !== 'wss:') {
    throw new AddressError(`invalid node address "${input}": scheme ${scheme} is not ws, wss, http or https`);
  }
  if (url.hostname === '') throw new AddressError(`invalid node address "${input}": no host`);
  if (url.port === '' && !/:\d+(\/|$)/.test(withScheme.replace(/^[a-z]+:\/\//i, ''))) {
    // The node has no default port of the scheme (8080 in the original, 8081-8083 in the demo),
    // so a missing port is almost always a typo; say so instead of silently dialing :80.
    throw new AddressError(`invalid node address "${input}": no port (e.g. ${url.hostname}:8081)`);
  }
  return url.toString();
}

/** Parses a comma/space separated list and drops duplicates, keeping the order given. */
export function parseNodeList(inputs: readonly string[]): string[] {
  const out: string[] = [];
  for (const part of inputs.flatMap((s) => s.split(/[,\s]+/))) {
    if (part === '') continue;
    const url = normalizeNodeAddress(part);
    if (!out.includes(url)) out.push(url);
  }
  return out;
}
