import { describe, expect, it } from 'vitest';
import { hostPortList, isPrivateAddress, parseHost } from './host';
import { SPECIAL_IPV4, SPECIAL_IPV6 } from './ip';

describe('parseHost normalises every spelling of an address (attacker picks the spelling)', () => {
  it.each([
    ['decimal', '2130706433', '127.0.0.1'],
    ['hex', '0x7f000001', '127.0.0.1'],
    ['upper-case hex', '0X7F000001', '127.0.0.1'],
    ['octal', '0177.0.0.1', '127.0.0.1'],
    ['octal, single number', '017700000001', '127.0.0.1'],
    ['short form', '127.1', '127.0.0.1'],
    ['mixed hex short form', '0x7f.1', '127.0.0.1'],
    ['zero', '0', '0.0.0.0'],
    ['trailing dot', '127.0.0.1.', '127.0.0.1'],
    ['full-width digits (UTS 46 mapping)', '１２７.０.０.１', '127.0.0.1'],
    ['ideographic full stops', '127。0。0。1', '127.0.0.1'],
    ['metadata address in decimal', '2852039166', '169.254.169.254'],
  ])('%s %s → %s (private)', (_label, input, address) => {
    expect(parseHost(input)).toEqual({ kind: 'ipv4', address, private: true });
  });

  it.each([
    ['bracketed loopback', '[::1]', '::1'],
    ['bare loopback', '::1', '::1'],
    ['mapped dotted', '[::ffff:127.0.0.1]', '::ffff:7f00:1'],
    ['mapped hex', '[::ffff:7f00:1]', '::ffff:7f00:1'],
    ['mapped upper case', '[::FFFF:7F00:1]', '::ffff:7f00:1'],
    ['mapped public address (still refused: never needed)', '[::ffff:8.8.8.8]', '::ffff:808:808'],
    ['compatible', '[::127.0.0.1]', '::7f00:1'],
    ['NAT64 well-known', '[64:ff9b::10.0.0.1]', '64:ff9b::a00:1'],
    ['NAT64 local use', '[64:ff9b:1::1]', '64:ff9b:1::1'],
    ['6to4 of loopback', '[2002:7f00:1::]', '2002:7f00:1::'],
    ['Teredo', '[2001:0:4136:e378:8000:63bf:3fff:fdd2]', '2001:0:4136:e378:8000:63bf:3fff:fdd2'],
    ['unspecified', '[::]', '::'],
    ['link-local', '[fe80::1]', 'fe80::1'],
    ['unique local', '[fd00::1]', 'fd00::1'],
    ['documentation', '[2001:db8::1]', '2001:db8::1'],
    ['multicast', '[ff02::1]', 'ff02::1'],
    ['full form loopback', '[0:0:0:0:0:0:0:1]', '::1'],
  ])('%s %s → %s (private)', (_label, input, address) => {
    expect(parseHost(input)).toEqual({ kind: 'ipv6', address, private: true });
  });

  it.each([
    ['upper case and trailing dot', 'API.GitHub.COM.', 'api.github.com'],
    ['IDN to punycode', 'bücher.example', 'xn--bcher-kva.example'],
    ['punycode stays', 'xn--bcher-kva.example', 'xn--bcher-kva.example'],
  ])('%s: %s → %s', (_label, input, name) => {
    expect(parseHost(input)).toEqual({ kind: 'domain', name, private: false });
  });

  it.each(['localhost', 'LOCALHOST.', 'a.localhost', 'printer.local'])('treats the special-use name %s as private (RFC 6761)', (input) => {
    expect(parseHost(input)?.private).toBe(true);
  });

  it('keeps public addresses public', () => {
    expect(parseHost('8.8.8.8')).toEqual({ kind: 'ipv4', address: '8.8.8.8', private: false });
    expect(parseHost('134744072')).toEqual({ kind: 'ipv4', address: '8.8.8.8', private: false });
    expect(parseHost('[2606:4700:4700::1111]')).toEqual({ kind: 'ipv6', address: '2606:4700:4700::1111', private: false });
  });

  it.each([
    ['empty', ''],
    ['userinfo', 'a@127.0.0.1'],
    ['port', 'example.com:443'],
    ['path', 'example.com/x'],
    ['backslash', 'example.com\\x'],
    ['percent-encoding', '127%2e0%2e0%2e1'],
    ['space', 'exa mple.com'],
    ['NUL', 'example.com\u0000.evil'],
    ['tab', 'exam\tple.com'],
    ['two trailing dots', '127.0.0.1..'],
    ['empty label', 'a..b'],
    ['octet out of range', '1.2.3.256'],
    ['numeric last label', 'example.123'],
    ['zone index', '[fe80::1%25eth0]'],
    ['unbalanced bracket', '[::1'],
    ['two ::', '[1::2::3]'],
    ['too many groups', '[1:2:3:4:5:6:7:8:9]'],
    ['label too long', `${'a'.repeat(64)}.example`],
    ['query', 'example.com?x'],
  ])('refuses %s', (_label, input) => {
    expect(parseHost(input)).toBeNull();
  });
});

