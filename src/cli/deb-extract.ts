// deblayer deb extract FILE.deb DIR [--layer]: unpack the raw tree as dpkg-deb -x
// does, or the OSTree layer tree deblayer commits (with its tmpfiles lines).

import { existsSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { contextOf } from './context.js';
import { formatSize as size, Progress } from './progress.js';
import { stopwatch } from '../steps.js';

export function register(deb: Command): void {
  deb
    .command('extract')
    .description('unpack a package into a directory (like dpkg-deb -x), or as an OSTree layer with --layer')
    .argument('<file>', 'the .deb file')
    .argument('<dir>', 'target directory (created if missing)')
    .option('--layer', 'rewrite the tree for OSTree: /etc to /usr/etc, /var and other state to tmpfiles.d lines')
    .action(async (file: string, dir: string, opts: { layer?: boolean }, cmd: Command) => {
      // A target this command created is removed again when unpacking fails,
      // so a refused package leaves nothing behind.
      const created = !existsSync(dir);
      try {
        await extract(file, dir, opts, cmd);
      } catch (err) {
        if (created) rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    });
}

async function extract(file: string, dir: string, opts: { layer?: boolean }, cmd: Command): Promise<void> {
  const out = contextOf(cmd);
  const [{ openDeb, readDebControl }, { archiveName }, { unpackLayer, unpackRaw }, { formatTmpfilesLine }] = await Promise.all([
    import('../deb/index.js'),
    import('../deb/listing.js'),
    import('../compose/unpack.js'),
    import('../vocabulary/tmpfiles.js'),
  ]);
  const layout = openDeb(file);
  const progress = new Progress(out, `Unpacking ${basename(file)}`);
  const onEntry = (e: Parameters<typeof archiveName>[0]) => {
    if (out.options.verbose) out.verbose(archiveName(e));
    progress.tick(e.size);
  };
  const elapsed = stopwatch();
  if (!opts.layer) {
    const stats = await unpackRaw(layout, dir, { onEntry }).finally(() => progress.done());
    const secs = elapsed().toFixed(2);
    if (out.json) out.data({ file, target: dir, layer: false, ...stats });
    else out.info(`Unpacked ${file} into ${dir}: ${stats.entries} entries, ${size(stats.bytes)} in ${secs}s`);
    return;
  }
  const control = await readDebControl(layout);
  const manifest = await unpackLayer(layout, control, dir, { onEntry }).finally(() => progress.done());
  const secs = elapsed().toFixed(2);
  if (out.json) {
    out.data({ file, target: dir, layer: true, ...manifest, tmpfiles: manifest.tmpfiles.map(formatTmpfilesLine) });
    return;
  }
  const f = control.fields;
  out.info(
    `Unpacked ${f.package} ${f.version} (${f.architecture}) as an OSTree layer into ${dir}: ` +
      `${manifest.stats.entries} entries, ${size(manifest.stats.bytes)} in ${secs}s`,
  );
  if (manifest.tmpfilesConf) {
    out.info(`${manifest.tmpfiles.length} tmpfiles.d lines recreate its content outside /usr: /${manifest.tmpfilesConf}`);
    for (const line of manifest.tmpfiles) out.verbose(`  ${formatTmpfilesLine(line)}`);
  }
}
