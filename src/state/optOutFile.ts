/**
 * The opt-out list of an account without a shared state: in memory, and in a file of Node-RED's
 * user directory, so that it survives a restart with default settings and nothing configured.
 * (Node-RED's persistent context would need a `contextStorage` setting, which most installs lack.)
 *
 * The file is a journal: one line a change (`+447700900001 2026-12-02T05:40:00.000Z keyword`,
 * `-447700900001`, or `-447700900001 2026-12-02T06:00:00.000Z keyword` for a START, whose time is
 * remembered), appended and flushed to disk before the change resolves. A file a person wrote or edited
 * is read as forgivingly as it can be: Windows line ends, a byte order mark, blank lines, `#` comments and
 * numbers without a mark (an opt-out); a line that is none of these is skipped and named by its number
 * (`unreadable`), which the config node logs. A crash while
 * appending leaves at most a partial last line, which loading ignores: the list before it is
 * intact. When the journal holds many more lines than numbers, it is rewritten in a temporary file
 * that replaces it by rename, which is atomic: the old journal or the new one, never half of either.
 * Every config node with the same API key in this Node-RED shares one list (openOptOutFile).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { changeTime, isOptOutSource, MAX_OPT_OUTS, OptOutListFullError, REMOVALS_KEPT_MS, MAX_REMOVALS, type OptOutEntry, type OptOutSource } from '../sms/optOut';
import type { OptOutList } from './accountState';

/** Entries as a small string each ("<since> <source>"): 100,000 numbers in a few MB. */
export class MemoryOptOutList implements OptOutList {
  protected readonly entries = new Map<string, string>();
  /** When a keyword last took a number off (or found it off): a START older than a STOP, or a STOP older than a START, changes nothing. */
  protected readonly removed = new Map<string, string>();
  readonly where: string = 'memory';

  constructor(private readonly maxNumbers = MAX_OPT_OUTS) {}

  /** Stores a change; in memory there is nothing to store. */
  protected async persist(_line: string): Promise<void> {}

  check(number: string): OptOutEntry | undefined {
    const value = this.entries.get(number);
    return value === undefined ? undefined : entryOf(number, value);
  }

  async add(number: string, source: OptOutSource, at?: string): Promise<boolean> {
    const when = changeTime(at);
    const removedAt = at === undefined ? undefined : this.removed.get(number);
    if (this.entries.has(number) || (removedAt !== undefined && laterSecond(removedAt, when))) {
      await this.persist('');
      return false;
    }
    if (this.entries.size >= this.maxNumbers) throw new OptOutListFullError(this.where, this.maxNumbers);
    const value = `${when} ${source}`;
    this.entries.set(number, value);
    this.removed.delete(number);
    await this.persist(`+${number} ${value}\n`);
    return true;
  }

  async remove(number: string, at?: string): Promise<boolean> {
    if (at === undefined) {
      const had = this.entries.delete(number);
      await this.persist(had ? `-${number}\n` : '');
      return had;
    }
    const when = changeTime(at);
    const value = this.entries.get(number);
    if (value !== undefined && laterSecond(value.slice(0, value.indexOf(' ')), when)) {
      await this.persist('');
      return false;
    }
    this.entries.delete(number);
    this.rememberRemoval(number, when);
    await this.persist(`-${number} ${when} keyword\n`);
    return value !== undefined;
  }

  /** Kept for REMOVALS_KEPT_MS (longer than Vonage retries a webhook), and at most MAX_REMOVALS. */
  protected rememberRemoval(number: string, when: string): void {
    this.removed.delete(number);
    this.removed.set(number, when);
    const oldest = new Date(Date.now() - REMOVALS_KEPT_MS).toISOString();
    for (const [first, time] of this.removed) {
      if (this.removed.size <= MAX_REMOVALS && time >= oldest) break;
      this.removed.delete(first);
    }
  }

  async list(): Promise<OptOutEntry[]> {
    return [...this.entries].map(([number, value]) => entryOf(number, value)).sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0));
  }

  async size(): Promise<number> {
    return this.entries.size;
  }
}

/**
 * Whether one ISO time is in a later second than another: the SMS API's `message-timestamp` has whole
 * seconds, so a keyword in the same second as a change is not older than it.
 */
const laterSecond = (a: string, b: string) => a.slice(0, 19) > b.slice(0, 19);

function entryOf(number: string, value: string): OptOutEntry {
  const space = value.indexOf(' ');
  return { number, since: value.slice(0, space), source: value.slice(space + 1) as OptOutSource };
}

const LINE = /^([+-])(\d{3,15})(?: (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z) ([a-z]+))?$/;
/** A number as a person may write it in a list: an optional `+`, digits, spaces, dashes, dots, brackets. */
const WRITTEN_NUMBER = /^\+?[\d\s().-]+$/;
/** Line numbers named at most in the warning about unreadable lines. */
export const UNREADABLE_NAMED = 20;

type Waiter = { resolve: () => void; reject: (err: Error) => void };

export class OptOutJournal extends MemoryOptOutList {
  override readonly where: string;
  /** Lines in the file: when far more than numbers, the file is rewritten. */
  private lines = 0;
  private handle: fs.promises.FileHandle | undefined;
  private queued = '';
  private waiters: Waiter[] = [];
  private writing: Promise<void> | undefined;
  /** A write failed: what the file holds is unknown, so the next write rewrites it whole. */
  private broken = false;

