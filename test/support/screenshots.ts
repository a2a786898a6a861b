/** Where suites put screenshots: test-output/; UPDATE_SCREENSHOTS=1 also refreshes the README's copies. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './cluster';

export function saveScreenshot(name: string, png: Buffer): string[] {
  const out = [path.join(ROOT, 'test-output', 'clients', name)];
  if (process.env.UPDATE_SCREENSHOTS === '1') out.push(path.join(ROOT, 'node-app', 'src', 'clients', 'screenshots', name));
  for (const file of out) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, png);
  }
  return out;
}
