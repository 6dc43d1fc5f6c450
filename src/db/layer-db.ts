// The layer database: every transaction deblayer runs on a sysroot (command
// line, time, user, result, error) and every layer state it deployed (base
// commit, layered commit, requests, the resolved packages, the deployment it
// became). better-sqlite3, WAL mode, in the stateroot's /var (shared by all
// deployments, so history survives rollbacks), with a versioned schema.
//
// A database that is corrupt or from a newer deblayer is an error and is never
// replaced; a missing one is created by the first transaction. `status` does
// not need it: it only reads it, when it is there and readable, to name each
// deployment's layer state.

import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { DeblayerError } from '../errors.js';
import type { KnownAccount } from '../base/accounts.js';

export class LayerDatabaseError extends DeblayerError {}

/** Migrations: index i takes the schema from version i to i + 1. */
const MIGRATIONS = [
  `CREATE TABLE transactions (
     id INTEGER PRIMARY KEY,
     command TEXT NOT NULL,
     argv TEXT NOT NULL,
     started TEXT NOT NULL,
     finished TEXT,
     user TEXT NOT NULL,
     result TEXT NOT NULL CHECK (result IN ('running', 'ok', 'unchanged', 'failed')),
     error TEXT
   );
   CREATE TABLE states (
     id INTEGER PRIMARY KEY,
     transaction_id INTEGER NOT NULL REFERENCES transactions(id),
     created TEXT NOT NULL,
     stateroot TEXT NOT NULL,
     base_commit TEXT NOT NULL,
     base_refspec TEXT,
     commit_checksum TEXT NOT NULL,
     ref TEXT,
     requested TEXT NOT NULL,
     requested_local TEXT NOT NULL,
     deployment TEXT NOT NULL
   );
   CREATE TABLE state_packages (
     state_id INTEGER NOT NULL REFERENCES states(id),
     name TEXT NOT NULL,
     version TEXT NOT NULL,
     architecture TEXT NOT NULL,
     download_size INTEGER NOT NULL,
     installed_size INTEGER NOT NULL,
     reason TEXT NOT NULL,
     required_by TEXT,
     PRIMARY KEY (state_id, name, architecture)
   );
   CREATE TABLE package_cache (
     ref TEXT PRIMARY KEY,
     commit_checksum TEXT NOT NULL,
     name TEXT NOT NULL,
     version TEXT NOT NULL,
     architecture TEXT NOT NULL,
     imported TEXT NOT NULL
   );`,
  // What maintainer scripts printed, by package and step, failed transactions too.
  `CREATE TABLE script_output (
     transaction_id INTEGER NOT NULL REFERENCES transactions(id),
     seq INTEGER NOT NULL,
     package TEXT NOT NULL,
     step TEXT NOT NULL,
     output TEXT NOT NULL,
     PRIMARY KEY (transaction_id, seq)
   );
   ALTER TABLE states ADD COLUMN skip_scripts TEXT NOT NULL DEFAULT '[]';`,
  // Accounts that maintainer scripts created on this sysroot, with the ids
  // they got: every later transaction gives them the same ids again.
  `CREATE TABLE accounts (
     kind TEXT NOT NULL CHECK (kind IN ('user', 'group')),
     name TEXT NOT NULL,
     id INTEGER NOT NULL,
     entry TEXT NOT NULL,
     first_state INTEGER,
     PRIMARY KEY (kind, name)
   );`,
  // How each state was made: derived from its base, or built on the state before it (as dpkg changes a system).
  `ALTER TABLE states ADD COLUMN made TEXT NOT NULL DEFAULT 'derived' CHECK (made IN ('derived', 'incremental'));`,
];
export const SCHEMA_VERSION = MIGRATIONS.length;

export interface StatePackage {
  name: string;
  version: string;
  architecture: string;
  downloadSize: number;
  installedSize: number;
  reason: string;
  requiredBy?: string;
}

export interface NewState {
  stateroot: string;
  baseCommit: string;
  baseRefspec?: string;
  commit: string;
  ref?: string;
  requested: string[];
  requestedLocal: string[];
  skipScripts?: string[];
  /** Derived from the base, or built on the state before it; 'derived' when not given. */
  made?: 'derived' | 'incremental';
  deployment: string;
  packages: StatePackage[];
}

