// The one way the window calls the core: Tauri's invoke, with every error turned into the
// core's typed ErrorReport. The generated commands.ts calls through it.
import { invoke } from "@tauri-apps/api/core";
import type { ErrorReport } from "./types";

export function isApiError(e: unknown): e is ErrorReport {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

export function call<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
  return invoke<T>(cmd, args).catch((e: unknown) => {
    throw isApiError(e) ? e : ({ code: "app.unexpected", message: String(e), field: null, reason: null, params: {} } satisfies ErrorReport);
  });
}
