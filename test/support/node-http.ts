/**
 * A node's plain-HTTP views from outside, as an operator or a deploy script reads them:
 * `GET /healthz` (status code and `status`) and `GET /membership` (rooms per voter set).
 */
import http from 'node:http';
import type { MembershipSummary } from '../../node-app/src/http/membership';

/** GET `path` on the node whose WebSocket URL is `wsUrl` (its plain-HTTP side): status, body, content type. Rejects when unreachable or slow. */
export function httpGet(wsUrl: string, path: string, timeoutMs = 3000): Promise<{ status: number; body: string; type: string }> {
  const u = new URL(wsUrl);
  return new Promise((resolve, reject) => {
    http
      .get({ host: u.hostname, port: Number(u.port), path, timeout: timeoutMs }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
      })
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy(new Error(`GET ${path}: no answer within ${timeoutMs} ms`));
      })
      .on('error', reject);
  });
}

/** GET `path` as JSON: the status code (0 when unreachable) and the body (absent when not JSON). */
export async function getJson<T>(wsUrl: string, path: string): Promise<{ code: number; body?: T }> {
  let r: { status: number; body: string };
  try {
    r = await httpGet(wsUrl, path, 2000);
  } catch {
    return { code: 0 };
  }
  try {
    return { code: r.status, body: JSON.parse(r.body) as T };
  } catch {
    return { code: r.status };
  }
}

export async function health(wsUrl: string): Promise<{ code: number; status?: string }> {
  const r = await getJson<{ status?: string }>(wsUrl, '/healthz');
  return { code: r.code, status: r.body?.status };
}

export async function membership(wsUrl: string): Promise<MembershipSummary | undefined> {
  return (await getJson<MembershipSummary>(wsUrl, '/membership')).body;
}

/** True when the node has every room settled under exactly `voters` (any order). */
export function settledUnder(m: MembershipSummary | undefined, voters: string[]): boolean {
  if (!m || m.unsettled !== 0) return false;
  const want = [...voters].sort().join(',');
  return Object.keys(m.voter_sets).every((set) => set === want);
}
