#!/usr/bin/env node
/*
 * Entry point of `npm run synth` and of cdktf.json's app. Type-checking the whole tree with tsc
 * takes 4-5 s here, far over the 2 s synth budget, so this transpiles only the infrastructure
 * sources (src/, stacks/) whose compiled file is missing or older than the source, with the
 * root tsconfig's options, and then runs dist/stacks/main.js. `npm run build` and `npm test`
 * still type-check everything.
 */
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const sourceDirs = ['src', 'stacks'];

function tsFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...tsFiles(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

function staleFiles() {
  const stale = [];
  for (const dir of sourceDirs) {
    for (const source of tsFiles(path.join(root, dir))) {
      const target = path.join(root, 'dist', path.relative(root, source)).replace(/\.ts$/, '.js');
      if (!fs.existsSync(target) || fs.statSync(target).mtimeMs < fs.statSync(source).mtimeMs) stale.push([source, target]);
    }
  }
  return stale;
}

function transpile(files) {
  // Loaded only when something changed: requiring typescript alone costs about half a second.
  const ts = require('typescript');
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  const options = { ...parsed.options, sourceMap: false, inlineSourceMap: false, declaration: false, incremental: false };
  for (const [source, target] of files) {
    const output = ts.transpileModule(fs.readFileSync(source, 'utf8'), { compilerOptions: options, fileName: source });
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, output.outputText);
  }
}

const stale = staleFiles();
if (stale.length) transpile(stale);
require(path.join(root, 'dist', 'stacks', 'main.js')).main();
