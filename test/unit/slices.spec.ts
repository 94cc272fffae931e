/** Work of a burst done a slice at a time, in order, with the event loop let go between slices. */
import should from 'should';
import { Slices } from '../../src/node-red/slices';

const busy = (ms: number) => {
  for (const end = performance.now() + ms; performance.now() < end;);
};

describe('Slices', () => {
  it('lets a burst go in order, and other work (a timer, I/O) run between its slices', async () => {
    const slices = new Slices(5);
    const order: number[] = [];
    let timerRanAfter: number | undefined;
    setTimeout(() => (timerRanAfter = order.length), 0);
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const turn = slices.turn();
        if (turn) await turn;
        busy(1);
        order.push(i);
      }),
    );
    should(order).eql(Array.from({ length: 60 }, (_, i) => i));
    // 60 ms of work in slices of 5 ms: the timer ran after some of it and before the rest.
    should(timerRanAfter).be.above(0);
    should(timerRanAfter).be.below(60);
  });

  it('lets a caller go at once while the slice has time left', () => {
    const slices = new Slices(50);
    should(slices.turn()).be.undefined();
    should(slices.turn()).be.undefined();
  });
});
