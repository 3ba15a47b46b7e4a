// Window benchmark (W6): the release build's cold start to the login screen and to home,
// and the memory of the app's processes, against the floor of the same window answering
// its first WebDriver command. Prints a table. Run through benches/window/run.sh.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { Window } from "../../tests/e2e/webdriver.mjs";

const APP = process.env.MASAR_APP;
const DB = process.env.MASAR_BENCH_DB;
const RUNS = Number(process.env.RUNS ?? 5);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Resident memory (MiB) of each process whose command line names `needle`, and of their children. */
function memory(needle) {
  const procs = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  const info = new Map();
  for (const pid of procs) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      const kib = (field) => Number((new RegExp(`${field}:\\s+(\\d+)`).exec(status) ?? [0, 0])[1]) / 1024;
      const rss = kib("VmRSS");
      const anon = kib("RssAnon");
      const ppid = (/PPid:\s+(\d+)/.exec(status) ?? [0, ""])[1];
      info.set(pid, { cmd, rss, anon, ppid, name: (/Name:\s+(\S+)/.exec(status) ?? [0, "?"])[1] });
    } catch {
      // The process ended meanwhile.
    }
  }
  const app = [...info].filter(([, p]) => p.cmd.includes(needle) && !p.cmd.includes("node"));
  const out = {};
  const add = (p) => {
    out[p.name] ??= { rss: 0, anon: 0 };
    out[p.name].rss += p.rss;
    out[p.name].anon += p.anon;
  };
  for (const [pid, p] of app) {
    add(p);
    for (const [, c] of [...info].filter(([, c]) => c.ppid === pid)) add(c);
  }
  return out;
}

const floor = [];
const toLogin = [];
const toHome = [];
let mem = {};
for (let i = 0; i < RUNS; i++) {
  const w = await Window.open(APP, ["--db", DB]);
  try {
    await w.js("return document.readyState");
    floor.push(Date.now() - w.started);
    await w.find("input[name=user]", 30000);
    toLogin.push(Date.now() - w.started);
    const t = Date.now();
    await w.type("input[name=user]", "demo");
    await w.type("input[name=password]", "masar-demo");
    await w.click("button[type=submit]");
    await w.find("[data-nav=home]", 30000);
    await w.find("[data-testid=recent]", 30000);
    toHome.push(Date.now() - t);
    if (i === RUNS - 1) {
      await new Promise((r) => setTimeout(r, 1000));
      mem = memory(APP);
    }
  } finally {
    await w.close();
  }
}
const f = median(floor), l = median(toLogin), h = median(toHome);
console.log("| measure | value |");
console.log("| --- | --- |");
console.log(`| runs (median of) | ${RUNS} |`);
console.log(`| floor: launch to the window's first WebDriver answer | ${f} ms |`);
console.log(`| launch to the login screen | ${l} ms (goal < 1 s) |`);
console.log(`| login screen / floor | ${(l / f).toFixed(2)}× |`);
console.log(`| log-in (key derivation included) to home | ${h} ms |`);
for (const [name, m] of Object.entries(mem)) console.log(`| resident memory: ${name} | ${m.rss.toFixed(0)} MiB (${m.anon.toFixed(0)} MiB its own, the rest mapped files: libraries, fonts) |`);
console.log(`| resident memory, all the app's processes | ${Object.values(mem).reduce((a, m) => a + m.rss, 0).toFixed(0)} MiB |`);
console.log(`| release binary | ${(Number(execFileSync("stat", ["-c", "%s", APP]).toString()) / 1048576).toFixed(1)} MiB |`);
