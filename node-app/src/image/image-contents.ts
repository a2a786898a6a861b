/**
 * What the node image holds: the compiled files the node runs (the `require` graph of its programs
 * in dist/) and the installed packages they need (the closure of the node workspace's dependencies
 * in package-lock.json). Dockerfile.node copies exactly these, so the image carries no topology
 * model, clients, benchmark or their libraries (cdktf, Ink/React, handlebars, yaml).
 */
import * as fs from 'node:fs';
import { isBuiltin } from 'node:module';
import * as path from 'node:path';

/** The node's programs, relative to dist/. */
export const NODE_ENTRIES = [
  'node-app/bin/chat-node.js',
  'node-app/bin/chat-healthcheck.js',
  // Loaded by path (http/node-http.ts), not by a static import: the node serves the browser client.
  'node-app/src/clients/browser/serve.js',
];

/** Folders copied whole, relative to dist/: the browser client's bundle and static files. */
export const NODE_ASSET_DIRS = ['node-app/src/clients/browser/public'];

/** The workspace that declares the node's runtime dependencies (its package.json goes into the image). */
export const NODE_WORKSPACE = 'node-app';

/**
 * Dependencies that their package runs only while it is installed: better-sqlite3's `install`
 * script fetches a prebuilt addon with prebuild-install (or compiles it); at run time it loads the
 * addon through `bindings` alone. They, and what only they need, stay out of the image.
 */
export const INSTALL_ONLY = new Set(['prebuild-install']);

/** In a native addon's package (one with binding.gyp), what is only the compiler's: sources and intermediates. */
const NATIVE_SOURCE = /\.(c|cc|cpp|h|hpp|o|a|d|gyp|gypi|mk|lzz|patch)$|(^|\/)Makefile$/;

const REQUIRE = /\brequire\((["'])([^"']+)\1\)/g;

/** `ws` for "ws", `@scope/pkg` for "@scope/pkg/sub/path". */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return parts.slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
}

function resolveLocal(fromFile: string, specifier: string): string {
  const base = path.resolve(path.dirname(fromFile), specifier);
  for (const candidate of [base, `${base}.js`, `${base}.json`, path.join(base, 'index.js')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`${fromFile}: require("${specifier}") resolves to no file in the compiled tree`);
}

/**
 * Follows every `require("...")` of tsc's CommonJS output from `entries` (relative to `distDir`).
 * Returns the files reached (relative to `distDir`, sorted) and the packages they import.
 */
export function nodeImportGraph(distDir: string, entries: string[] = NODE_ENTRIES): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = entries.map((e) => path.join(distDir, e));
  for (const e of pending) if (!fs.existsSync(e)) throw new Error(`${e} is missing: run 'npm run build' first`);
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    if (!file.endsWith('.js')) continue;
    for (const m of fs.readFileSync(file, 'utf8').matchAll(REQUIRE)) {
      const specifier = m[2];
      if (specifier.startsWith('.')) pending.push(resolveLocal(file, specifier));
      else if (!isBuiltin(specifier)) packages.add(packageName(specifier));
    }
  }
  return { files: [...files].map((f) => path.relative(distDir, f)).sort(), packages: [...packages].sort() };
}

export interface LockEntry {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  link?: boolean;
  resolved?: string;
}

export interface Lockfile {
  packages: Record<string, LockEntry>;
}

/** The folder whose node_modules is searched next: "a/node_modules/b" -> "a", "node_modules/b" -> "". */
function parentLocation(location: string): string {
  const i = location.lastIndexOf('/node_modules/');
  return i >= 0 ? location.slice(0, i) : '';
}

/** Node's lookup, on the lockfile: the nearest node_modules/<name> from `from` up to the root. */
function resolvePackage(lock: Lockfile, from: string, name: string): string | undefined {
  for (let base = from; ; base = parentLocation(base)) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
    const entry = lock.packages[candidate];
    if (entry) return entry.link && entry.resolved ? entry.resolved : candidate;
    if (base === '') return undefined;
  }
}