  constructor(
    readonly file: string,
    maxNumbers?: number,
  ) {
    super(maxNumbers);
    this.where = file;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // What a crash while rewriting left behind: the journal itself is still whole.
    fs.rmSync(`${file}.tmp`, { force: true });
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    // A crash while appending left a partial last line: the next change rewrites the file rather than append to it.
    if (text !== '' && !text.endsWith('\n')) this.broken = true;
    this.read(text);
  }

  /** Line numbers (from 1) of the lines that are neither a change nor a number, blank nor a comment. */
  readonly unreadable: number[] = [];
  unreadableCount = 0;
  /** Whether a config node has logged the unreadable lines (the file is shared by the config nodes of one key). */
  unreadableReported = false;

  private read(text: string): void {
    const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
    const now = new Date().toISOString();
    const removalsFrom = new Date(Date.now() - REMOVALS_KEPT_MS).toISOString();
    lines.forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      this.lines += 1;
      const match = LINE.exec(line);
      // The last line, unfinished: what a crash while appending leaves, or a file written without a final line end.
      const unfinished = i === lines.length - 1 && this.broken;
      // The journal writes `+` with a time: an unfinished `+4477009` without one may be cut short.
      if (match && !(unfinished && match[1] === '+' && !match[3])) {
        const [, mark, number, time, source] = match;
        if (mark === '-') {
          this.entries.delete(number);
          if (time && time >= removalsFrom) this.rememberRemoval(number, time);
        } else {
          this.entries.set(number, time && isOptOutSource(source) ? `${time} ${source}` : `${now} list`);
          this.removed.delete(number);
        }
        return;
      }
      // A number as a person writes it, without a mark: an opt-out.
      const digits = line.replace(/[\s().+-]/g, '');
      if (!match && WRITTEN_NUMBER.test(line) && !line.startsWith('-') && /^\d{3,15}$/.test(digits)) {
        this.entries.set(digits, `${now} list`);
        this.removed.delete(digits);
        return;
      }
      // Part of a journal line, cut by a crash: no person's mistake.
      if (unfinished && !match && /^[+-]\d+ \d/.test(line)) return;
      this.unreadableCount += 1;
      if (this.unreadable.length < UNREADABLE_NAMED) this.unreadable.push(i + 1);
    });
  }

  /** Resolves once the line (with every line before it) is on disk; '' waits for what is queued. */
  protected override persist(line: string): Promise<void> {
    if (line === '' && !this.broken && !this.writing) return Promise.resolve();
    this.queued += line;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.writing ??= this.flush();
    return done;
  }

  /** Writes what is queued, one batch at a time: many changes at once cost one write and one sync. */
  private async flush(): Promise<void> {
    while (this.waiters.length > 0) {
      const text = this.queued;
      const waiters = this.waiters;
      this.queued = '';
      this.waiters = [];
      try {
        if (this.broken || this.lines > Math.max(1000, 2 * (this.entries.size + this.removed.size))) await this.rewrite();
        else if (text) {
          this.handle ??= await fs.promises.open(this.file, 'a');
          await this.handle.appendFile(text);
          await this.handle.datasync();
          this.lines += text.split('\n').length - 1;
        }
        for (const waiter of waiters) waiter.resolve();
      } catch (err) {
        this.broken = true;
        await this.handle?.close().catch(() => {});
        this.handle = undefined;
        const failure = new Error(`the opt-out list could not be written to ${this.file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        for (const waiter of waiters) waiter.reject(failure);
      }
    }
    this.writing = undefined;
  }

  /** The whole list, written beside the journal and renamed over it. */
  private async rewrite(): Promise<void> {
    const tmp = `${this.file}.tmp`;
    const out = await fs.promises.open(tmp, 'w');
    try {
      let text = '';
      for (const [number, value] of this.entries) {
        text += `+${number} ${value}\n`;
        if (text.length > 1 << 20) {
          await out.appendFile(text);
          text = '';
        }
      }
      for (const [number, time] of this.removed) {
        text += `-${number} ${time} keyword\n`;
        if (text.length > 1 << 20) {
          await out.appendFile(text);
          text = '';
        }
      }
      await out.appendFile(text);
      await out.datasync();
    } finally {
      await out.close();
    }
    await this.handle?.close();
    this.handle = undefined;
    await fs.promises.rename(tmp, this.file);
    this.lines = this.entries.size + this.removed.size;
    this.broken = false;
  }

  /** Resolves once every change is on disk. */
  async close(): Promise<void> {
    while (this.writing) await this.writing;
    await this.handle?.close();
    this.handle = undefined;
  }
}

const open = new Map<string, { journal: OptOutJournal; users: number }>();

/**
 * The list kept in this file, shared by every config node that asks for it; `release` when the node
 * closes: the last one closes the file once every change is on disk.
 */
export function openOptOutFile(file: string): { list: OptOutJournal; release: () => Promise<void> } {
  let opened = open.get(file);
  if (!opened) open.set(file, (opened = { journal: new OptOutJournal(file), users: 0 }));
  opened.users += 1;
  const it = opened;
  let released = false;
  return {
    list: it.journal,
    release: async () => {
      if (released) return;
      released = true;
      it.users -= 1;
      if (it.users > 0) return;
      if (open.get(file) === it) open.delete(file);
      await it.journal.close();
    },
  };
}

/** The file of an account's list in Node-RED's user directory; an API key that is not a plain name is hashed. */
export function optOutFileFor(userDir: string, apiKey: string): string {
  const name = /^[0-9A-Za-z_-]{1,64}$/.test(apiKey) ? apiKey : createHash('sha256').update(apiKey).digest('hex').slice(0, 32);
  return path.join(userDir, 'vonage-sms', `optouts-${name}.txt`);
}
