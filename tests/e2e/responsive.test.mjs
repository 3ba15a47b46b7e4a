// The window during a long import: the progress shows, the window keeps answering typing,
// and a second command asked meanwhile waits its turn instead of failing or freezing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Window } from "./webdriver.mjs";

const root = new URL("../../", import.meta.url).pathname;
const APP = join(root, "target/debug/masar-desktop");
const CLI = join(root, "target/debug/masar");
const PASSWORD = "e2e-password-1";
const dir = mkdtempSync(join(tmpdir(), "masar-e2e-busy-"));
// The databases these tests make are removed with the run (they run to hundreds of MB).
after(() => rmSync(dir, { recursive: true, force: true }));
const A = join(dir, "a.db");
const C = join(dir, "c.db");
const INBOX = join(dir, "inbox");
const PERSONS = 30000;
let changes = 0;

function cli(db, args) {
  const out = execFileSync(CLI, ["--json", ...args], {
    env: { ...process.env, MASAR_DB: db, MASAR_USER: "admin", MASAR_PASSWORD: PASSWORD, MASAR_ENROL_PASSPHRASE: "e2e passphrase" },
    stdio: ["ignore", "pipe", "pipe"],
    // An import prints the ids of every person it registered.
    maxBuffer: 64 << 20,
  });
  return JSON.parse(out.toString());
}

before(() => {
  mkdirSync(INBOX, { recursive: true });
  cli(A, ["init", "--org", "Busy programme", "--device", "laptop-a"]);
  const csv = join(dir, "many.csv");
  writeFileSync(csv, "given,family,sex,born,nationality\n" + Array.from({ length: PERSONS }, (_, i) => `Given${i},Family${i % 50},female,1990-01-01,SYR`).join("\n") + "\n");
  cli(A, ["import", "persons", csv]);
  cli(A, ["enrol", "--out", join(dir, "c.enrol")]);
  cli(C, ["init", "--join", join(dir, "c.enrol"), "--device", "laptop-c"]);
  changes = cli(A, ["bundle", "export", "--out", INBOX]).changes;
});

test("during a long import the window shows its progress, answers typing, and queues the next command", async () => {
  const w = await Window.open(APP, ["--db", C]);
  try {
    await w.type("input[name=user]", "admin");
    await w.type("input[name=password]", PASSWORD);
    await w.click("button[type=submit]");
    await w.find("[data-nav=home]");
    await w.click("[data-nav=sync]");
    await w.type("[data-testid=import-path]", INBOX);
    await w.click("[data-testid=import]");
    // The import runs off the window's thread and says how far it got.
    const progress = await w.until("the import's progress", () => w.text("[data-testid=sync-progress]"), 60000);
    assert.match(progress, /\d/);
    // Meanwhile the window answers: typing lands in a field at once.
    await w.type("[data-testid=sync-folder]", join(dir, "outbox"));
    assert.equal(await w.js("return document.querySelector('[data-testid=sync-folder]').value"), join(dir, "outbox"));
    assert.equal(await w.js("return !!document.querySelector('[data-testid=sync-progress]')"), true, "still importing while typed into");
    // A second command asked during the import waits its turn, then succeeds.
    await w.click("[data-testid=save-folder]");
    const result = await w.until("the import's result", () => w.text("[data-testid=import-result]"), 300000);
    assert.ok(result.replace(/[\s\u202f\u00a0,.]/g, "").includes(String(changes)), `all ${changes} changes applied: ${result}`);
    await w.until("the folder saved after the import", async () => (await w.js("return document.querySelector('[data-testid=sync-folder]').value")) === join(dir, "outbox"));
    const state = await w.text("[data-testid=sync-state]");
    assert.doesNotMatch(state, /error/i);
    await w.click("[data-nav=persons]");
    await w.until("the imported persons listed", async () => (await w.bodyText()).includes("Given1"), 30000);
  } finally {
    await w.close();
  }
});
