/**
 * Opt-out keywords, and the journal file that keeps an account's list across restarts: what a crash
 * can leave behind (a partial last line, a half-written rewrite) never costs the list before it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import should from 'should';
import { DEFAULT_KEYWORDS, keywordList, matchKeyword, mentionsStop, normaliseKeyword, OptedOutError, OptOutListFullError, type OptOutKeywords } from '../../src/sms/optOut';
import { OptOutJournal, openOptOutFile, optOutFileFor } from '../../src/state/optOutFile';

const DEFAULTS: OptOutKeywords = {
  stop: keywordList(undefined, DEFAULT_KEYWORDS.stop),
  start: keywordList('', DEFAULT_KEYWORDS.start),
  help: keywordList('  ', DEFAULT_KEYWORDS.help),
};

describe('opt-out keywords', () => {
  it('match the whole text, trimmed, in any case, ignoring trailing punctuation, symbols and extra spaces', () => {
    for (const text of ['STOP', 'stop', ' Stop ', 'STOP.', 'stop!!!', 'Stop 🛑', 'stopall', 'UnSubscribe', 'cancel', 'END', 'quit?', 'revoke', 'optout', 'opt out', 'OPT   OUT', 'opt out.\n']) {
      should(matchKeyword(text, DEFAULTS)).equal('stop', JSON.stringify(text));
    }
    for (const text of ['START', 'unstop', 'Yes', 'yes!']) should(matchKeyword(text, DEFAULTS)).equal('start', text);
    for (const text of ['help', 'INFO?']) should(matchKeyword(text, DEFAULTS)).equal('help', text);
  });

  it('do not match a text that merely contains one, or a long text', () => {
    for (const text of ['stop the car please', 'please stop', 'stopping', 'S T O P', 'STOP STOP', '', '   ', 'stop'.padEnd(200, '!'), 'x'.repeat(10_000)]) {
      should(matchKeyword(text, DEFAULTS) === undefined).be.true(JSON.stringify(text.slice(0, 30)));
    }
  });

  it('see through the ways a STOP is written on real phones: NFKC, invisible characters, punctuation and symbols around or inside', () => {
    const zw = ['\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD'];
    const texts = ['STOP ALL', 'OPT-OUT', 'OPT OUT', 'Stop.', 'STOP!!', 'ＳＴＯＰ', 'ｓｔｏｐ', '🛑 STOP', '-stop', '.stop', '"Stop"', '(stop)', 'Opt_Out', 'stop\u00A0all'];
    for (const mark of zw) texts.push(`S${mark}TOP`, `${mark}STOP`, `STOP${mark}`, `${mark}🛑${mark} stop${mark}`);
    for (const text of texts) should(matchKeyword(text, DEFAULTS)).equal('stop', JSON.stringify(text));
    should(normaliseKeyword('ＳＴＯＰ\u200B ａｌｌ')).equal('STOP ALL');
    should(matchKeyword('ＳＴＡＲＴ', DEFAULTS)).equal('start');
  });

  it('find a stop word in a text that is more than it, as a whole word only (SMS in marks it "maybe")', () => {
    for (const text of ['Stop texting me', 'please stop', 'stop the car please', 'STOP STOP', 'I said: STOP!', 'please opt-out me', 'Can you unsubscribe me?', 'x '.repeat(300) + 'stop']) {
      should(mentionsStop(text, DEFAULTS)).be.true(JSON.stringify(text.slice(-30)));
    }
    for (const text of ['stopping', 'S T O P', 'unstoppable', 'Hello', '', 'x '.repeat(400) + 'stop', 'nonstop']) {
      should(mentionsStop(text, DEFAULTS)).be.false(JSON.stringify(text.slice(-30)));
    }
  });

  it("read a config node's list: comma-separated, normalised like a text, empty for the defaults", () => {
    should([...keywordList('arrêt, Halt  now!, , stop', DEFAULT_KEYWORDS.stop)]).eql(['ARRÊT', 'HALT NOW', 'STOP']);
    should([...keywordList(undefined, DEFAULT_KEYWORDS.stop)]).eql(DEFAULT_KEYWORDS.stop);
    should([...keywordList('Opt-Out, ＳＴＯＰ', DEFAULT_KEYWORDS.stop)]).eql(['OPT OUT', 'STOP']);
    should(normaliseKeyword('  Opt\tOut ?! ')).equal('OPT OUT');
  });

  it('the error of an opted-out number names it, says when and why, and how it can be texted again', () => {
    const err = new OptedOutError({ number: '447700900001', since: '2026-12-02T05:40:12.345Z', source: 'keyword' });
    should(err.message).equal(
      'not sent to +447700900001: this number opted out on 2026-12-02 05:40:12 UTC (replied with an opt-out keyword such as STOP). Nothing was sent. It is texted again once it replies START, or once a flow removes it with an opt-out list node',
    );
  });
});

describe('the opt-out journal file', () => {
  let dir = '';
  let file = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vonage-optout-'));
    file = path.join(dir, 'vonage-sms', 'optouts-key.txt');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps adds and removes across a reopen, each on disk once its promise resolves', async () => {
    const list = new OptOutJournal(file);
    should(await list.add('447700900001', 'keyword')).be.true();
    should(await list.add('447700900001', 'list')).be.false();
    should(await list.add('447700900002', 'receipt')).be.true();
    should(await list.remove('447700900002')).be.true();
    should(await list.remove('447700900009')).be.false();
    // On disk already: read without closing.
    const again = new OptOutJournal(file);
    should(await again.list()).eql([{ number: '447700900001', since: list.check('447700900001')!.since, source: 'keyword' }]);
    should(again.check('447700900002')).be.undefined();
    await list.close();
  });

  it('loads what is before a partial last line (a crash while appending), and a leftover rewrite file is ignored', async () => {
    const list = new OptOutJournal(file);
    await list.add('447700900001', 'keyword');
    await list.add('447700900002', 'keyword');
    await list.close();
    fs.appendFileSync(file, '+4477009000');
    fs.writeFileSync(`${file}.tmp`, '+447700900099 2026-01-01T00:00:00.000Z list\n');
    const reopened = new OptOutJournal(file);
    should((await reopened.list()).map((e) => e.number)).eql(['447700900001', '447700900002']);
    should(fs.existsSync(`${file}.tmp`)).be.false();
    // Appending after the partial line starts a line of its own.
    await reopened.add('447700900003', 'list');
    await reopened.close();
    should((await new OptOutJournal(file).list()).map((e) => e.number)).eql(['447700900001', '447700900002', '447700900003']);
  });

  it('rewrites itself by rename when it holds far more lines than numbers, and many changes at once cost few writes', async () => {
    const list = new OptOutJournal(file);
    for (let round = 0; round < 3; round += 1) {
      await Promise.all(Array.from({ length: 500 }, (_, i) => list.add(`4477009${String(i).padStart(5, '0')}`, 'list')));
      await Promise.all(Array.from({ length: 500 }, (_, i) => list.remove(`4477009${String(i).padStart(5, '0')}`)));
    }
    await list.add('447700911111', 'keyword');
    await list.close();
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    // 3,001 changes; without the rewrite the journal would hold them all.
    should(lines.length).be.below(1100);
    should((await new OptOutJournal(file).list()).map((e) => e.number)).eql(['447700911111']);
  });

  it('refuses a number beyond its bound, and says so', async () => {
    const list = new OptOutJournal(file, 2);
    await list.add('447700900001', 'keyword');
    await list.add('447700900002', 'keyword');
    await should(list.add('447700900003', 'keyword')).be.rejectedWith(OptOutListFullError);
    should(await list.add('447700900001', 'keyword')).be.false();
    should(await list.size()).equal(2);
    await list.close();
  });

  it('reports a failed write, and the next change writes the whole list again', async () => {
    const list = new OptOutJournal(file);
    await list.add('447700900001', 'keyword');
    await list.close();
    // A directory where the file was: opening it to append fails (EISDIR), even for root.
    fs.rmSync(file);
    fs.mkdirSync(file);
    await should(list.add('447700900002', 'keyword')).be.rejectedWith(/the opt-out list could not be written to .*optouts-key\.txt \(EISDIR\)/);
    fs.rmdirSync(file);
    // Already in memory: honoured; and written whole with the next change, the failed one included.
    should(list.check('447700900002')).be.ok();
    should(await list.add('447700900002', 'keyword')).be.false();
    await list.close();
    should((await new OptOutJournal(file).list()).map((e) => e.number)).eql(['447700900001', '447700900002']);
  });

  it('is shared by every config node of the account in this Node-RED, and closed by the last', async () => {
    const one = openOptOutFile(file);
    const two = openOptOutFile(file);
    should(one.list).equal(two.list);
    await one.release();
    await one.release();
    await two.list.add('447700900001', 'keyword');
    await two.release();
    const three = openOptOutFile(file);
    should(three.list).not.equal(two.list);
    should(three.list.check('447700900001')).be.ok();
    await three.release();
  });

  it('names the file after the API key, or a hash of a key that is not a plain name', () => {
    should(optOutFileFor('/u', 'abcd1234')).equal(path.join('/u', 'vonage-sms', 'optouts-abcd1234.txt'));
    should(path.basename(optOutFileFor('/u', '../etc/passwd'))).match(/^optouts-[0-9a-f]{32}\.txt$/);
  });
});
