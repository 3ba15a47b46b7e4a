// The logged-in user's session as the core gave it at log-in: who they are, what they
// may do, the choice lists every form offers, and today's date by the core's clock.
// Screens read it here instead of keeping any rule or list of their own.
import type { Choices, Permissions, SessionInfo } from "./types";

const current = $state<{ info: SessionInfo | null }>({ info: null });

export function setSession(info: SessionInfo | null) {
  current.info = info;
}

export function session(): SessionInfo | null {
  return current.info;
}

function info(): SessionInfo {
  if (!current.info) throw new Error("no session: the screens are shown only after log-in");
  return current.info;
}

/** What the logged-in user may do. */
export function can(): Permissions {
  return info().permissions;
}

/** The choice lists, as the core accepts them. */
export function choices(): Choices {
  return info().choices;
}

/** Today, by the core's clock: the default date of every form. */
export function today(): string {
  return info().today;
}
