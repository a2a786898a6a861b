#!/usr/bin/env node
/**
 * Dockerfile.node's build step: `node dist/node-app/bin/chat-image-stage.js OUT_DIR` writes into
 * OUT_DIR (empty or new) what the node image holds (src/image/image-contents.ts decides what that is),
 * run from the repository root after `npm ci && npm run build`. Needs only `node`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stageNodeImage } from '../src/image/image-contents';

const outDir = process.argv[2];
if (!outDir || process.argv.length !== 3) {
  console.error('usage: chat-image-stage OUT_DIR');
  process.exit(2);
}
if (fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0) {
  console.error(`chat-image-stage: ${outDir} is not empty`);
  process.exit(2);
}
try {
  const { files, packages } = stageNodeImage(process.cwd(), path.resolve(outDir));
  console.log(`chat-image-stage: ${files.length} compiled files, ${packages.length} packages: ${packages.map((p) => p.replace(/^node_modules\//, '')).join(', ')}`);
} catch (err) {
  console.error(`chat-image-stage: ${(err as Error).message}`);
  process.exit(1);
}
