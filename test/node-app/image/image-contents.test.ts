/**
 * What the node image holds (node-app/src/image/image-contents.ts): the import graph over the real
 * compiled tree (run `npm run build` first), the package closure over the real lockfile and over
 * small lockfiles that pin down Node's lookup, and the staging of both into a folder.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Lockfile, nodeImportGraph, packageClosure, packageName, stageNodeImage } from '../../../node-app/src/image/image-contents';

const REPO = path.resolve(__dirname, '..', '..', '..');
const DIST = path.join(REPO, 'dist');
const lock = (): Lockfile => JSON.parse(fs.readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as Lockfile;
const workspace = (): { dependencies: Record<string, string> } => JSON.parse(fs.readFileSync(path.join(REPO, 'node-app', 'package.json'), 'utf8'));

describe('the node import graph', () => {
  test('imports exactly the packages node-app/package.json declares', () => {
    expect(nodeImportGraph(DIST).packages).toEqual(Object.keys(workspace().dependencies).sort());
  });

  test('reaches the node and its browser client but no topology, terminal client, benchmark or scenario code', () => {
    const { files } = nodeImportGraph(DIST);
    expect(files).toEqual(expect.arrayContaining(['node-app/bin/chat-node.js', 'node-app/src/node/chat-node.js', 'node-app/src/clients/browser/serve.js']));
    const foreign = files.filter((f) => !f.startsWith('node-app/') || /^node-app\/(bench|src\/scenarios|src\/cluster|src\/clients\/(tui|cli))\//.test(f));
    expect(foreign).toEqual([]);
  });

  test('a require that resolves to no file is an error naming the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-graph-'));
    try {
      fs.writeFileSync(path.join(dir, 'main.js'), 'require("./gone");\n');
      expect(() => nodeImportGraph(dir, ['main.js'])).toThrow(/main\.js: require\("\.\/gone"\) resolves to no file/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the package closure', () => {
  test('of the real lockfile holds ws, better-sqlite3 and its loader, and none of the root package\'s libraries', () => {
    const closure = packageClosure(lock());
    expect(closure).toEqual(expect.arrayContaining(['node_modules/ws', 'node_modules/better-sqlite3', 'node_modules/bindings']));
    for (const p of ['cdktf', 'constructs', 'handlebars', 'ink', 'react', 'yaml', 'prebuild-install']) expect(closure).not.toContain(`node_modules/${p}`);
  });

  test('follows Node\'s lookup: a nested copy before the hoisted one, scoped names, optional dependencies only when installed', () => {
    const closure = packageClosure(
      {
        packages: {
          app: { dependencies: { a: '1', '@s/b': '1' }, optionalDependencies: { absent: '1' } },
          'node_modules/a': { dependencies: { c: '2' }, peerDependencies: { p: '1' }, peerDependenciesMeta: { p: { optional: true } } },
          'node_modules/a/node_modules/c': {},
          'node_modules/c': {},
          'node_modules/@s/b': { dependencies: { c: '1' } },
        },
      },
      'app',
    );
    expect(closure).toEqual(['node_modules/@s/b', 'node_modules/a', 'node_modules/a/node_modules/c', 'node_modules/c']);
  });

  test('a missing required dependency is an error naming who needs it', () => {
    expect(() => packageClosure({ packages: { app: { dependencies: { a: '1' } }, 'node_modules/a': { dependencies: { gone: '1' } } } }, 'app')).toThrow(
      'package-lock.json: node_modules/a needs gone, which is not installed',
    );
  });

  test('package names keep their scope and drop subpaths', () => {
    expect(['ws', 'ws/lib/sender', '@s/b', '@s/b/x'].map(packageName)).toEqual(['ws', 'ws', '@s/b', '@s/b']);
  });
});

describe('staging the image', () => {
  test('copies the graph, the browser client, the closure without build leftovers, and the workspace package.json', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'image-stage-'));
    try {
      const staged = stageNodeImage(REPO, out);
      expect(fs.readFileSync(path.join(out, 'package.json'), 'utf8')).toBe(fs.readFileSync(path.join(REPO, 'node-app', 'package.json'), 'utf8'));
      for (const f of staged.files) expect(fs.existsSync(path.join(out, 'dist', f))).toBe(true);
      for (const f of ['index.html', 'app.js']) expect(fs.existsSync(path.join(out, 'dist/node-app/src/clients/browser/public', f))).toBe(true);
      expect(fs.readdirSync(path.join(out, 'node_modules')).sort()).toEqual(staged.packages.map((p) => p.replace(/^node_modules\//, '')).sort());
      expect(fs.readdirSync(path.join(out, 'node_modules/better-sqlite3/build'))).toEqual(['Release']);
      expect(fs.readdirSync(path.join(out, 'node_modules/better-sqlite3/build/Release')).every((f) => f.endsWith('.node'))).toBe(true);
      expect(fs.existsSync(path.join(out, 'node_modules/better-sqlite3/deps/sqlite3/sqlite3.c'))).toBe(false);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  test('a package the node imports but the workspace does not declare stops the build', () => {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'image-undeclared-'));
    try {
      fs.cpSync(path.join(DIST, 'node-app'), path.join(repo, 'dist', 'node-app'), { recursive: true });
      fs.mkdirSync(path.join(repo, 'node-app'));
      fs.writeFileSync(path.join(repo, 'node-app', 'package.json'), JSON.stringify({ dependencies: { ws: '^8' } }));
      expect(() => stageNodeImage(repo, path.join(repo, 'out'))).toThrow('the node imports better-sqlite3, which node-app/package.json does not declare in "dependencies"');
      expect(fs.existsSync(path.join(repo, 'out'))).toBe(false);
    } finally {
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });
});
