/**
 * Builds the browser client into dist/ (run by `npm run build`, after tsc): esbuild bundles
 * app/main.ts with the shared client modules it imports (the ordering buffer, the request builders)
 * into one minified script, and the static files of public/ are copied beside it, so the compiled
 * tree (and the image, which carries dist/) serves the page on its own. esbuild does not type-check;
 * tsc checks these sources as part of the project. Prints the size of what a page load fetches.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..', '..');
const outDir = join(root, 'dist', relative(root, here), 'public');
const STATIC = ['index.html', 'style.css', 'icon.svg'];

mkdirSync(outDir, { recursive: true });
await build({
  entryPoints: [join(here, 'app', 'main.ts')],
  outfile: join(outDir, 'app.js'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
for (const file of STATIC) copyFileSync(join(here, 'public', file), join(outDir, file));

let raw = 0;
let gzip = 0;
for (const file of ['app.js', ...STATIC]) {
  const body = readFileSync(join(outDir, file));
  raw += body.length;
  gzip += gzipSync(body, { level: 9 }).length;
}
console.log(`browser client: ${relative(root, outDir)}/ ${raw} bytes (${gzip} gzipped), app.js ${readFileSync(join(outDir, 'app.js')).length} bytes`);
