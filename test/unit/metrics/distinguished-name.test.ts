import { describe, expect, it } from 'vitest';
import { commonName } from '../../../src/metrics/distinguished-name.js';

describe('commonName', () => {
  it.each([
    ['gateway subject', 'EMAILADDRESS=xT7EaR, OU=EnOS, CN=xMen1, O=EnOS, L=Shanghai, ST=Shanghai, C=CN', 'xMen1'],
    ['gateway issuer', 'EMAILADDRESS=ca@example.com, CN=EnOS ECC CA, OU=EnOS Cloud, O=EnOS', 'EnOS ECC CA'],
    ['CN first', 'CN=first, O=x', 'first'],
    ['CN last, no spaces', 'O=x,CN=last', 'last'],
    ['lower-case type', 'o=x, cn=lower', 'lower'],
    ['OID type', '2.5.4.3=byoid, O=x', 'byoid'],
    ['semicolon separators', 'O=x; CN=semi; C=CN', 'semi'],
    ['multi-valued RDN', 'OU=a+CN=multi, O=x', 'multi'],
    ['the first CN wins', 'CN=leaf, CN=other', 'leaf'],
    ['no CN', 'EMAILADDRESS=x, OU=EnOS, O=EnOS', ''],
    ['empty string', '', ''],
    ['no equals sign at all', 'just some text', ''],
    ['CNAME is not CN', 'CNAME=nope, O=x', ''],
    ['empty CN', 'CN=, O=x', ''],
    ['spaces around', '  CN =  padded  , O=x', 'padded'],
    ['equals sign in the value', 'CN=a=b, O=x', 'a=b'],
    ['garbage before the CN', 'garbage, CN=x', 'x'],
    ['escaped comma', 'CN=Smith\\, John, O=EnOS', 'Smith, John'],
    ['escaped comma in another RDN', 'O=Acme\\, Inc., CN=device-1', 'device-1'],
    ['escaped backslash then separator', 'CN=a\\\\, O=x', 'a\\'],
    ['escaped quote', 'CN=say \\"hi\\", O=x', 'say "hi"'],
    ['quoted value with comma', 'CN="Smith, John", O=x', 'Smith, John'],
    ['quoted value keeps inner spaces', 'CN=" spaced ", O=x', ' spaced '],
    ['hex escapes decode as UTF-8', 'CN=caf\\C3\\A9, O=x', 'café'],
    ['escaped trailing space is kept', 'CN=trail\\ , O=x', 'trail '],
    ['unicode', 'CN=设备-😀, O=x', '设备-😀'],
    ['OpenSSL one-line form', '/C=CN/O=EnOS/CN=oneline', 'oneline'],
    ['OpenSSL one-line form, CN first', '/CN=first/O=x', 'first'],
    ['unterminated quote', 'CN="open, O=x', 'open, O=x'],
    ['dangling backslash stays literal', 'CN=end\\', 'end\\'],
  ])('%s', (_name, dn, expected) => {
    expect(commonName(dn)).toBe(expected);
  });

  it('reads a 10 kB name in linear time', () => {
    const long = `CN=${'a'.repeat(10_240)}, O=${'\\,'.repeat(5_000)}`;
    expect(commonName(long)).toBe('a'.repeat(10_240));
  });
});
