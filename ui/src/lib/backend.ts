// The only module that talks to the Masar core. Screens call these functions and never
// import Tauri themselves. Every answer and every error has the type the core's Rust
// struct generates (types.ts); nothing at this boundary is untyped.
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { BackupDone, SyncProgress, SyncState } from "./types";
import { commands } from "./commands";

export { isApiError } from "./call";

export type { Done, ErrorReport } from "./types";

/** Every command of the core's list, typed (generated: commands.ts). */
export const api = commands;

/** Tells `f` when a sync through the folder (by itself) ended, with where sync stands. */
export function onSyncDone(f: (s: SyncState) => void): Promise<UnlistenFn> {
  return listen<SyncState>("sync-done", (e) => f(e.payload));
}

/** Tells `f` when the daily backup was written by itself. */
export function onBackupMade(f: (b: BackupDone) => void): Promise<UnlistenFn> {
  return listen<BackupDone>("backup-made", (e) => f(e.payload));
}

/** Tells `f` how far a bundle export or import got, as it goes. */
export function onSyncProgress(f: (p: SyncProgress) => void): Promise<UnlistenFn> {
  return listen<SyncProgress>("sync-progress", (e) => f(e.payload));
}
