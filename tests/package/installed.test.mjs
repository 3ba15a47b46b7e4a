// The installed app, as a counsellor meets it after IT installed the .deb: its first run
// (create an organisation, which logs in, then register a person), and after an upgrade
// to a higher version, the same person. Run by tests/package/run.sh, which installs,
// upgrades and removes the package around these two phases (MASAR_PACKAGE_PHASE).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Window, sleep } from "../e2e/webdriver.mjs";

const APP = "/usr/bin/masar-desktop";
const PASSWORD = "package-password-1";

async function register(w) {
  await w.click("[data-nav=persons]");
  await w.click("[data-testid=register]");
  await w.type("input[name=given]", "Nadia");
  await w.type("input[name=family]", "Benali");
  await w.set("select[name=sex]", "female");
  await w.set("input[name=born]", "1992-06-15");
  await w.set("select[name=nationality]", "SYR");
  await w.click("[data-testid=register-form] button[type=submit]");
}

test("the installed app's first run, in the system's language: create an organisation, register a person", { skip: process.env.MASAR_PACKAGE_PHASE !== "first" }, async () => {
  const w = await Window.open(APP, []);
  try {
    await w.find("input[name=org]");
    // The system speaks English here (run.sh): the first-run screen follows it.
    assert.equal(await w.js("return document.documentElement.lang"), "en");
    assert.match(await w.bodyText(), /Create/);
    await w.type("input[name=org]", "Field office");
    await w.type("input[name=device]", "laptop-1");
    await w.type("input[name=user]", "admin");
    await w.type("input[name=password]", PASSWORD);
    await w.click("button[type=submit]");
    await w.find("[data-nav=home]");
    await register(w);
    // Registering opens the person's page.
    await w.until("the person registered", async () => (await w.text("[data-testid=record-heading]")).includes("Benali"));
  } finally {
    await w.close();
  }
});

test("after the upgrade the person is still there", { skip: process.env.MASAR_PACKAGE_PHASE !== "upgraded" }, async () => {
  const w = await Window.open(APP, []);
  try {
    await w.find("input[name=user]");
    await w.type("input[name=user]", "admin");
    await w.type("input[name=password]", PASSWORD);
    await w.click("button[type=submit]");
    await w.find("[data-nav=home]");
    await w.click("[data-nav=persons]");
    await w.type("[data-testid=person-search]", "Nadia");
    await sleep(300);
    await w.until("the person kept through the upgrade", async () => (await w.bodyText()).includes("Benali"));
  } finally {
    await w.close();
  }
});
