// The stages a layering transaction runs, in order, each a file of this folder:
//
//   request.ts    what the user asked, set against what is layered  -> Reconciled
//   plan.ts       apt resolves it against the base                 -> Planned
//   fetch.ts      the .deb files the package cache lacks            -> Fetched
//   import.ts     each new .deb unpacked and committed to the cache  -> Imported
//   origin.ts     the origin the new deployment will carry          -> Origin
//   remove-base.ts  base packages it goes without, purged (override remove)
//   compose.ts    base + packages + dpkg database in one commit      -> Composed
//   configure.ts  maintainer scripts and triggers, committed on top  -> Configured
//   record.ts     the layer state in the layer database, before the deploy
//   then deploy/deploy.ts stages the commit, and record.ts gives the state its deployment.
//
// install, uninstall and upgrade (src/transactions/) run them all; a dry run
// stops after the plan, --download-only after the fetch.

import type { StepHooks } from '../steps.js';

export type LayerStep = 'resolve' | 'download' | 'import' | 'remove' | 'compose' | 'scripts' | 'deploy';

export type StageHooks = StepHooks<LayerStep>;

/** A layer state's commit, and the ref that keeps it. */
export interface StateCommit {
  checksum: string;
  ref: string;
}
