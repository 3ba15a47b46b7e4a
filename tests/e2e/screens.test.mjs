// Every screen and record page of the demo programme, in the three languages, at the
// smallest laptop screen (1024×600): the header holds on one row, nothing is cut off
// sideways, axe-core finds no serious or critical accessibility violation, no catalogue
// key or core field name shows, and a screenshot of each is kept.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Window, sleep } from "./webdriver.mjs";

const root = new URL("../../", import.meta.url).pathname;
const APP = join(root, "target/debug/masar-desktop");
const CLI = join(root, "target/debug/masar");
const SHOTS = process.env.E2E_SCREENSHOTS ?? join(root, "target/e2e-screenshots");
const AXE = readFileSync(join(root, "ui/node_modules/axe-core/axe.min.js"), "utf8");
const dir = mkdtempSync(join(tmpdir(), "masar-screens-"));
// The databases these tests make are removed with the run (they run to hundreds of MB).
after(() => rmSync(dir, { recursive: true, force: true }));
const DEMO = join(dir, "demo.db");
const keys = Object.keys(JSON.parse(readFileSync(join(root, "i18n/en.json"), "utf8")));
// Names the core uses for fields and records: a screen must show their labels instead.
// Words of the core's English messages: a French or Arabic screen shows none.
const english = [" is not ", "cannot ", "is required", "write it as", "nothing was", "the committee", "give the ", "check the "];
const README_SHOTS = ["home", "persons", "persons-record", "sessions-record", "projects", "projects-record", "supervisor"];
const coreNames = ["project_id", "person_id", "session_id", "stage_date", "committee_date", "approved_amount", "approved_currency", "unit_cost", "next_due", "given_ar", "family_ar", "unhcr_id", "birth_year", "override_reason", "budget_line", "stage_event", "ref_item"];

before(() => {
  mkdirSync(SHOTS, { recursive: true });
  execFileSync(CLI, ["demo"], { env: { ...process.env, MASAR_DB: DEMO, MASAR_USER: "demo", MASAR_PASSWORD: "masar-demo" }, stdio: "ignore" });
});

async function pageFacts(w) {
  return w.js(`
    const nav = [...document.querySelectorAll('header nav button, header > *')];
    const tops = new Set(nav.filter((e) => e.offsetParent).map((e) => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2)));
    const header = document.querySelector('header').getBoundingClientRect().height;
    const board = document.querySelector('[data-testid=board]');
    return {
      header, rows: tops.size,
      overflow: document.documentElement.scrollWidth - innerWidth,
      boardCut: board ? board.scrollWidth - board.clientWidth : 0,
      text: document.body.innerText,
    };`);
}

async function axe(w) {
  await w.js(AXE + "\nreturn true;");
  return w.js("return axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, target: v.nodes[0] && v.nodes[0].target.join(' ') })))");
}

