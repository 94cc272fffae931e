/** A loopback Vonage API for one describe block: listening before, closed after, reset with its accounts as given (once the flows are unloaded) after each test. */
import { LoopbackVonageSmsApi, type LoopbackAccount } from '../../dev/loopback/vonageSmsApi';
import { helper } from './nodeRed';

export function useLoopbackApi(accounts: LoopbackAccount[]): { api: LoopbackVonageSmsApi; readonly restHost: string } {
  const api = new LoopbackVonageSmsApi(accounts);
  let restHost = '';
  before(async () => {
    restHost = await api.listen();
  });
  after(() => api.close());
  afterEach(async () => {
    // The flows stop first: an SMS a test left being sent finishes (Send SMS waits for it), one left
    // waiting fails, so that nothing of this test reaches the API once it starts afresh for the next.
    await helper.unload();
    api.reset();
    // A fresh copy of each account: what a test changed or added (a balance, a rate) is gone.
    for (const account of accounts) api.addAccount(account);
  });
  return {
    api,
    get restHost() {
      return restHost;
    },
  };
}
