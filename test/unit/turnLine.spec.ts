/**
 * The line of SMS waiting for a shared turn: who wakes, in what order, and when.
 */
import should from 'should';
import { TurnLine } from '../../src/sending/turnLine';

describe('the line of SMS waiting for a shared turn', () => {
  it('wakes those due together in one go, highest priority first, then in the order they first asked', async () => {
    const line = new TurnLine();
    const woke: string[] = [];
    const places = Array.from({ length: 6 }, () => line.place());
    // Told to wait for the same slot, but asking again in the reverse of their places, as timers would.
    const sleeping = [
      line.sleep(40, -2, places[5]).then(() => woke.push('confirmation 6')),
      line.sleep(41, -2, places[0]).then(() => woke.push('confirmation 1')),
      line.sleep(42, 0, places[4]).then(() => woke.push('flow 5')),
      line.sleep(40, 0, places[3]).then(() => woke.push('flow 4')),
      line.sleep(43, 1, places[2]).then(() => woke.push('retry 3')),
      line.sleep(39, -2, places[1]).then(() => woke.push('confirmation 2')),
    ];
    await Promise.all(sleeping);
    should(woke).eql(['retry 3', 'flow 4', 'flow 5', 'confirmation 1', 'confirmation 2', 'confirmation 6']);
  });

  it('does not wake one due later with those due now, nor before its time', async () => {
    const line = new TurnLine();
    const started = performance.now();
    const woke: Array<[string, number]> = [];
    const first = line.place();
    const second = line.place();
    await Promise.all([
      line.sleep(200, -2, first).then(() => woke.push(['later, though first in line', performance.now() - started])),
      line.sleep(20, -2, second).then(() => woke.push(['now', performance.now() - started])),
    ]);
    should(woke.map(([who]) => who)).eql(['now', 'later, though first in line']);
    // A timer fires no earlier than asked; the line wakes at most 5 ms early (it then waits again, briefly).
    should(woke[0][1]).be.aboveOrEqual(15);
    should(woke[1][1]).be.aboveOrEqual(195);
  });

  it('lets everyone go at once when it closes', async () => {
    const line = new TurnLine();
    const started = performance.now();
    const sleeping = [line.sleep(60_000, 0, line.place()), line.sleep(30_000, -2, line.place())];
    line.close();
    await Promise.all(sleeping);
    should(performance.now() - started).be.below(1000);
  });
});
