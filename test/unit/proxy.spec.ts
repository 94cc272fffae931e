/**
 * Which proxy a request to a Vonage API host takes (proxy.ts): the environment's variables as Node-RED's
 * http request node reads them, an http proxy node's settings, the no-proxy rules, and a proxy URL that
 * cannot be used, said without its credentials. The wire itself (CONNECT, absolute form, refusals) is
 * tested with a real proxy process in test/proxy.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import should from 'should';
import { ApiConnection } from '../../src/vonage/apiConnection';
import { bypassed, ProxyError, proxyFor, proxyFromEnvironment, proxyFromNode } from '../../src/vonage/proxy';
import { SmsSendError, transportFailure } from '../../src/vonage/client';

describe('proxy settings', () => {
  describe('from the environment', () => {
    it('takes https_proxy for an https host and http_proxy for an http one', () => {
      const settings = proxyFromEnvironment({ https_proxy: 'http://secure-proxy:3128', http_proxy: 'http://plain-proxy:8080' });
      should(proxyFor('https://rest.nexmo.com', settings)).match({ host: 'secure-proxy', port: 3128, label: 'http://secure-proxy:3128' });
      should(proxyFor('http://127.0.0.1:1881', settings)).match({ host: 'plain-proxy', port: 8080, label: 'http://plain-proxy:8080' });
    });

    it('reads the upper-case names, the lower-case ones winning when both are set (as Node-RED does)', () => {
      should(proxyFor('https://rest.nexmo.com', proxyFromEnvironment({ HTTPS_PROXY: 'http://upper:1' }))?.host).equal('upper');
      should(proxyFor('https://rest.nexmo.com', proxyFromEnvironment({ HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:1' }))?.host).equal('lower');
      should(proxyFor('https://rest.nexmo.com', proxyFromEnvironment({ https_proxy: 'http://p:1', NO_PROXY: 'rest.nexmo.com' }))).be.undefined();
    });

    it('goes direct without a variable for the host scheme', () => {
      should(proxyFor('https://rest.nexmo.com', proxyFromEnvironment({ http_proxy: 'http://plain:8080' }))).be.undefined();
      should(proxyFor('https://rest.nexmo.com', proxyFromEnvironment({}))).be.undefined();
    });

    it('takes a proxy written without a scheme as http://, on port 80 when it names none', () => {
      should(proxyFor('https://rest.nexmo.com', proxyFromEnvironment({ https_proxy: 'proxy.corp:3128' }))).match({ host: 'proxy.corp', port: 3128, label: 'http://proxy.corp:3128' });
      should(proxyFor('https://rest.nexmo.com', proxyFromEnvironment({ https_proxy: 'http://proxy.corp' }))).match({ port: 80, label: 'http://proxy.corp' });
    });

    it('sends the user and password of the URL as Proxy-Authorization, and names the proxy without them', () => {
      const proxy = proxyFor('https://rest.nexmo.com', proxyFromEnvironment({ https_proxy: 'http://me%40corp:s3cr%3At@proxy.corp:3128' }))!;
      should(proxy.authorization).equal(`Basic ${Buffer.from('me@corp:s3cr:t').toString('base64')}`);
      should(proxy.label).equal('http://proxy.corp:3128');
    });
  });

  describe('from an http proxy node', () => {
    it('applies its URL to both schemes, its list, and its credentials over those of the URL', () => {
      const settings = proxyFromNode({ name: 'Corp', url: 'http://old:old@proxy.corp:3128', noproxy: ['intranet.corp', ' .local '], credentials: { username: 'me', password: 'pw' } });
      should(proxyFor('https://api.nexmo.com', settings)).match({ host: 'proxy.corp', authorization: `Basic ${Buffer.from('me:pw').toString('base64')}` });
      should(proxyFor('http://127.0.0.1:1881', settings)).match({ host: 'proxy.corp' });
      should(proxyFor('http://printer.local', settings)).be.undefined();
      should(settings.source).equal('the http proxy node "Corp"');
    });

    it("replaces both the URL's user and password when it has either, as Node-RED does", () => {
      const settings = proxyFromNode({ url: 'http://old:old-pass@proxy.corp:3128', credentials: { username: 'me' } });
      should(proxyFor('https://api.nexmo.com', settings)?.authorization).equal(`Basic ${Buffer.from('me:').toString('base64')}`);
      const none = proxyFromNode({ url: 'http://old:old-pass@proxy.corp:3128', credentials: {} });
      should(proxyFor('https://api.nexmo.com', none)?.authorization).equal(`Basic ${Buffer.from('old:old-pass').toString('base64')}`);
    });

    it('refuses a node without a URL', () => {
      should(() => proxyFromNode({ url: '  ' })).throw(/the http proxy node has no URL/);
    });
  });

  describe('a proxy URL that cannot be used', () => {
    it('is refused in words that hold neither its user nor its password', () => {
      for (const url of ['https://me:hunter2@proxy.corp:3128', 'socks5://me:hunter2@proxy.corp:1080']) {
        let error: Error | undefined;
        try {
          proxyFor('https://rest.nexmo.com', proxyFromEnvironment({ https_proxy: url }));
        } catch (err) {
          error = err as Error;
        }
        should(error?.message).match(/is not an http:\/\/ URL: only HTTP proxies are supported/);
        should(error?.message).not.containEql('hunter2');
        should(error?.message).not.containEql('me:');
      }
      let error: Error | undefined;
      try {
        proxyFor('https://rest.nexmo.com', proxyFromEnvironment({ https_proxy: 'http://me:hunter2@[bad' }));
      } catch (err) {
        error = err as Error;
      }
      should(error?.message).match(/is not a URL/);
      should(error?.message).not.containEql('hunter2');
    });
  });

  describe('no_proxy', () => {
    const cases: Array<[string, number, string[], boolean]> = [
      ['rest.nexmo.com', 443, ['*'], true],
      ['rest.nexmo.com', 443, ['rest.nexmo.com'], true],
      ['rest.nexmo.com', 443, ['REST.NEXMO.COM'], true],
      ['rest.nexmo.com', 443, ['nexmo.com'], false],
      ['rest.nexmo.com', 443, ['.nexmo.com'], true],
      ['rest.nexmo.com', 443, ['*.nexmo.com'], true],
      ['nexmo.com', 443, ['.nexmo.com'], false],
      ['rest.nexmo.com', 443, ['rest.nexmo.com:443'], true],
      ['rest.nexmo.com', 443, ['rest.nexmo.com:8443'], false],
      ['127.0.0.1', 1881, ['127.0.0.0/8'], true],
      ['10.1.2.3', 443, ['10.0.0.0/16'], false],
      ['10.0.2.3', 443, ['10.0.0.0/16'], true],
      ['rest.nexmo.com', 443, ['0.0.0.0/0'], false],
      ['127.0.0.1', 1881, ['127.0.0.1:1881'], true],
      ['127.0.0.1', 1881, ['127.0.0.1:1882'], false],
      ['[::1]', 1881, ['::1'], true],
      ['[::1]', 1881, ['[::1]:1881'], true],
      ['[::1]', 1881, ['::/0'], true],
      ['127.0.0.1', 1881, ['not/a/cidr', '300.0.0.0/8', '127.0.0.0/99'], false],
      ['rest.nexmo.com', 443, ['', 'intranet', 'rest.nexmo.com'], true],
    ];
    for (const [host, port, list, direct] of cases) {
      it(`${host}:${port} with ${JSON.stringify(list)} goes ${direct ? 'direct' : 'through the proxy'}`, () => {
        should(bypassed(host, port, list)).equal(direct);
      });
    }

    it('reads the environment list split at commas and spaces', () => {
      const settings = proxyFromEnvironment({ https_proxy: 'http://p:1', no_proxy: 'intranet, .nexmo.com  localhost' });
      should(settings.noProxy).eql(['intranet', '.nexmo.com', 'localhost']);
      should(proxyFor('https://api.nexmo.com', settings)).be.undefined();
    });
  });

  describe('a refusal, as the SMS error', () => {
    const proxy = { host: 'proxy.corp', port: 3128, label: 'http://proxy.corp:3128' };

    it('says the proxy refused, names it, and that the SMS was not sent; a 407 is not worth retrying', () => {
      const error = transportFailure(ProxyError.refused(proxy, 'rest.nexmo.com:443', 407, 'Proxy Authentication Required'), 'https://rest.nexmo.com', 10_000, '447700900123');
      should(error).be.instanceOf(SmsSendError);
      should(error.message).equal(
        'the proxy http://proxy.corp:3128 refused to carry the request to rest.nexmo.com:443 (HTTP 407 Proxy Authentication Required: it asks for a user and password, and those given are missing or wrong); the SMS to 447700900123 was not sent',
      );
      should(error.mayHaveBeenSent).be.false();
      should(error.kind).equal('http');
      should(error.shortReason).equal('proxy refused (HTTP 407)');
    });

    it('a 502 or a proxy out of reach is a connection failure, not sent, retried as one', () => {
      const refused = transportFailure(ProxyError.refused(proxy, 'rest.nexmo.com:443', 502, 'Bad Gateway'), 'https://rest.nexmo.com', 10_000, '447700900123');
      should(refused.message).match(/HTTP 502 Bad Gateway: it could not reach rest\.nexmo\.com:443\); the SMS to 447700900123 was not sent$/);
      should(refused).match({ kind: 'connection', mayHaveBeenSent: false });
      const unreachable = transportFailure(ProxyError.unreachable(proxy, 'ECONNREFUSED'), 'https://rest.nexmo.com', 10_000, '447700900123');
      should(unreachable.message).equal('could not connect to the proxy http://proxy.corp:3128 (ECONNREFUSED); the SMS to 447700900123 was not sent');
      should(unreachable).match({ kind: 'connection', mayHaveBeenSent: false, shortReason: 'cannot reach the proxy (ECONNREFUSED)' });
    });
  });

  describe('a burst through a slow proxy', () => {
    it("opens at most 50 tunnels at once, the rest waiting their turn; each request gets the proxy's refusal", async function () {
      this.timeout(20_000);
      // A proxy that takes 200 ms to refuse each CONNECT: it sees how many are open at once.
      let open = 0;
      let most = 0;
      let seen = 0;
      const targets = new Set<string>();
      const proxyServer = http.createServer();
      proxyServer.on('connect', (req, socket) => {
        seen += 1;
        targets.add(String(req.url));
        open += 1;
        most = Math.max(most, open);
        setTimeout(() => {
          open -= 1;
          socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
        }, 200);
      });
      await new Promise<void>((resolve) => proxyServer.listen(0, '127.0.0.1', resolve));
      const port = (proxyServer.address() as AddressInfo).port;
      const connection = new ApiConnection('https://[::1]:8443', 10_000, { host: '127.0.0.1', port, label: `http://127.0.0.1:${port}` });
      try {
        const outcomes = await Promise.allSettled(Array.from({ length: 120 }, () => connection.request('GET', '/account/get-balance', {})));
        should(seen).equal(120);
        should(most).be.within(1, 50);
        should(outcomes.every((o) => o.status === 'rejected' && (o.reason as ProxyError).status === 502)).be.true();
        // An IPv6 host is written in brackets on the CONNECT line.
        should([...targets]).eql(['[::1]:8443']);
      } finally {
        connection.close();
        proxyServer.close();
      }
    });
  });
});