test("every screen in every language, at 1024×600, on the demo programme", async () => {
  const w = await Window.open(APP, ["--db", DEMO, "--demo"]);
  const counts = {};
  const serious = [];
  try {
    await w.find("input[name=user]");
    await w.size(1024, 600);
    await w.type("input[name=user]", "demo");
    await w.type("input[name=password]", "masar-demo");
    await w.click("button[type=submit]");
    await w.find("[data-nav=home]");
    for (const lang of ["fr", "ar", "en"]) {
      await w.set("[data-testid=language]", lang);
      await sleep(200);
      const visits = [
        ["home", null],
        ["persons", null],
        ["persons", "errors"],
        ["persons", "record"],
        ["sessions", "record"],
        ["projects", null],
        ["projects", "board"],
        ["projects", "record"],
        ["dashboard", null],
        ["sync", null],
        ["supervisor", null],
        ["admin", null],
      ];
      for (const [screen, what] of visits) {
        await w.click(`[data-nav=${screen}]`);
        await sleep(300);
        if (screen === "persons" && what === "errors") {
          // Refused input, said in the user's language: a missing name, a wrong code.
          await w.click("[data-testid=register]");
          await w.set("select[name=nationality]", "*");
          await w.type("input[name=nationality]", "Syria");
          await w.click("[data-testid=register-form] button[type=submit]");
          await w.find(".field-error, .error");
        } else if (screen === "persons" && what === "record") {
          await w.type("[data-testid=person-search]", "a");
          await w.until("persons found", async () => (await w.all("[data-testid=search-results] button")).length > 0);
          await w.click("[data-testid=search-results] button");
          await w.find("[data-testid=record-heading]");
        } else if (screen === "sessions") {
          await w.click(".list button");
          await w.find("[data-testid=attendance]");
        } else if (screen === "projects" && what === "record") {
          await w.click("[data-testid=view-table]");
          await w.set("[data-testid=filter-stage]", "approved");
          await w.until("approved projects", async () => (await w.all("[data-testid=projects-table] tbody button")).length > 0);
          await w.click("[data-testid=projects-table] tbody button");
          await w.find("[data-testid=record-heading]");
          // Paying far above the approved amount is refused, in the user's language.
          await w.type("[data-testid=pay-form] input[name=amount]", "9 999 999");
          await w.set("[data-testid=pay-form] select[name=donor]", await w.js("return document.querySelector('[data-testid=pay-form] select[name=donor] option:nth-child(2)').value"));
          await w.click("[data-testid=pay]");
          const refusal = await w.until("the refusal", () => w.text("[data-testid=project-error]"));
          const expected = { fr: /montant approuvé/, ar: /المبلغ الموافق عليه/, en: /the committee approved/ }[lang];
          assert.match(refusal, expected, `${lang}: ${refusal}`);
        } else if (screen === "dashboard") {
          await w.find("[data-testid=chart-journey] canvas");
        } else if (screen === "projects" && what === "board") {
          await w.click("[data-testid=view-board]");
          await w.find("[data-testid=board] .tile");
        }
        await sleep(200);
        const name = `${screen}${what ? "-" + what : ""}`;
        const facts = await pageFacts(w);
        assert.equal(facts.rows, 1, `${lang} ${name}: the header takes ${facts.rows} rows`);
        assert.ok(facts.overflow <= 0, `${lang} ${name}: the page is ${facts.overflow}px wider than the window`);
        assert.ok(facts.boardCut <= 0, `${lang} ${name}: the board is cut by ${facts.boardCut}px`);
        const raw = keys.filter((k) => facts.text.includes(k));
        assert.deepEqual(raw, [], `${lang} ${name} shows catalogue keys`);
        const names = coreNames.filter((n) => facts.text.includes(n));
        assert.deepEqual(names, [], `${lang} ${name} shows the core's field names`);
        if (lang !== "en") {
          const words = english.filter((n) => facts.text.includes(n));
          assert.deepEqual(words, [], `${lang} ${name} shows the core's English`);
        }
        const violations = await axe(w);
        counts[`${lang}-${name}`] = violations.reduce((n, v) => n + v.nodes, 0);
        for (const v of violations) if (v.impact === "serious" || v.impact === "critical") serious.push(`${lang} ${name}: ${v.id} (${v.impact}, ${v.nodes}× e.g. ${v.target})`);
        await w.screenshot(join(SHOTS, `demo-${lang}-${name}.png`));
        // The README shows the demo a newcomer sees, never test data.
        if (README_SHOTS.includes(name)) await w.screenshot(join(root, "docs/screenshots", `${lang}-${name}.png`));
      }
    }
  } finally {
    await w.close();
    console.log(`axe violations (all impacts) per screen: ${JSON.stringify(counts)}`);
  }
  assert.deepEqual(serious, [], "serious or critical accessibility violations");
});

test("the donor report's first page, in French and in Arabic, is kept in docs/screenshots", () => {
  const env = { ...process.env, MASAR_DB: DEMO, MASAR_USER: "demo", MASAR_PASSWORD: "masar-demo" };
  const day = (d) => d.toISOString().slice(0, 10);
  const to = new Date();
  const from = new Date(to.getTime() - 2 * 365 * 86400e3);
  const docs = join(root, "docs/screenshots");
  const title = { fr: "Rapport aux bailleurs", ar: "تقرير إلى المانحين" };
  for (const lang of ["fr", "ar"]) {
    const pdf = join(dir, `donor-report-${lang}.pdf`);
    execFileSync(CLI, ["report", "donor", "--from", day(from), "--to", day(to), "--lang", lang, "--out", pdf], { env, stdio: "ignore" });
    const text = execFileSync("pdftotext", [pdf, "-"], { encoding: "utf8" }).replace(/[\u202a-\u202c\u2066-\u2069]/g, "");
    assert.ok(text.includes(title[lang]), `${lang}: the title reads in logical order`);
    execFileSync("pdftoppm", ["-f", "1", "-l", "1", "-r", "80", "-png", "-singlefile", pdf, join(docs, `donor-report-${lang}`)]);
    const png = readFileSync(join(docs, `donor-report-${lang}.png`));
    assert.ok(png.length > 20000, `${lang}: the first page rendered (${png.length} bytes)`);
  }
});

async function logIn(w, user) {
  await w.find("input[name=user]");
  await w.type("input[name=user]", user);
  await w.type("input[name=password]", "masar-demo");
  await w.click("button[type=submit]");
  await w.find("[data-nav=home]");
}

/** How much a chart's canvas holds: a blank one encodes to a short PNG. */
const drawn = (w, id) => w.js(`return document.querySelector('[data-testid=${id}] canvas').toDataURL().length`);

