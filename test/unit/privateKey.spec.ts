/**
 * The Messages API private key as people paste it (issue 20, item 11b): with its line breaks, without
 * them (a password field), or with them written as the two characters `\n`, as `.env` files and secret
 * stores hold it. Errors never quote the key.
 */
import crypto from 'node:crypto';
import should from 'should';
import { privateKeyOf } from '../../src/vonage/messagesClient';

describe('privateKeyOf', () => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

  /** The key read signs what the generated public key verifies: it is the same key. */
  function isTheKey(key: crypto.KeyObject): void {
    const signature = crypto.sign('sha256', Buffer.from('payload'), key);
    should(crypto.verify('sha256', Buffer.from('payload'), publicKey, signature)).be.true();
  }

  const forms: Array<[string, string]> = [
    ['as exported', pkcs8],
    ['its line breaks lost (spaces)', pkcs8.replace(/\n/g, ' ')],
    ['its line breaks written as \\n', pkcs8.replace(/\n/g, '\\n')],
    ['its line breaks written as \\r\\n', pkcs8.replace(/\n/g, '\\r\\n')],
    ['in .env quotes with \\n', `"${pkcs8.trimEnd().replace(/\n/g, '\\n')}"`],
    ['PKCS #1 with \\n', pkcs1.replace(/\n/g, '\\n')],
  ];
  for (const [name, text] of forms) {
    it(`reads a key ${name}`, () => {
      should(text.includes('\n') && name.includes('\\n')).be.false();
      isTheKey(privateKeyOf(text));
    });
  }

  it('refuses what is not a key without quoting it', () => {
    const broken = pkcs8.replace(/\n/g, '\\n').replace('MII', 'M\\I');
    let message = '';
    try {
      privateKeyOf(broken);
    } catch (err) {
      message = (err as Error).message;
    }
    should(message).match(/^the Private key is not an RSA private key in PEM form/);
    const body = pkcs8.split('\n')[1];
    should(message).not.containEql(body.slice(0, 16));
  });
});