/** A layer state with the transaction that made it: what `status` shows of a deployment. */
export interface StateSummary {
  id: number;
  stateroot: string;
  commit: string;
  /** The deployment's directory name, CHECKSUM.SERIAL. */
  deployment: string;
  transaction: { id: number; command: string; argv: string[]; started: string };
}

export interface HistoryEntry {
  transaction: number;
  command: string;
  argv: string[];
  started: string;
  finished?: string;
  user: string;
  result: string;
  error?: string;
  state?: RecordedState & { id: number };
}

/** A layer state as the database holds it. */
export type RecordedState = Omit<NewState, 'stateroot' | 'skipScripts'> & { skipScripts: string[] };

/** Where the database of a stateroot lives: its /var, which every deployment shares. */
export function layerDatabasePath(sysroot: string, stateroot: string): string {
  return sysroot === '/' || sysroot === ''
    ? '/var/lib/deblayer/layers.db'
    : `${sysroot.replace(/\/+$/, '')}/ostree/deploy/${stateroot}/var/lib/deblayer/layers.db`;
}

export class LayerDatabase {
  private constructor(
    readonly path: string,
    private readonly db: BetterSqlite3.Database,
  ) {}

  /**
   * Opens (or, with `create`, creates) the database; never replaces one it cannot read.
   * `queryOnly` (status) writes nothing: no migration, no journal mode, and
   * SQLite's query_only. The connection is still read-write, because a
   * read-only one leaves empty -wal and -shm files behind; this one removes
   * them on close, as every other deblayer command does.
   */
  static open(path: string, options: { create: boolean; queryOnly?: boolean }): LayerDatabase | undefined {
    if (!existsSync(path) && !options.create) return undefined;
    // Loaded on first use: a native module, not needed by most commands.
    const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
    if (!options.queryOnly) mkdirSync(dirname(path), { recursive: true });
    let db: BetterSqlite3.Database | undefined;
    try {
      if (options.queryOnly) {
        db = new Database(path, { fileMustExist: true });
        db.pragma('query_only = ON');
      } else {
        db = new Database(path, { fileMustExist: !options.create });
        db.pragma('journal_mode = WAL');
        db.pragma('foreign_keys = ON');
      }
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new LayerDatabaseError(
          `layer database ${path} has schema version ${version}, newer than this deblayer's ${SCHEMA_VERSION}: use a newer deblayer (the database is left as it is)`,
        );
      }
      if (version < SCHEMA_VERSION && options.queryOnly) {
        // Version 0 is an empty or foreign SQLite file; older deblayer schemas are migrated by the next transaction.
        throw new LayerDatabaseError(
          `layer database ${path} has schema version ${version}, not ${SCHEMA_VERSION}: not a deblayer layer database, or one the next transaction upgrades`,
        );
      }
      if (version < SCHEMA_VERSION) {
        const writable = db;
        writable.transaction(() => {
          for (let v = version; v < SCHEMA_VERSION; v++) writable.exec(MIGRATIONS[v]!);
          writable.pragma(`user_version = ${SCHEMA_VERSION}`);
        })();
      }
    } catch (err) {
      db?.close();
      if (err instanceof LayerDatabaseError) throw err;
      throw new LayerDatabaseError(`layer database ${path} cannot be read: ${(err as Error).message} (it is left as it is; move it away to start a new history)`, {
        cause: err,
      });
    }
    return new LayerDatabase(path, db);
  }

  close(): void {
    this.db.close();
  }

  /** Transactions still 'running' were cut short (killed, crashed): say so. Returns how many. */
  markInterrupted(): number {
    const r = this.db
      .prepare(`UPDATE transactions SET result = 'failed', finished = ?, error = 'interrupted: the process ended before the transaction finished' WHERE result = 'running'`)
      .run(new Date().toISOString());
    return r.changes;
  }

  beginTransaction(command: string, argv: string[], user: string): number {
    const r = this.db
      .prepare(`INSERT INTO transactions (command, argv, started, user, result) VALUES (?, ?, ?, ?, 'running')`)
      .run(command, JSON.stringify(argv), new Date().toISOString(), user);
    return Number(r.lastInsertRowid);
  }

  finishTransaction(id: number, result: 'ok' | 'unchanged' | 'failed', error?: string): void {
    this.db.prepare(`UPDATE transactions SET finished = ?, result = ?, error = ? WHERE id = ?`).run(new Date().toISOString(), result, error ?? null, id);
  }

  /** The number the next layer state gets (also its ref, deblayer/state/N). */
  nextStateId(atLeast: number): number {
    const row = this.db.prepare(`SELECT MAX(id) AS max FROM states`).get() as { max: number | null };
    return Math.max((row.max ?? 0) + 1, atLeast);
  }

  recordState(transaction: number, id: number, state: NewState): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO states (id, transaction_id, created, stateroot, base_commit, base_refspec, commit_checksum, ref, requested, requested_local, skip_scripts, made, deployment)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          transaction,
          new Date().toISOString(),
          state.stateroot,
          state.baseCommit,
          state.baseRefspec ?? null,
          state.commit,
          state.ref ?? null,
          JSON.stringify(state.requested),
          JSON.stringify(state.requestedLocal),
          JSON.stringify(state.skipScripts ?? []),
          state.made ?? 'derived',
          state.deployment,
        );
      const insert = this.db.prepare(
        `INSERT INTO state_packages (state_id, name, version, architecture, download_size, installed_size, reason, required_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const p of state.packages) insert.run(id, p.name, p.version, p.architecture, p.downloadSize, p.installedSize, p.reason, p.requiredBy ?? null);
    })();
  }

  /** States recorded before their deploy (deployment ''), whose transaction never said how the deploy went. */
  pendingStates(): { id: number; transaction: number; stateroot: string; commit: string; ref: string | null }[] {
    return (
      this.db.prepare(`SELECT id, transaction_id, stateroot, commit_checksum, ref FROM states WHERE deployment = ''`).all() as Record<string, unknown>[]
    ).map((r) => ({ id: r.id as number, transaction: r.transaction_id as number, stateroot: r.stateroot as string, commit: r.commit_checksum as string, ref: r.ref as string | null }));
  }

  setStateDeployment(id: number, deployment: string): void {
    this.db.prepare(`UPDATE states SET deployment = ? WHERE id = ?`).run(deployment, id);
  }

  dropState(id: number): void {
    this.db.transaction(() => {
      this.db.prepare(`DELETE FROM state_packages WHERE state_id = ?`).run(id);
      this.db.prepare(`DELETE FROM states WHERE id = ?`).run(id);
    })();
  }

  /** A transaction killed after its deployment was made: it did what it set out to do. */
  markCompletedAfterInterruption(id: number): void {
    this.db
      .prepare(`UPDATE transactions SET result = 'ok', finished = ?, error = ? WHERE id = ? AND result = 'running'`)
      .run(new Date().toISOString(), 'interrupted after its deployment was made: recorded by the next transaction', id);
  }

  /** Accounts scripts created on this sysroot (their passwd or group entries), oldest first. */
  accounts(): KnownAccount[] {
    return (this.db.prepare(`SELECT kind, name, id, entry FROM accounts ORDER BY rowid`).all() as Record<string, unknown>[]).map((r) => ({
      kind: r.kind as KnownAccount['kind'],
      name: r.name as string,
      id: r.id as number,
      entry: r.entry as string,
    }));
  }

  /** Records accounts with their ids; an account known already keeps its row unless its id changed. */
  recordAccounts(accounts: KnownAccount[], state: number): void {
    const upsert = this.db.prepare(
      `INSERT INTO accounts (kind, name, id, entry, first_state) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (kind, name) DO UPDATE SET id = excluded.id, entry = excluded.entry WHERE accounts.id != excluded.id`,
    );
    this.db.transaction(() => {
      for (const a of accounts) upsert.run(a.kind, a.name, a.id, a.entry, state);
    })();
  }

  recordScriptOutput(transaction: number, sections: { package: string; step: string; lines: string[] }[]): void {
    const insert = this.db.prepare(`INSERT INTO script_output (transaction_id, seq, package, step, output) VALUES (?, ?, ?, ?, ?)`);
    this.db.transaction(() => {
      sections.forEach((s, i) => insert.run(transaction, i, s.package, s.step, s.lines.join('\n')));
    })();
  }

  /** What scripts printed in a transaction, in order. */
  scriptOutput(transaction: number): { package: string; step: string; output: string }[] {
    return this.db.prepare(`SELECT package, step, output FROM script_output WHERE transaction_id = ? ORDER BY seq`).all(transaction) as {
      package: string;
      step: string;
      output: string;
    }[];
  }

  recordCachedPackage(ref: string, commit: string, name: string, version: string, architecture: string): void {
    this.db
      .prepare(`INSERT OR REPLACE INTO package_cache (ref, commit_checksum, name, version, architecture, imported) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(ref, commit, name, version, architecture, new Date().toISOString());
  }

  /** Every layer state with the transaction that made it, oldest first. */
  states(): StateSummary[] {
    const rows = this.db
      .prepare(
        `SELECT s.id AS sid, s.stateroot, s.commit_checksum, s.deployment, t.id AS tid, t.command, t.argv, t.started
         FROM states s JOIN transactions t ON t.id = s.transaction_id ORDER BY s.id`,
      )
      .all() as Record<string, unknown>[];
    return rows.map((r) => ({
      id: r.sid as number,
      stateroot: r.stateroot as string,
      commit: r.commit_checksum as string,
      deployment: r.deployment as string,
      transaction: { id: r.tid as number, command: r.command as string, argv: JSON.parse(r.argv as string) as string[], started: r.started as string },
    }));
  }

  /** Layer state ID as it was recorded (rollback --to records it again), if the database has it. */
  state(id: number): (RecordedState & { id: number; stateroot: string }) | undefined {
    const r = this.db
      .prepare(
        `SELECT id AS sid, stateroot, base_commit, base_refspec, commit_checksum, ref, requested, requested_local, skip_scripts, made, deployment FROM states WHERE id = ?`,
      )
      .get(id) as Record<string, unknown> | undefined;
    if (!r) return undefined;
    return { id, stateroot: r.stateroot as string, ...this.stateFields(r) };
  }

  /** The fields of a state from a row of the states table (its id as sid), with its packages. */
  private stateFields(r: Record<string, unknown>): RecordedState {
    const packages = this.db.prepare(`SELECT * FROM state_packages WHERE state_id = ? ORDER BY name`).all(r.sid) as Record<string, unknown>[];
    return {
      commit: r.commit_checksum as string,
      baseCommit: r.base_commit as string,
      ...(r.base_refspec ? { baseRefspec: r.base_refspec as string } : {}),
      ...(r.ref ? { ref: r.ref as string } : {}),
      requested: JSON.parse(r.requested as string) as string[],
      requestedLocal: JSON.parse(r.requested_local as string) as string[],
      skipScripts: JSON.parse(r.skip_scripts as string) as string[],
      made: r.made === 'incremental' ? 'incremental' : 'derived',
      deployment: r.deployment as string,
      packages: packages.map((p) => ({
        name: p.name as string,
        version: p.version as string,
        architecture: p.architecture as string,
        downloadSize: p.download_size as number,
        installedSize: p.installed_size as number,
        reason: p.reason as string,
        ...(p.required_by ? { requiredBy: p.required_by as string } : {}),
      })),
    };
  }

  history(): HistoryEntry[] {
    const rows = this.db
      .prepare(
        `SELECT t.id AS tid, t.command, t.argv, t.started, t.finished, t.user, t.result, t.error,
                s.id AS sid, s.commit_checksum, s.base_commit, s.base_refspec, s.ref, s.requested, s.requested_local, s.skip_scripts, s.made, s.deployment
         FROM transactions t LEFT JOIN states s ON s.transaction_id = t.id ORDER BY t.id`,
      )
      .all() as Record<string, unknown>[];
    return rows.map((r) => ({
      transaction: r.tid as number,
      command: r.command as string,
      argv: JSON.parse(r.argv as string) as string[],
      started: r.started as string,
      ...(r.finished ? { finished: r.finished as string } : {}),
      user: r.user as string,
      result: r.result as string,
      ...(r.error ? { error: r.error as string } : {}),
      ...(r.sid ? { state: { id: r.sid as number, ...this.stateFields(r) } } : {}),
    }));
  }
}
