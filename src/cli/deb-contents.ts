// deblayer deb contents FILE.deb: the data.tar listing, like dpkg-deb -c.

import type { Command } from 'commander';
import { contextOf } from './context.js';

export function register(deb: Command): void {
  deb
    .command('contents')
    .description('list the files a package contains (like dpkg-deb -c)')
    .argument('<file>', 'the .deb file')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const out = contextOf(cmd);
      const [{ openDeb, readDataEntries }, { ListingFormatter }] = await Promise.all([import('../deb/index.js'), import('../deb/listing.js')]);
      const layout = openDeb(file);
      const fmt = new ListingFormatter();
      const entries = [];
      for await (const { entry, body } of readDataEntries(layout)) {
        body.skip();
        if (out.json) entries.push({ ...entry, mode: entry.mode.toString(8).padStart(4, '0') });
        else out.result(fmt.line(entry));
      }
      if (out.json) out.data(entries);
    });
}
