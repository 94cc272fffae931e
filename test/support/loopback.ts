/** A loopback Vonage SMS API for one describe block: listening before, closed after, reset (and flows unloaded) after each test. */
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
    api.reset();
    for (const account of accounts) Object.assign(api.account(account.apiKey)!, account);
    await helper.unload();
  });
  return {
    api,
    get restHost() {
      return restHost;
    },
  };
}
