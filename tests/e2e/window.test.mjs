// The real Masar window, built by cargo, driven under Xvfb through tauri-driver and
// WebKitWebDriver. Databases are made with the real `masar` CLI beforehand.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync, copyFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Window, sleep } from "./webdriver.mjs";

const root = new URL("../../", import.meta.url).pathname;
const APP = join(root, "target/debug/masar-desktop");
const CLI = join(root, "target/debug/masar");
const SHOTS = process.env.E2E_SCREENSHOTS ?? join(root, "target/e2e-screenshots");
const PASSWORD = "e2e-password-1";
const dir = mkdtempSync(join(tmpdir(), "masar-e2e-"));
// The databases these tests make are removed with the run (they run to hundreds of MB).
after(() => rmSync(dir, { recursive: true, force: true }));
const A = join(dir, "a.db");
const B = join(dir, "b.db");
const DEMO = join(dir, "demo.db");
const SYNC = join(dir, "sync");
const keys = Object.keys(JSON.parse(readFileSync(join(root, "i18n/en.json"), "utf8")));
const figures = {};
let omar;

function cli(db, args, user = "admin", password = PASSWORD, extra = {}) {
  const out = execFileSync(CLI, ["--json", ...args], {
    env: { ...process.env, MASAR_DB: db, MASAR_USER: user, MASAR_PASSWORD: password, MASAR_ENROL_PASSPHRASE: "e2e passphrase", ...extra },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return JSON.parse(out.toString());
}

const today = (offset = 0) => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);

before(() => {
  mkdirSync(SHOTS, { recursive: true });
  mkdirSync(SYNC, { recursive: true });
  cli(A, ["init", "--org", "E2E programme", "--device", "laptop-a"]);
  for (const [list, name] of [["sector", "tailoring"], ["donor", "EU"], ["currency", "MAD"], ["partner", "Employment agency"]]) cli(A, ["ref", "add", list, name]);
  omar = cli(A, ["person", "add", "--given", "Omar", "--family", "Khatib", "--given-ar", "عمر", "--sex", "male", "--born", "1985-02-02", "--nationality", "SYR"]).id;
  const roster = join(dir, "roster.csv");
  writeFileSync(roster, "given,family,sex,born,nationality\n" + Array.from({ length: 25 }, (_, i) => `Person${i},Rosterfamily,female,1990-01-01,SYR`).join("\n") + "\n");
  cli(A, ["import", "persons", roster]);
  cli(A, ["enrol", "--out", join(dir, "b.enrol")]);
  cli(B, ["init", "--join", join(dir, "b.enrol"), "--device", "laptop-b"]);
  cli(A, ["bundle", "export", "--out", join(dir, "seed.masar")]);
  cli(B, ["bundle", "import", join(dir, "seed.masar")]);
  cli(DEMO, ["demo"], "demo", "masar-demo");
});

async function login(w, user = "admin", password = PASSWORD) {
  await w.type("input[name=user]", user);
  await w.type("input[name=password]", password);
  await w.click("button[type=submit]");
  await w.find("[data-nav=home]");
}

async function headingHasFocus(w) {
  await w.until("the record's heading to have the focus", async () => (await w.js("return document.activeElement && document.activeElement.dataset.testid")) === "record-heading");
}

async function go(w, screen) {
  await w.click(`[data-nav=${screen}]`);
  await sleep(300);
}

async function noRawKeys(w, where) {
  const text = await w.bodyText();
  const raw = keys.filter((k) => text.includes(k));
  assert.deepEqual(raw, [], `${where} shows raw keys`);
}

test("a wrong password is refused with a message, and the cold start is measured", async () => {
  const w = await Window.open(APP, ["--db", A]);
  try {
    await w.find("input[name=user]");
    figures.cold_start_to_login_ms = Date.now() - w.started;
    await w.type("input[name=user]", "admin");
    await w.type("input[name=password]", "not the password");
    await w.click("button[type=submit]");
    const msg = await w.until("the login error", () => w.text("[data-testid=login-error]"));
    assert.match(msg, /Nom d'utilisateur ou mot de passe incorrect/);
    assert.equal(await w.js("return !!document.querySelector('[data-nav=home]')"), false);
  } finally {
    await w.close();
  }
});

test("the whole journey in the window, in three languages", async () => {
  const w = await Window.open(APP, ["--db", A]);
  try {
    await login(w);
    // Register a person with Arabic names; find them by an Arabic and by a Latin fragment.
    await go(w, "persons");
    await w.click("[data-testid=register]");
    await w.type("input[name=given]", "Fatima");
    await w.type("input[name=family]", "Zahra");
    await w.type("input[name=given_ar]", "فاطمة");
    await w.type("input[name=family_ar]", "الزهراء");
    await w.set("select[name=sex]", "female");
    await w.set("input[name=born]", "1990-04-01");
    // A phone: run.sh checks that no name or phone typed here reaches the support log.
    await w.set("input[name=phone]", "0612345678");
    // A wrong value is explained beside its field, in the user's language, and nothing is saved.
    // A country outside the list is typed as a code; a wrong one is refused beside its field.
    await w.set("select[name=nationality]", "*");
    await w.type("input[name=nationality]", "Syria");
    await w.click("[data-testid=register-form] button[type=submit]");
    const beside = await w.until("the error beside the field", () => w.text("label:has(input[name=nationality]) .field-error"));
    assert.match(beside, /« \u2068?Syria\u2069? » n'est pas un code de pays/);
    assert.match(beside, /code ISO à trois lettres/);
    assert.doesNotMatch(beside, /three-letter|is not/, "no English of the core in French");
    await w.type("input[name=nationality]", "SYR");
    await w.click("[data-testid=register-form] button[type=submit]");
    assert.match(await w.until("the profile", () => w.text("[data-testid=profile-name]")).catch(async (e) => { console.log("BODY:", await w.bodyText()); throw e; }), /Fatima Zahra/);
    await headingHasFocus(w);
    await w.click("[data-testid=back]");
    for (const fragment of ["فاطم", "zahr"]) {
      await w.type("[data-testid=person-search]", fragment);
      await w.until(`a result for ${fragment}`, async () => (await w.text("[data-testid=search-results]")).includes("Fatima"));
    }

    // An intake for a person already registered.
    await w.click("[data-testid=search-results] button");
    await w.type("input[name=intake_referral]", "Employment agency");
    await w.click("[data-testid=intake-form] button[type=submit]");
    await w.until("the intake on the timeline", async () => (await w.all("[data-testid=timeline] li[data-kind=intake]")).length === 2);
    await w.click("[data-testid=back]");
    // A record opened from a list is a page whose heading has the focus.
    await w.click("[data-testid=search-results] button");
    await headingHasFocus(w);
    await w.click("[data-testid=back]");
    // A name that is markup is shown as text.
    const evil = "<img src=x onerror=alert(1)>";
    await w.click("[data-testid=register]");
    await w.type("input[name=given]", evil);
    await w.type("input[name=family]", "Test");
    await w.set("select[name=sex]", "male");
    // A date typed in one go, in the French order: the 15th of March.
    await w.type("input[name=born]", "15031994");
    await w.set("select[name=nationality]", "COD");
    await w.click("[data-testid=register-form] button[type=submit]");
    await w.until("the profile", async () => (await w.text("[data-testid=profile-name]")).includes("<img"));
    assert.equal(await w.text("[data-testid=profile-name]"), `${evil} Test`);
    assert.equal(await w.js("return document.querySelectorAll('[data-testid=profile] img').length"), 0);
    assert.match(await w.text("[data-testid=profile]"), /15 mars 1994/);

    // Attendance at an awareness session.
    await go(w, "sessions");
    await w.type("input[name=topic]", "Why self-employment?");
    await w.click("[data-testid=session-form] button[type=submit]");
    await w.find("[data-testid=attendance]");
    await w.type("[data-testid=roster-search]", "Fatima");
    await w.until("Fatima on the roster", async () => (await w.all("[data-testid=roster-check]")).length === 1);
    await w.click("[data-testid=roster-check]");
    await w.click("[data-testid=roster-save]");
    await w.until("one present", async () => /1/.test(await w.text("[data-testid=present-count]")));
    // A roster of 25: search, everyone present, save — three actions.
    await w.type("input[name=topic]", "Savings groups");
    await w.click("[data-testid=session-form] button[type=submit]");
    await w.until("the new session", async () => (await w.text("[data-testid=attendance]")).includes("Savings groups"));
    let actions = 0;
    await w.type("[data-testid=roster-search]", "Rosterfamily"); actions++;
    await w.until("25 on the roster", async () => (await w.all("[data-testid=roster-check]")).length === 25);
    await w.click("[data-testid=roster-all]"); actions++;
    await w.click("[data-testid=roster-save]"); actions++;
    await w.until("25 present", async () => /25/.test(await w.text("[data-testid=present-count]")));
    assert.ok(actions < 5, `${actions} actions`);
    figures.roster_actions_for_25 = actions;

    // A project with two members and a plan, approved, paid in two tranches, visited.
    await go(w, "home");
    const before = await w.text("[data-testid=overdue]");
    assert.ok(!before.includes("Couture Fatima"));
    await go(w, "projects");
    await w.click("[data-testid=new-project]");
    await w.type("input[name=title]", "Couture Fatima");
    await w.set("select[name=kind]", "creation");
    await w.set("select[name=sector]", "tailoring");
    for (const who of ["Fatima", "Omar"]) {
      await w.type("[data-testid=member-search]", who);
      await w.until(`${who} found`, async () => (await w.all("[data-testid=add-member]")).length > 0);
      await w.click("[data-testid=add-member]");
    }
    await w.click("[data-testid=project-form] button[type=submit]");
    await w.find("[data-testid=project-detail]");
    await headingHasFocus(w);
    // Amounts typed the French way: a decimal comma.
    for (const [item, q, c] of [["Sewing machine", "2", "450,25"], ["Fabric", "3", "116,6"]]) {
      await w.type("input[name=item]", item);
      await w.type("input[name=quantity]", q);
      await w.type("input[name=unit_cost]", c);
      await w.click("[data-testid=add-line]");
      await w.until(`line ${item}`, async () => (await w.text("[data-testid=budget]")).includes(item));
    }
    await w.until("the exact total", async () => /1.?250[,.]30/.test(await w.text("[data-testid=budget-total]")));
    // A change of stage is confirmed, and the last one can be undone.
    for (const stage of ["plan_ready", "in_committee"]) {
      await w.click(`[data-stage=${stage}]`);
      await w.click("[data-testid=stage-confirm]");
      await w.until(`stage ${stage}`, async () => (await w.all(`[data-stage=${stage}]`)).length === 0);
    }
    await w.click("[data-testid=stage-undo]");
    await w.until("back to plan ready", async () => (await w.all("[data-stage=in_committee]")).length === 1);
    await w.click("[data-stage=in_committee]");
    await w.click("[data-testid=stage-confirm]");
    await w.find("[data-testid=decide-form]");
    assert.ok((await w.all("[data-testid=add-line]")).length === 0, "the plan is frozen in committee");
    await w.set("[data-testid=decide-form] input[name=date]", today());
    await w.type("[data-testid=decide-form] input[inputmode=decimal]", "1 250,30");
    await w.click("[data-testid=decide]");
    await w.find("[data-testid=pay-form]");
    assert.match(await w.text("[data-testid=committee]"), /1.?250,30/);
    // A double click records one tranche.
    await w.set("[data-testid=pay-form] input[name=date]", today());
    await w.type("input[name=amount]", "800");
    await w.set("select[name=donor]", "EU");
    await w.js("const b = document.querySelector('[data-testid=pay]'); b.click(); b.click();");
    await w.until("the first tranche", async () => (await w.all("[data-testid=project-detail] li[id^=item-]")).length >= 1);
    await sleep(500);
    assert.equal((await w.all("[data-testid=project-detail] li[id^=item-]")).length, 1, "one tranche for a double click");
    assert.equal(await w.js("return document.querySelector('input[name=amount]').value"), "", "the form is empty after a save");
    // Above the approved amount: refused with a message in French; "10 000" is read as 10000.
    await w.type("input[name=amount]", "10 000");
    await w.set("select[name=donor]", "EU");
    await w.click("[data-testid=pay]");
    const refusal = await w.until("the refusal", () => w.text("[data-testid=project-error]"));
    assert.match(refusal, /montant approuvé/);
    assert.match(refusal, /10.?800/);
    assert.doesNotMatch(refusal, /approved|above/, "no English of the core in French");
    await w.type("input[name=amount]", "450,30");
    await w.set("select[name=donor]", "EU");
    await w.click("[data-testid=pay]");
    await w.until("the second tranche", async () => (await w.all("[data-testid=project-detail] li[id^=item-]")).length === 2);
    assert.match(await w.text("[data-testid=project-stage]"), /Funded|Financé/);
    assert.match(await w.text("[data-testid=remaining]"), /^0/);
    // A new decision of the committee raises the approval: the only way it changes.
    await w.type("[data-testid=amend-form] input[inputmode=decimal]", "1 500");
    await w.click("[data-testid=amend]");
    await w.until("the new approval", async () => /1.?500/.test(await w.text("[data-testid=committee]")));
    await w.until("what remains of it", async () => /249,70/.test(await w.text("[data-testid=remaining]")));
    await w.set("[data-testid=visit-form] input[name=date]", today(-30));
    await w.set("[data-testid=visit-form] input[name=next_due]", today(-2));
    await w.type("[data-testid=visit-form] input[name=revenue]", "3000");
    await w.click("[data-testid=visit]");
    await sleep(400);
    // The "open" link of a tranche or a visit on a person's timeline opens its project.
    await go(w, "persons");
    await w.type("[data-testid=person-search]", "Fatima");
    await w.until("Fatima found", async () => (await w.all("[data-testid=search-results] button")).length > 0);
    await w.click("[data-testid=search-results] button");
    for (const kind of ["disbursement", "followup"]) {
      // The person's page loads its timeline after it opens: wait for it, on a slow machine too.
      await w.until(`the ${kind} on the timeline`, async () => (await w.all(`[data-testid=timeline] li[data-kind=${kind}]`)).length > 0);
      const eventId = await w.js(`return document.querySelector('[data-testid=timeline] li[data-kind=${kind}]').dataset.id`);
      await w.click(`[data-testid=timeline] li[data-kind=${kind}] [data-testid=open-project]`);
      await w.until(`the project opened from a ${kind}`, async () => (await w.text("[data-testid=project-detail]")).includes("Couture Fatima"));
      await w.until(`the ${kind} itself has the focus`, async () => (await w.js("return document.activeElement && document.activeElement.id")) === `item-${eventId}`);
      await go(w, "persons");
      await w.type("[data-testid=person-search]", "Fatima");
      await w.until("Fatima found", async () => (await w.all("[data-testid=search-results] button")).length > 0);
      await w.click("[data-testid=search-results] button");
    }
    await go(w, "home");
    await w.until("the project in the overdue list", async () => (await w.text("[data-testid=overdue]")).includes("Couture Fatima"));

    // Every main screen in every language, right to left in Arabic, with no raw key.
    for (const lang of ["fr", "ar", "en"]) {
      await w.set("[data-testid=language]", lang);
      await sleep(300);
      assert.equal(await w.js("return document.documentElement.dir"), lang === "ar" ? "rtl" : "ltr");
      if (lang === "ar") assert.match(await w.text("[data-nav=persons]"), /الأشخاص/);
      for (const screen of ["home", "persons", "sessions", "projects", "sync", "supervisor", "admin"]) {
        await go(w, screen);
        if (screen === "persons") {
          await w.type("[data-testid=person-search]", "Fatima");
          await sleep(400);
        }
        await noRawKeys(w, `${screen} in ${lang}`);
        await w.screenshot(join(SHOTS, `${lang}-${screen}.png`));
      }
    }
    await w.set("[data-testid=language]", "fr");
    assert.equal(await w.js("return document.documentElement.dir"), "ltr");
  } finally {
    await w.close();
  }
  const projects = cli(A, ["report", "indicators", "--from", today(-365), "--to", today()]);
  assert.equal(projects.indicators.amount_disbursed.MAD, "1250.30");
  assert.equal(projects.indicators.sensitised, 26, "Fatima, and the roster of 25");
});

test("a bundle exported in one window is imported in another, and a conflict is resolved", async () => {
  cli(A, ["person", "set", omar, "city=Rabat"]);
  cli(B, ["person", "set", omar, "city=Oujda"]);
  let w = await Window.open(APP, ["--db", A]);
  try {
    await login(w);
    await go(w, "sync");
    await w.type("[data-testid=sync-folder]", SYNC);
    await w.click("[data-testid=export]");
    await w.until("the export", () => w.text("[data-testid=export-result]"));
  } finally {
    await w.close();
  }
  cli(B, ["user", "add", "sara", "--role", "supervisor"], "admin", PASSWORD, { MASAR_NEW_PASSWORD: "sara-supervisor-26" });
  w = await Window.open(APP, ["--db", B]);
  try {
    await login(w, "sara", "sara-supervisor-26");
    await go(w, "sync");
    await w.type("[data-testid=import-path]", SYNC);
    await w.click("[data-testid=import]");
    const result = await w.until("the import", () => w.text("[data-testid=import-result]"));
    assert.match(result, /1\u2069? conflit/);
    await go(w, "supervisor");
    await w.click("[data-testid=keep-other]");
    await w.until("no conflict left", async () => (await w.all("[data-testid=keep-other]")).length === 0);
    // The language is remembered for this user on this laptop.
    await w.set("[data-testid=language]", "ar");
    await sleep(300);
    // Levantine month names, remembered too.
    await w.set("[data-testid=months]", "levant");
    await sleep(300);
  } finally {
    await w.close();
  }
  w = await Window.open(APP, ["--db", B]);
  try {
    await login(w, "sara", "sara-supervisor-26");
    await w.until("Arabic again", async () => (await w.js("return document.documentElement.dir")) === "rtl");
    assert.equal(await w.js("return document.querySelector('[data-testid=language]').value"), "ar");
    assert.equal(await w.js("return document.querySelector('[data-testid=months]').value"), "levant");
    await w.click("[data-nav=home]");
    await w.until("a Levantine month name", async () => /كانون|شباط|آذار|نيسان|أيار|حزيران|تموز|آب|أيلول|تشرين/.test(await w.bodyText()));
  } finally {
    await w.close();
  }
  assert.deepEqual(cli(B, ["conflicts", "list"]), []);
  assert.equal(cli(B, ["person", "get", omar]).city, "Rabat");
});

test("the demo database opens fast enough and its memory is measured", async () => {
  const w = await Window.open(APP, ["--db", DEMO, "--demo"]);
  try {
    await w.find("[data-testid=demo-hint]");
    figures.demo_cold_start_to_login_ms = Date.now() - w.started;
    const t0 = Date.now();
    await login(w, "demo", "masar-demo");
    await w.find("[data-testid=overdue] li");
    figures.demo_login_to_home_ms = Date.now() - t0;
    await sleep(500);
    // The app and the WebKit processes it started (its children), not the drivers.
    const rss = execFileSync("bash", ["-c", "app=$(pgrep -x masar-desktop | head -1); for p in $app $(pgrep -P $app); do grep VmRSS /proc/$p/status; done | awk '{s+=$2} END {print s}'"]).toString().trim();
    figures.memory_app_only_mib = Math.round(Number(execFileSync("bash", ["-c", "grep VmRSS /proc/$(pgrep -x masar-desktop | head -1)/status | awk '{print $2}'"]).toString().trim()) / 1024);
    figures.memory_after_start_mib = Math.round(Number(rss) / 1024);
  } finally {
    await w.close();
  }
});

test("an administrator revokes a lost laptop in the window, after saying yes twice", async () => {
  const b = cli(B, ["status"]).device_id;
  const w = await Window.open(APP, ["--db", A]);
  try {
    await login(w);
    await go(w, "admin");
    await w.screenshot(join(SHOTS, "admin-devices.png"));
    await w.click("[data-testid=revoke-device]");
    // Nothing happens before the confirmation, and cancelling is offered.
    assert.equal(cli(A, ["device", "list"]).find((d) => d.id === b).revoked, false);
    await w.click("[data-testid=revoke-confirm]");
    await w.until("the revocation", async () => (await w.bodyText()).includes(b.slice(-12)) && /revoked|révoqué|ألغ/.test(await w.bodyText()));
    await noRawKeys(w, "admin after a revocation");
  } finally {
    await w.close();
  }
  assert.equal(cli(A, ["device", "list"]).find((d) => d.id === b).revoked, true);
  // Laptop B cannot read what A writes from now on.
  cli(A, ["bundle", "export", "--out", join(dir, "after-revocation.masar")]);
  assert.throws(() => cli(B, ["bundle", "import", join(dir, "after-revocation.masar")]), /has not received/);
});

test("an administrator sets the programme's currency and writes the organisation's key offline", async () => {
  for (const c of ["MAD", "EUR"]) cli(A, ["ref", "add", "currency", c]);
  const keyFile = join(dir, "organisation.masarkey");
  const w = await Window.open(APP, ["--db", A]);
  try {
    await login(w);
    await go(w, "admin");
    await w.set("select[name=list]", "currency");
    await w.until("the currency list", async () => (await w.all("[data-testid=make-programme-currency]")).length === 2);
    await w.click("[data-testid=make-programme-currency]");
    await w.find("[data-testid=programme-currency]");
    const chosen = cli(A, ["ref", "currency"]);
    assert.ok(["MAD", "EUR"].includes(chosen), `the programme's currency: ${chosen}`);
    // A weak passphrase is refused where the user looks, and nothing is written.
    await w.type("input[name=org_key_out]", keyFile);
    await w.type("input[name=org_key_passphrase]", "password1");
    await w.click("[data-testid=org-key-export]");
    await w.until("the refusal", async () => (await w.all(".error")).length > 0);
    assert.ok(!existsSync(keyFile), "nothing written");
    await w.type("input[name=org_key_passphrase]", "the cedar box under the stairs");
    await w.click("[data-testid=org-key-export]");
    await w.until("the key written", async () => existsSync(keyFile));
    await noRawKeys(w, "admin after the key was written");
  } finally {
    await w.close();
  }
  // The file opens with its passphrase and is this organisation's key.
  const back = cli(A, ["org", "key", "import", keyFile], "admin", PASSWORD, { MASAR_KEY_PASSPHRASE: "the cedar box under the stairs" });
  assert.equal(back.user, "admin");
});

after(() => {
  console.log(`E2E figures: ${JSON.stringify(figures)}`);
});

test("the first-run screen offers a fictional programme, kept apart from the real database", async () => {
  const folder = join(dir, "first-run");
  mkdirSync(folder, { recursive: true });
  const real = join(folder, "masar.db");
  const w = await Window.open(APP, ["--db", real]);
  try {
    await w.click("[data-testid=try-demo]");
    await w.find("[data-testid=demo-hint]");
    await w.type("input[name=password]", "masar-demo");
    await w.click("button[type=submit]");
    await w.find("[data-nav=home]");
    assert.ok(existsSync(join(folder, "demo.db")), "the demo is made beside the real database");
    assert.ok(!existsSync(real), "and the real database is not touched");
  } finally {
    await w.close();
  }
  // The next start opens the real database again: the first-run screen.
  const again = await Window.open(APP, ["--db", real]);
  try {
    await again.find("input[name=org]");
  } finally {
    await again.close();
  }
});

test("the daily backup is written by itself, one is made on demand, and it restores as a new laptop", async () => {
  const folder = join(dir, "backed-up");
  mkdirSync(folder, { recursive: true });
  const db = join(folder, "masar.db");
  cli(db, ["init", "--org", "Backup programme", "--device", "laptop-c"]);
  const rania = cli(db, ["person", "add", "--given", "Rania", "--family", "Backup", "--sex", "female", "--born", "1992-03-03", "--nationality", "SYR"]).id;
  const stick = join(dir, "stick");
  const w = await Window.open(APP, ["--db", db]);
  try {
    await login(w);
    await go(w, "sync");
    // Nothing was asked: the daily backup appears within seconds of logging in, and the card
    // shows it without a click.
    await w.until("the automatic backup", async () => (await w.all("[data-testid=backup-files] li")).length === 1, 30000);
    const automatic = readdirSync(join(folder, "backups"));
    assert.equal(automatic.length, 1, `one backup beside the database: ${automatic}`);
    assert.match(automatic[0], /^masar-\d{4}-\d{2}-\d{2}-\d{6}-[0-9a-f-]{12}\.masarbackup$/);
    // A folder on a stick, two kept, then a backup on demand.
    await w.type("[data-testid=backup-folder]", stick);
    await w.type("[data-testid=backup-keep]", "2");
    await w.click("[data-testid=save-backups]");
    await w.click("[data-testid=backup-now]");
    const written = await w.text("[data-testid=backup-result]");
    assert.ok(written.includes(stick), written);
    await w.until("the stick's backup in the list", async () => (await w.text("[data-testid=backup-files]")).includes(".masarbackup"));
    await noRawKeys(w, "the backups card");
  } finally {
    await w.close();
  }
  const onStick = readdirSync(stick);
  assert.equal(onStick.length, 1);
  const restored = join(dir, "restored", "masar.db");
  const answer = cli(restored, ["restore", join(stick, onStick[0])]);
  assert.notEqual(answer.new_device, answer.old_device);
  assert.equal(cli(restored, ["check"]).ok, true);
  assert.equal(cli(restored, ["person", "get", rania]).given, "Rania");
  assert.deepEqual(cli(restored, ["digest"]), cli(db, ["digest"]));
});

test("a bundle another laptop drops into the sync folder shows up in the window without a click, with a conflict badge", async () => {
  const work = join(dir, "by-itself");
  const shared = join(work, "shared");
  mkdirSync(shared, { recursive: true });
  const founder = join(work, "founder.db");
  const laptop = join(work, "laptop.db");
  cli(founder, ["init", "--org", "Folder programme", "--device", "founder"]);
  cli(founder, ["enrol", "--out", join(work, "laptop.enrol")]);
  cli(laptop, ["init", "--join", join(work, "laptop.enrol"), "--device", "laptop"]);
  const both = cli(founder, ["person", "add", "--given", "Hiba", "--family", "Shared", "--sex", "female", "--born", "1990-01-01", "--nationality", "SYR"]).id;
  cli(founder, ["sync", "--folder", shared]);
  cli(laptop, ["sync", "--folder", shared]);
  // Both change one field without seeing each other's change.
  cli(laptop, ["person", "set", both, "phone=0611111111"]);
  const w = await Window.open(APP, ["--db", laptop]);
  try {
    await login(w);
    // The window syncs at once: its own change goes out.
    await w.until("the first sync by itself", async () => (await w.text("[data-testid=sync-status]")).includes(":"), 20000);
    await go(w, "persons");
    await w.find("[data-testid=person-search]");
    const salma = cli(founder, ["person", "add", "--given", "Salma", "--family", "Dropped", "--sex", "female", "--born", "1991-01-01", "--nationality", "SYR"]).id;
    cli(founder, ["person", "set", both, "phone=0622222222"]);
    cli(founder, ["sync", "--folder", shared]);
    // No click: the persons table shows her, and the supervisor's tab a conflict.
    await w.until("the person another laptop registered", async () => (await w.bodyText()).includes("Salma"), 20000);
    await w.until("the conflict badge", async () => (await w.text("[data-testid=conflict-badge]")).trim() === "1", 10000);
    assert.ok(cli(laptop, ["person", "list"]).some((p) => p.id === salma));
    // And on demand, from the Sync screen.
    await go(w, "sync");
    await w.click("[data-testid=sync-now]");
    await w.find("[data-testid=sync-now-result]");
    await noRawKeys(w, "the sync screen");
  } finally {
    await w.close();
  }
  // The founder takes the laptop's change at its next sync: both hold the same data.
  cli(founder, ["sync"]);
  cli(laptop, ["sync"]);
  assert.deepEqual(cli(founder, ["digest"]), cli(laptop, ["digest"]));
});
