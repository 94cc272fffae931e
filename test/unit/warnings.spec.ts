/** Throttled warnings: a flood of one kind logs a line at once, then one a minute with the count. */
import { mock } from 'node:test';
import should from 'should';
import { throttledWarnings } from '../../src/node-red/warnings';

const interval = 40;

/** Lets `ms` pass on the fake clock a millisecond at a time, so that a timer set by a timer runs when it is due. */
const pass = (ms: number) => {
  for (let i = 0; i < ms; i += 1) mock.timers.tick(1);
};

describe('throttled warnings', () => {
  // Node's own fake timers: the intervals pass when the test says so, however busy the machine.
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('log the first of a kind at once, then the count of the rest once the interval ends', () => {
    const lines: string[] = [];
    const warnings = throttledWarnings((line) => lines.push(line), interval);
    for (let i = 0; i < 1000; i++) warnings.warn('refused', (count) => `refused ${count}`);
    warnings.warn('down', (count) => `down ${count}`);
    should(lines).eql(['refused 1', 'down 1']);
    pass(interval * 2.5);
    // 999 were held back in the first interval, none since: one line for them, nothing for 'down'.
    should(lines).eql(['refused 1', 'down 1', 'refused 999']);
    warnings.warn('refused', (count) => `refused ${count}`);
    should(lines).eql(['refused 1', 'down 1', 'refused 999', 'refused 1']);
    warnings.close();
  });

  it('log what is still counted when closed, and nothing after', () => {
    const lines: string[] = [];
    const warnings = throttledWarnings((line) => lines.push(line), interval);
    warnings.warn('refused', (count) => `refused ${count}`);
    warnings.warn('refused', (count) => `refused ${count}`);
    warnings.warn('refused', (count) => `refused again ${count}`);
    warnings.close();
    should(lines).eql(['refused 1', 'refused again 2']);
    pass(interval * 2);
    should(lines).eql(['refused 1', 'refused again 2']);
  });
});
