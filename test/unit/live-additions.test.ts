// Which next deployments apply-live takes: only package additions on the same base.

import { describe, expect, test } from 'vitest';
import { liveAdditions, type LiveSide } from '../../src/live/additions.js';

const BASE = 'a'.repeat(64);
const side = (layered: string[], extra: Partial<LiveSide> = {}): LiveSide => ({
  checksum: 'c'.repeat(64),
  baseCommit: BASE,
  layeredPackages: layered,
  removedBasePackages: [],
  replacedBasePackages: [],
  ...extra,
});

describe('liveAdditions', () => {
  test('packages added on the same base are additions, named with their versions', () => {
    expect(liveAdditions(side(['htop=3.2.2-2']), side(['htop=3.2.2-2', 'tree=2.1.0-1', 'libx=1.0']))).toEqual({ added: ['tree=2.1.0-1', 'libx=1.0'], refusals: [] });
  });

  test('an upgrade, a removal, a new base and a new override are refused, each named', () => {
    const { refusals } = liveAdditions(
      side(['htop=3.2.2-2', 'tree=2.1.0-1']),
      side(['htop=3.3.0-1'], { baseCommit: 'b'.repeat(64), removedBasePackages: ['tzdata=2024a-1'] }),
    );
    expect(refusals).toEqual([
      'its base is another commit (aaaaaaaaaa → bbbbbbbbbb)',
      'it changes htop 3.2.2-2 → 3.3.0-1, a package in use',
      'it removes tree 2.1.0-1',
      'it removes base packages (override remove tzdata)',
    ]);
  });

  test('a removed base package brought back by override reset is an addition; a replacement or its reset is not', () => {
    const removing = side([], { removedBasePackages: ['nano=7.2-1', 'tzdata=2024a-1'] });
    expect(liveAdditions(removing, side(['tree=2.1.0-1'], { removedBasePackages: ['tzdata=2024a-1'] }))).toEqual({ added: ['tree=2.1.0-1', 'nano=7.2-1'], refusals: [] });
    const replacing = side([], { replacedBasePackages: [{ name: 'nano', base: '7.2-1', version: '7.2-2' }] });
    const why = ['it replaces other base packages, or brings their own versions back (override replace, override reset)'];
    expect(liveAdditions(replacing, side([])).refusals).toEqual(why);
    expect(liveAdditions(side([]), replacing).refusals).toEqual(why);
  });
});
