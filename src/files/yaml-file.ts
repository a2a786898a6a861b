import { Construct } from 'constructs';
import { Document } from 'yaml';
import { CommentStyle, GeneratedFile } from './generated-file';

/**
 * Serializes a plain object model. YAML 1.1 rules are used on output so strings such as "yes",
 * "on" or "0755", which 1.1 readers (Docker's Go parser among them) would turn into booleans and
 * octal numbers, come out quoted.
 */
export function toYaml(model: unknown): string {
  const doc = new Document(model, { version: '1.1' });
  return doc.toString({ lineWidth: 0 });
}

export class YamlFile extends GeneratedFile {
  private readonly model: () => unknown;

  constructor(scope: Construct, id: string, props: { readonly path: string; readonly model: () => unknown }) {
    super(scope, id, { path: props.path, commentStyle: CommentStyle.HASH });
    this.model = props.model;
  }

  protected renderBody(): string {
    return toYaml(this.model());
  }
}
