// What rebase moves to: [REMOTE:]BRANCH with the remote options, checked before
// anything touches the sysroot, each refusal one line naming what is wrong.

import { describe, expect, test } from 'vitest';
import { parseRemoteOption, rebaseTarget } from '../../src/transactions/rebase-remote.js';

describe('rebaseTarget', () => {
  test('REMOTE:BRANCH is pulled from REMOTE; a plain BRANCH is local, or the remote --remote adds', () => {
    expect(rebaseTarget('pub:fx/other', { gpgVerify: true })).toEqual({ refspec: 'pub:fx/other', remote: 'pub', branch: 'fx/other' });
    expect(rebaseTarget('fx/other', { gpgVerify: true })).toEqual({ refspec: 'fx/other', branch: 'fx/other' });
    expect(rebaseTarget('fx/other', { add: { name: 'pub', url: 'http://h/' }, gpgVerify: true })).toEqual({ refspec: 'pub:fx/other', remote: 'pub', branch: 'fx/other' });
  });

  test('refusals name the refspec or the option', () => {
    expect(() => rebaseTarget('other:fx/base', { add: { name: 'pub', url: 'http://h/' }, gpgVerify: true })).toThrow('--remote adds pub, but other:fx/base names remote other');
    expect(() => rebaseTarget('fx/base', { gpgVerify: false })).toThrow('--gpg-import and --no-gpg-verify are for a remote, and fx/base names none');
    expect(() => rebaseTarget('pub:', { gpgVerify: true })).toThrow("'pub:' is not a [REMOTE:]BRANCH refspec");
    expect(() => rebaseTarget('a b:fx', { gpgVerify: true })).toThrow('is not a [REMOTE:]BRANCH refspec');
  });
});

describe('parseRemoteOption', () => {
  test('NAME=URL, the URL taken whole', () => {
    expect(parseRemoteOption('pub=http://127.0.0.1:8080/repo?a=b')).toEqual({ name: 'pub', url: 'http://127.0.0.1:8080/repo?a=b' });
    expect(() => parseRemoteOption('http://h/')).toThrow("--remote wants NAME=URL, not 'http://h/'");
    expect(() => parseRemoteOption('pub=')).toThrow('--remote wants NAME=URL');
  });
});
