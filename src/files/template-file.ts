import { Construct } from 'constructs';
import * as fs from 'fs';
import Handlebars from 'handlebars';
import * as path from 'path';
import { CommentStyle, GeneratedFile, GeneratedFileProps } from './generated-file';

/** `templates/` at the project root, found from either `src/` (ts-jest) or `dist/src/` (compiled). */
export function templatesDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'templates');
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`templates/ folder not found above ${__dirname}`);
}

/** Single-quoted for POSIX shells: nothing inside is expanded. */
export function shellQuote(value: unknown): string {
  const text = String(value);
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'"'"'`)}'`;
}

/** A Ruby double-quoted literal with interpolation (`#{`) and escapes neutralized. */
export function rubyString(value: unknown): string {
  return '"' + String(value).replace(/[\\"#]/g, (c) => '\\' + c).replace(/\n/g, '\\n') + '"';
}

const handlebars = Handlebars.create();
handlebars.registerHelper('sh', (v: unknown) => shellQuote(v));
handlebars.registerHelper('ruby', (v: unknown) => rubyString(v));
handlebars.registerHelper('json', (v: unknown) => JSON.stringify(v));
handlebars.registerHelper('eq', (a: unknown, b: unknown) => a === b);
handlebars.registerHelper('join', (list: unknown[], sep: unknown) => list.join(typeof sep === 'string' ? sep : ' '));

const compiled = new Map<string, Handlebars.TemplateDelegate>();

/**
 * Renders `templates/<name>`. noEscape: output is shell, Ruby and Markdown, never HTML, so HTML
 * entities would corrupt it; strict: a missing context value is an error, never an empty string.
 */
export function renderTemplate(name: string, context: object): string {
  let template = compiled.get(name);
  if (!template) {
    const source = fs.readFileSync(path.join(templatesDir(), name), 'utf8');
    template = handlebars.compile(source, { noEscape: true, strict: true });
    compiled.set(name, template);
  }
  try {
    return template(context);
  } catch (err) {
    throw new Error(`template ${name}: ${(err as Error).message}`);
  }
}

export interface TemplateFileProps extends Omit<GeneratedFileProps, 'commentStyle'> {
  readonly template: string;
  /** Evaluated at synth. */
  readonly context: () => object;
  /** @default CommentStyle.HASH */
  readonly commentStyle?: CommentStyle;
}

export class TemplateFile extends GeneratedFile {
  private readonly template: string;
  private readonly context: () => object;

  constructor(scope: Construct, id: string, props: TemplateFileProps) {
    super(scope, id, { ...props, commentStyle: props.commentStyle ?? CommentStyle.HASH });
    this.template = props.template;
    this.context = props.context;
  }

  protected renderBody(): string {
    return renderTemplate(this.template, this.context());
  }
}
