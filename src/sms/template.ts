/**
 * Mustache templates for the To, From and Text fields, over msg, flow, global and env,
 * in the manner of Node-RED's core template node: only the tags a template uses are resolved,
 * and flow/global values are read through the asynchronous context API so that persistent
 * context stores work. SMS is plain text, so nothing is HTML-escaped.
 */
import Mustache from 'mustache';

export type ContextScope = 'flow' | 'global';

/** Where a template's values come from; knows nothing of Node-RED itself. */
export interface TemplateSources {
  msg: unknown;
  env(name: string): unknown;
  context(scope: ContextScope, key: string, store: string | undefined): Promise<unknown>;
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

interface ContextTag {
  scope: ContextScope;
  store: string | undefined;
  key: string;
}

/** `flow.key`, `global.key`, or with a store: `flow[file].key`. */
function parseContextTag(name: string): ContextTag | undefined {
  const match = /^(flow|global)(?:\[(\w+)\])?\.(.+)$/.exec(name);
  if (!match) return undefined;
  return { scope: match[1] as ContextScope, store: match[2], key: match[3] };
}

function parseEnvTag(name: string): string | undefined {
  return /^env\.(.+)$/.exec(name)?.[1];
}

type Token = [string, string, number, number, Token[]?, ...unknown[]];
const NAMED_TOKENS = new Set(['name', '&', '#', '^']);

function collectTagNames(tokens: Token[], names: Set<string>): Set<string> {
  for (const token of tokens) {
    if (NAMED_TOKENS.has(token[0])) names.add(token[1]);
    if (Array.isArray(token[4])) collectTagNames(token[4], names);
  }
  return names;
}

/** Values that are not text become text a person can read in an SMS: objects as JSON. */
function asText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') {
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/** A mustache context whose env/flow/global tags come from values resolved before rendering. */
class ResolvedContext extends Mustache.Context {
  constructor(
    view: unknown,
    private readonly resolved: Map<string, unknown>,
    parent?: Mustache.Context,
  ) {
    super(view, parent);
  }

  override lookup(name: string): unknown {
    if (this.resolved.has(name)) return this.resolved.get(name);
    return super.lookup(name);
  }

  override push(view: unknown): Mustache.Context {
    return new ResolvedContext(view, this.resolved, this);
  }
}

export class SmsTemplate {
  /** The tag names the template uses, e.g. `msg.payload.msisdn`, `flow.greeting`. */
  readonly tags: ReadonlySet<string>;
  /** True when the template has no tags at all: its source is its value. */
  readonly isFixed: boolean;

  /** @param field the field's label, named in errors (e.g. "To"). */
  constructor(
    readonly source: string,
    readonly field: string,
  ) {
    let tokens: Token[];
    try {
      tokens = Mustache.parse(source) as unknown as Token[];
    } catch (err) {
      throw new TemplateError(`${field}: the template does not parse: ${(err as Error).message}`);
    }
    this.tags = collectTagNames(tokens, new Set());
    this.isFixed = this.tags.size === 0;
  }

  /**
   * Renders the template: at once (a string) unless a flow or global tag must be read from context,
   * which may be asynchronous (a promise). Throws, or rejects, with what mustache throws.
   */
  render(sources: TemplateSources): string | Promise<string> {
    if (this.isFixed) return this.source;
    const resolved = new Map<string, unknown>();
    let reads: Promise<void>[] | undefined;
    for (const name of this.tags) {
      const envName = parseEnvTag(name);
      if (envName !== undefined) {
        resolved.set(name, sources.env(envName));
        continue;
      }
      const tag = parseContextTag(name);
      if (tag) {
        (reads ??= []).push(
          sources.context(tag.scope, tag.key, tag.store).then((value) => {
            resolved.set(name, value);
          }),
        );
      }
    }
    if (!reads) return this.fill(sources, resolved);
    return Promise.all(reads).then(() => this.fill(sources, resolved));
  }

  private fill(sources: TemplateSources, resolved: Map<string, unknown>): string {
    const context = new ResolvedContext({ msg: sources.msg }, resolved);
    return Mustache.render(this.source, context, {}, { escape: asText });
  }
}
