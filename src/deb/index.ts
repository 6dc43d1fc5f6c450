// Stage 1 of the pipeline: reading .deb files. Everything else goes through
// this interface: a checked layout, the control data, and a stream of entries.

export { readDebLayout, type DebLayout, type TarMember } from './layout.js';
export { readDebControl, SCRIPT_NAMES, type DebControl, type ScriptName, type Conffile } from './control-archive.js';
export { readTarMember, type TarItem, type EntryBody } from './tar.js';
export { useLzmaHelpers } from './compression.js';
export type { DebEntry, EntryType } from './entry.js';
export type { ControlFields, Relation, RelationList } from './control-fields.js';

import { readDebLayout, type DebLayout } from './layout.js';
import { readTarMember, type TarItem } from './tar.js';

/** The data.tar entries of a package, in archive order. */
export function readDataEntries(layout: DebLayout): AsyncGenerator<TarItem> {
  return readTarMember(layout.file, layout.data);
}

export function openDeb(file: string): DebLayout {
  return readDebLayout(file);
}