describe('isPrivateAddress', () => {
  it('answers true for the first and last address of every special-purpose range', () => {
    for (const range of SPECIAL_IPV4) {
      const base = range.cidr.split('/')[0] ?? '';
      expect(isPrivateAddress(base), range.cidr).toBe(true);
    }
    for (const range of SPECIAL_IPV6) expect(isPrivateAddress(range.cidr.split('/')[0] ?? ''), range.cidr).toBe(true);
    for (const last of [
      '10.255.255.255',
      '100.127.255.255',
      '172.31.255.255',
      '192.168.255.255',
      '198.19.255.255',
      '255.255.255.255',
      '169.254.255.255',
    ]) {
      expect(isPrivateAddress(last), last).toBe(true);
    }
  });

  it('answers false just outside the ranges', () => {
    for (const outside of [
      '9.255.255.255',
      '11.0.0.0',
      '100.63.255.255',
      '100.128.0.0',
      '172.15.255.255',
      '172.32.0.0',
      '192.167.255.255',
      '192.169.0.0',
      '198.17.255.255',
      '198.20.0.0',
      '223.255.255.255',
      '1.1.1.1',
    ]) {
      expect(isPrivateAddress(outside), outside).toBe(false);
    }
    for (const outside of ['2606:4700::1', '2a00:1450::1', '2001:4860:4860::8888']) expect(isPrivateAddress(outside), outside).toBe(false);
  });

  it('answers true for the issue-listed ranges', () => {
    for (const ip of [
      '0.1.2.3',
      '100.64.0.1',
      '169.254.169.254',
      '192.0.0.8',
      '198.18.0.1',
      '240.0.0.1',
      '::ffff:10.0.0.1',
      '64:ff9b::1',
      'fc00::1',
      'fe80::1',
      'fec0::1',
      '3fff::1',
      '5f00::1',
      '100::1',
    ]) {
      expect(isPrivateAddress(ip), ip).toBe(true);
    }
  });

  it('fails closed on a name or garbage', () => {
    expect(isPrivateAddress('example.com')).toBe(true);
    expect(isPrivateAddress('not an ip')).toBe(true);
    expect(isPrivateAddress('')).toBe(true);
  });
});

describe('hostPortList (MODEL_PRIVATE_HOSTS, TELEGRAM_PRIVATE_HOSTS)', () => {
  it('canonicalises hosts so a listed entry matches what a URL names', () => {
    expect(hostPortList(' LOCALHOST:11434 , [::1]:8080,10.0.0.7:80 ')).toEqual([
      { host: 'localhost', port: 11434 },
      { host: '::1', port: 8080 },
      { host: '10.0.0.7', port: 80 },
    ]);
  });

  it.each([
    ['no port', 'localhost'],
    ['port 0', 'localhost:0'],
    ['port above 65535', 'localhost:65536'],
    ['a scheme', 'http://localhost:80'],
    ['a path', 'localhost:80/x'],
    ['an unbracketed IPv6 literal', '::1:8080'],
    ['empty', ''],
  ])('opens nothing for a malformed entry: %s', (_name, raw) => {
    expect(hostPortList(raw)).toEqual([]);
  });
});
