/**
 * A node's plain-HTTP views from outside, as an operator or a deploy script reads them:
 * `GET /healthz` (status code and `status`) and `GET /membership` (rooms per voter set).
 */
import http from 'node:http';
import type { MembershipSummary } from '../../node-app/src/http/membership';

/** GET `path` on the node whose WebSocket URL is `wsUrl`: the status code (0 when unreachable) and the JSON body. */
export function getJson<T>(wsUrl: string, path: string): Promise<{ code: number; body?: T }> {
  const u = new URL(wsUrl);
  return new Promise((resolve) => {
    http
      .get({ host: u.hostname, port: Number(u.port), path, timeout: 2000 }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          try {
            resolve({ code: res.statusCode ?? 0, body: JSON.parse(text) as T });
          } catch {
            resolve({ code: res.statusCode ?? 0 });
          }
        });
      })
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy();
      })
      .on('error', () => resolve({ code: 0 }));
  });
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
