// /etc/deblayer/deblayer.conf as an admin writes it (src/vocabulary/deblayer-conf.ts):
// comments, spaces around '=', and each mistake one error naming the file and line.

import { describe, expect, test } from 'vitest';
import { parseDeblayerConf } from '../../src/vocabulary/deblayer-conf.js';

const F = '/etc/deblayer/deblayer.conf';

describe('parseDeblayerConf', () => {
  test('an empty file, or none, is UpdatePolicy=none', () => {
    expect(parseDeblayerConf('', F)).toEqual({ path: F, updatePolicy: 'none' });
    expect(parseDeblayerConf('# nothing set\n\n[Automatic]\n', F).updatePolicy).toBe('none');
  });

  test('each policy, with comments and spaces as in systemd key files', () => {
    for (const p of ['none', 'check', 'stage']) {
      expect(parseDeblayerConf(`; a comment\n[Automatic]\n  UpdatePolicy = ${p}  \n`, F).updatePolicy).toBe(p);
    }
  });

  test('a mistake names the file and the line', () => {
    expect(() => parseDeblayerConf('[Automatic]\nUpdatePolicy=daily\n', F)).toThrow(`${F}:2: UpdatePolicy=daily is not one of none, check, stage`);
    expect(() => parseDeblayerConf('[Daemon]\nAutomaticUpdatePolicy=stage\n', F)).toThrow(`${F}:1: unknown section [Daemon] (known: [Automatic])`);
    expect(() => parseDeblayerConf('[Automatic]\nPolicy=stage\n', F)).toThrow(`${F}:2: unknown key Policy in [Automatic] (known: UpdatePolicy)`);
    expect(() => parseDeblayerConf('UpdatePolicy=stage\n', F)).toThrow(`${F}:1: UpdatePolicy= comes before any [Section]`);
    expect(() => parseDeblayerConf('[Automatic]\nstage\n', F)).toThrow(`${F}:2: not a KEY=VALUE line or a [Section]: stage`);
  });
});
