import { IStackSynthesizer, ISynthesisSession, Manifest, TerraformStack } from 'cdktf';
import * as fs from 'fs';
import * as path from 'path';
import { GeneratedFile } from '../files/generated-file';

/** cdktf's own output in the stack folder; kept because the cdktf CLI reads it after synth. */
const CDKTF_OUTPUT = 'cdk.tf.json';

/**
 * Wraps a stack's synthesizer: the original runs first (validations, cdk.tf.json), then every
 * GeneratedFile in the stack is rendered in memory and only then written, so a failing render
 * leaves the previous output untouched. Everything else in the stack folder is removed, because
 * the cdktf CLI never deletes stale files — except `preserve`: runtime state that lives beside the
 * Vagrantfile (Vagrant's machine folder, the swarm token files, saved images).
 */
export class FileSynthesizer implements IStackSynthesizer {
  /** Paths written by the last synth, for reporting. */
  written: string[] = [];

  constructor(
    private readonly stack: TerraformStack,
    private readonly inner: IStackSynthesizer,
    private readonly preserve: readonly string[] = [],
  ) {}

  synthesize(session: ISynthesisSession): void {
    this.inner.synthesize(session);
    const outdir = path.join(session.outdir, Manifest.stacksFolder, this.stack.node.id);
    const files = renderFiles(this.stack);
    cleanFolder(outdir, new Set([CDKTF_OUTPUT, ...this.preserve]));
    for (const [relPath, file] of files) {
      const target = path.join(outdir, relPath);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, file.content);
      fs.chmodSync(target, file.executable ? 0o755 : 0o644);
    }
    this.written = [...files.keys()];
  }
}

export interface RenderedFile {
  readonly content: string;
  readonly executable: boolean;
}

/** Every generated file of a stack, keyed by its path; two constructs claiming one path is an error. */
export function renderFiles(stack: TerraformStack): Map<string, RenderedFile> {
  const files = new Map<string, RenderedFile>();
  const owners = new Map<string, string>();
  for (const c of stack.node.findAll()) {
    if (!GeneratedFile.isGeneratedFile(c)) continue;
    const owner = owners.get(c.path);
    if (owner) {
      throw new Error(`two constructs write ${c.path}: ${owner} and ${c.node.path}; give each file its own path`);
    }
    owners.set(c.path, c.node.path);
    files.set(c.path, { content: c.render(), executable: c.executable });
  }
  return files;
}

function cleanFolder(dir: string, keep: ReadonlySet<string>): void {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir)) {
    if (!keep.has(entry)) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  }
}

/** Installs the wrapper on a stack; the one place this project touches cdktf's synthesizer hook. */
export function writeGeneratedFilesOnSynth(stack: TerraformStack, preserve: readonly string[]): void {
  stack.synthesizer = new FileSynthesizer(stack, stack.synthesizer, preserve);
}
