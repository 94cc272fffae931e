/**
 * Questions asked in the same tick (a burst of SMS), grouped by key and answered together: one round
 * trip to the shared state for up to `batchSize` of them, each answered as if it had asked alone.
 */
interface Asker<Q, A> {
  question: Q;
  resolve(answer: A): void;
  reject(err: unknown): void;
}

export class PerTick<Q, A> {
  private asked: Map<string, Array<Asker<Q, A>>> | undefined;

  /** @param answer answers a batch of one key's questions, in their order; a rejection rejects each. */
  constructor(
    private readonly batchSize: number,
    private readonly answer: (key: string, questions: Q[]) => Promise<A[]>,
  ) {}

  ask(key: string, question: Q): Promise<A> {
    return new Promise((resolve, reject) => {
      if (!this.asked) {
        this.asked = new Map();
        process.nextTick(() => this.answerAll());
      }
      const askers = this.asked.get(key);
      if (askers) askers.push({ question, resolve, reject });
      else this.asked.set(key, [{ question, resolve, reject }]);
    });
  }

  private answerAll(): void {
    const all = this.asked ?? new Map<string, Array<Asker<Q, A>>>();
    this.asked = undefined;
    for (const [key, askers] of all) {
      for (let i = 0; i < askers.length; i += this.batchSize) {
        const batch = askers.slice(i, i + this.batchSize);
        this.answer(
          key,
          batch.map((asker) => asker.question),
        ).then(
          (answers) => batch.forEach((asker, k) => asker.resolve(answers[k])),
          (err) => batch.forEach((asker) => asker.reject(err)),
        );
      }
    }
  }
}