test("the dashboard: charts drawn and mirrored in Arabic, Arabic digits, the donor report made from the window, a counsellor's own caseload", async () => {
  const env = { ...process.env, MASAR_DB: DEMO, MASAR_USER: "demo", MASAR_PASSWORD: "masar-demo" };
  const docs = join(root, "docs/screenshots");
  const out = mkdtempSync(join(tmpdir(), "masar-reports-"));
  let w = await Window.open(APP, ["--db", DEMO, "--demo"]);
  try {
    await w.size(1280, 900);
    await logIn(w, "demo");
    // About says what --version says: the version, the schema, the bundle format.
    const [, version, schema, format] = execFileSync(CLI, ["--version"], { encoding: "utf8" }).match(/masar (\S+) \(database schema (\d+), bundle format (\d+)/);
    await w.click("[data-testid=about] summary");
    const about = await w.text("[data-testid=about]");
    for (const part of [version, schema, format]) assert.ok(about.includes(part), `${about} lacks ${part}`);
    await w.click("[data-testid=about] summary");
    await w.click("[data-nav=dashboard]");
    await w.find("[data-testid=chart-journey] canvas");
    // The figures are the core's: the same as the command line's for the same period.
    // The dashboard opens on this year up to today, by the core's clock (this machine's).
    const to = new Date().toISOString().slice(0, 10);
    const from = `${to.slice(0, 4)}-01-01`;
    const cli = JSON.parse(execFileSync(CLI, ["--json", "report", "indicators", "--from", from, "--to", to], { env, encoding: "utf8" }));
    for (const lang of ["fr", "ar", "en"]) {
      await w.set("[data-testid=language]", lang);
      await sleep(400);
      for (const id of ["chart-journey", "chart-money-donor", "chart-money-sector", "chart-survival", "chart-overdue"]) {
        assert.ok((await drawn(w, id)) > 3000, `${lang}: ${id} is drawn`);
        assert.equal(await w.js(`return document.querySelector('[data-testid=${id}]').dataset.mirrored`), lang === "ar" ? "yes" : "no", `${lang}: ${id}`);
      }
      const table = await w.text("[data-testid=report]");
      assert.ok(table.includes(new Intl.NumberFormat({ fr: "fr-FR", ar: "ar-MA", en: "en-GB" }[lang]).format(cli.indicators.welcomed)), `${lang}: the welcomed count ${cli.indicators.welcomed} is shown: ${table}`);
      await w.screenshot(join(docs, `dashboard-${lang}.png`));
      await w.js("document.querySelector('[data-testid=chart-money-donor]').scrollIntoView(); return true;");
      await sleep(200);
      await w.screenshot(join(docs, `dashboard-charts-${lang}.png`));
      await w.js("window.scrollTo(0, 0); return true;");
    }
    // Arabic digits, where the user prefers them.
    await w.set("[data-testid=language]", "ar");
    await w.set("[data-testid=digits]", "arab");
    await sleep(300);
    assert.match(await w.text("[data-testid=report]"), /[\u0660-\u0669]/, "Arabic-Indic digits");
    assert.doesNotMatch(await w.text("[data-testid=report]"), /[0-9]/);
    await w.set("[data-testid=digits]", "latn");
    // The donor report, made from the window in the user's language.
    await w.type("[data-testid=report-folder]", out);
    await w.click("[data-testid=donor-report]");
    const saved = await w.until("the report saved", () => w.text("[data-testid=saved]"));
    const pdf = readdirSync(out).find((f) => f.endsWith(".pdf"));
    assert.ok(pdf && saved.includes(pdf), `${saved}`);
    const text = execFileSync("pdftotext", [join(out, pdf), "-"], { encoding: "utf8" }).replace(/[\u202a-\u202c\u2066-\u2069]/g, "");
    assert.ok(text.includes("تقرير إلى المانحين"), "the window's report is in Arabic");
    await w.set("[data-testid=export-what]", "persons");
    await w.set("[data-testid=export-format]", "csv");
    await w.click("[data-testid=export-pseudonymise]");
    await w.click("[data-testid=export-table]");
    await w.until("the export saved", async () => (await w.text("[data-testid=saved]")).includes(".csv"));
    const csv = readFileSync(join(out, readdirSync(out).find((f) => f.endsWith(".csv"))), "utf8");
    assert.ok(!csv.split("\n")[0].includes("phone") && csv.includes("P-"), "pseudonymised: no phone column, pseudonyms");
    await w.set("[data-testid=language]", "fr");
  } finally {
    await w.close();
    rmSync(out, { recursive: true, force: true });
  }
  // A counsellor sees their own caseload, and no donor report or person-level export.
  w = await Window.open(APP, ["--db", DEMO, "--demo"]);
  try {
    await logIn(w, "karim");
    await w.click("[data-nav=dashboard]");
    await w.find("[data-testid=chart-journey] canvas");
    assert.match(await w.text("[data-testid=scope]"), /portefeuille/);
    assert.equal((await w.all("[data-testid=donor-report]")).length, 0);
    const tables = await w.js("return [...document.querySelectorAll('[data-testid=export-what] option')].map((o) => o.value)");
    assert.ok(!tables.includes("persons") && !tables.includes("attendance") && tables.includes("sessions"), `${tables}`);
  } finally {
    await w.close();
  }
});
