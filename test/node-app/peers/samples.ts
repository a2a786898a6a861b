/** Reads the captured XML-RPC exchanges of the Python original (the project's own copy, fixtures/xmlrpc-samples.txt) into sections. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface Sample {
  header: string;
  /** request path for captured responses, undefined for request bodies */
  path?: string;
  status?: number;
  body: string;
}

// From the compiled copy in dist/test/node-app/peers the fixture is still read from the source tree.
export const SAMPLES_FILE =
  process.env.XMLRPC_SAMPLES ??
  [path.join(__dirname, 'fixtures', 'xmlrpc-samples.txt'), path.resolve(__dirname, '../../../../test/node-app/peers/fixtures/xmlrpc-samples.txt')].find(
    (f) => existsSync(f),
  ) ??
  path.join(__dirname, 'fixtures', 'xmlrpc-samples.txt');

export function loadSamples(file = SAMPLES_FILE): Sample[] {
  const text = readFileSync(file, 'utf8');
  const out: Sample[] = [];
  for (const part of text.split(/^### /m).slice(1)) {
    const nl = part.indexOf('\n');
    const header = part.slice(0, nl);
    // bodies end with one blank line before the next section
    const body = part.slice(nl + 1).replace(/\n\n+$/, '\n');
    const m = /^POST (\S+) -> HTTP (\d+)/.exec(header);
    out.push(m ? { header, path: m[1], status: Number(m[2]), body } : { header, body });
  }
  return out;
}