/**
 * Lockfile locations ("node_modules/ws", "node_modules/a/node_modules/b", sorted) of the installed
 * packages that the dependencies of the package at `from` need at run time. Optional dependencies
 * and optional peers that are not installed are skipped; any other missing one is an error.
 */
export function packageClosure(lock: Lockfile, from: string = NODE_WORKSPACE): string[] {
  const root = lock.packages[from];
  if (!root) throw new Error(`package-lock.json has no entry "${from}"`);
  const found = new Set<string>();
  const visit = (location: string, entry: LockEntry) => {
    const wanted: [string, boolean][] = [
      ...Object.keys(entry.dependencies ?? {}).map((n): [string, boolean] => [n, false]),
      ...Object.keys(entry.optionalDependencies ?? {}).map((n): [string, boolean] => [n, true]),
      ...Object.keys(entry.peerDependencies ?? {}).map((n): [string, boolean] => [n, entry.peerDependenciesMeta?.[n]?.optional === true]),
    ];
    for (const [name, optional] of wanted) {
      if (INSTALL_ONLY.has(name)) continue;
      const target = resolvePackage(lock, location, name);
      if (target === undefined) {
        if (optional) continue;
        throw new Error(`package-lock.json: ${location || 'the root'} needs ${name}, which is not installed`);
      }
      if (found.has(target)) continue;
      found.add(target);
      visit(target, lock.packages[target]);
    }
  };
  visit(from, root);
  return [...found].sort();
}

function copyFile(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
}

/**
 * Copies a package folder without its own node_modules/ (nested packages are copied only if needed).
 * Of a native addon, build/ contributes only the compiled addons in build/Release/, and sources stay out.
 */
function copyPackage(from: string, to: string): void {
  const native = fs.existsSync(path.join(from, 'binding.gyp'));
  fs.cpSync(from, to, {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(from, src).split(path.sep).join('/');
      if (rel === '') return true;
      if (rel === 'node_modules' || rel.startsWith('node_modules/')) return false;
      if (!native) return true;
      if (rel === 'build' || rel === 'build/Release') return true;
      if (rel.startsWith('build/')) return /^build\/Release\/[^/]+\.node$/.test(rel);
      return !NATIVE_SOURCE.test(rel);
    },
  });
}

/**
 * Writes into `outDir` what the image holds: package.json (the node workspace's), dist/ (the import
 * graph and the assets, source maps left out) and node_modules/ (the package closure). Fails when
 * the node imports a package that the node workspace does not declare, so the declaration and the
 * code cannot drift apart. Returns what it copied.
 */
export function stageNodeImage(repoRoot: string, outDir: string): { files: string[]; packages: string[] } {
  const distDir = path.join(repoRoot, 'dist');
  const workspace = JSON.parse(fs.readFileSync(path.join(repoRoot, NODE_WORKSPACE, 'package.json'), 'utf8')) as LockEntry;
  const graph = nodeImportGraph(distDir);
  const undeclared = graph.packages.filter((p) => !(p in (workspace.dependencies ?? {})));
  if (undeclared.length > 0) {
    throw new Error(`the node imports ${undeclared.join(', ')}, which ${NODE_WORKSPACE}/package.json does not declare in "dependencies"`);
  }
  const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as Lockfile;
  const packages = packageClosure(lock);

  copyFile(path.join(repoRoot, NODE_WORKSPACE, 'package.json'), path.join(outDir, 'package.json'));
  for (const f of graph.files) copyFile(path.join(distDir, f), path.join(outDir, 'dist', f));
  for (const d of NODE_ASSET_DIRS) fs.cpSync(path.join(distDir, d), path.join(outDir, 'dist', d), { recursive: true, filter: (src) => !src.endsWith('.map') });
  for (const p of packages) {
    const from = path.join(repoRoot, p);
    if (!fs.existsSync(from)) throw new Error(`${p} is in package-lock.json but not installed: run 'npm ci' first`);
    copyPackage(from, path.join(outDir, p));
  }
  return { files: graph.files, packages };
}
