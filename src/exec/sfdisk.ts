// sfdisk(8) from fdisk: the only place that spawns it. Writes a partition
// table into an image file (no loop device, no kernel involved).

import { run } from './run.js';

export async function writePartitionTable(image: string, script: string): Promise<void> {
  await run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', '--wipe', 'never', image], `cannot write the partition table of ${image}`, { input: script });
}
