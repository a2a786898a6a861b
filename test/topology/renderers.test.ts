import { App } from 'cdktf';
import * as fs from 'fs';
import * as path from 'path';
import { GENERATED_MARKER, renderTemplate, rubyString, shellQuote, SwarmChatStack } from '../../src';
import { demoProps } from '../../stacks/demo';
import { buildApp } from '../../stacks/main';
import { cleanupTempDirs, readTree, stackDir, synthApp, tempDir } from './helpers';

afterAll(cleanupTempDirs);

describe('generated files', () => {
  let outdir: string;
  beforeAll(() => {
    outdir = tempDir();
    buildApp(outdir).synth();
  });

  it.each(['demo', 'five-nodes', 'lab'])('stack %s: every file carries the generated-file marker near its top', (stack) => {
    for (const [file, content] of Object.entries(readTree(stackDir(outdir, stack)))) {
      const head = content.split('\n').slice(0, 2).join('\n');
      expect({ file, hasMarker: head.includes(GENERATED_MARKER) }).toEqual({ file, hasMarker: true });
    }
  });

  it('keeps the shebang on line 1 of scripts and makes exactly the scripts executable', () => {
    const dir = stackDir(outdir, 'demo');
    for (const file of Object.keys(readTree(dir))) {
      const isScript = file.endsWith('.sh');
      const mode = fs.statSync(path.join(dir, file)).mode & 0o777;
      expect({ file, mode: mode.toString(8) }).toEqual({ file, mode: isScript ? '755' : '644' });
      if (isScript) expect(fs.readFileSync(path.join(dir, file), 'utf8').startsWith('#!/usr/bin/env bash\n# Generated')).toBe(true);
    }
  });
});

describe('re-synth', () => {
  it('removes files it no longer produces but keeps Vagrant and swarm runtime state', () => {
    const outdir = synthApp((app) => new SwarmChatStack(app, 'demo', demoProps()));
    const dir = stackDir(outdir, 'demo');
    fs.writeFileSync(path.join(dir, 'old-output.yml'), 'stale');
    fs.mkdirSync(path.join(dir, 'scripts', 'retired'), { recursive: true });
    fs.mkdirSync(path.join(dir, '.vagrant', 'machines'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'swarm-token.txt'), 'SWMTKN-1-x');
    fs.mkdirSync(path.join(dir, '.images'));
    fs.writeFileSync(path.join(dir, '.images', 'chat-node-demo.tar'), 'tar');
    synthApp((app) => new SwarmChatStack(app, 'demo', demoProps()), outdir);
    expect(fs.existsSync(path.join(dir, 'old-output.yml'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'scripts', 'retired'))).toBe(false);
    expect(fs.existsSync(path.join(dir, '.vagrant', 'machines'))).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'swarm-token.txt'), 'utf8')).toBe('SWMTKN-1-x');
    expect(fs.existsSync(path.join(dir, '.images', 'chat-node-demo.tar'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'scripts', 'deploy-demo.sh'))).toBe(true);
  });

  it('is deterministic: two synths give identical files', () => {
    const a = readTree(stackDir(synthApp((app) => buildAppInto(app)), 'demo'));
    const b = readTree(stackDir(synthApp((app) => buildAppInto(app)), 'demo'));
    expect(a).toEqual(b);
  });
});

function buildAppInto(app: App): void {
  new SwarmChatStack(app, 'demo', demoProps());
}

describe('template rendering', () => {
  it('quotes shell values so nothing inside is expanded', () => {
    expect(shellQuote('chat-node:demo')).toBe('chat-node:demo');
    expect(shellQuote("it's $HOME")).toBe(`'it'"'"'s $HOME'`);
  });

  it('writes ruby strings with interpolation and quotes neutralized', () => {
    expect(rubyString('a"b#{x}\\')).toBe('"a\\"b\\#{x}\\\\"');
  });

  it('never HTML-escapes, and fails on a value the template needs but the context lacks', () => {
    const dir = tempDir();
    const name = path.relative(path.resolve(__dirname, '../../templates'), path.join(dir, 't.hbs'));
    fs.writeFileSync(path.join(dir, 't.hbs'), 'echo "{{value}}" && {{#each list}}{{sh this}} {{/each}}');
    expect(renderTemplate(name, { value: '<a & "b">', list: ['x y', 'z'] })).toBe(`echo "<a & "b">" && 'x y' z `);
    fs.writeFileSync(path.join(dir, 'u.hbs'), '{{missing}}');
    expect(() => renderTemplate(name.replace('t.hbs', 'u.hbs'), {})).toThrow('"missing" not defined');
  });
});
