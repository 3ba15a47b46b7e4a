// Arabic as the window draws it: a final yeh keeps its two dots, so "علي" (Ali) and
// "على" (alef maksura) must not look alike. The words are drawn in the window's own
// bundled Arabic font and their pixels compared.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Window, sleep } from "./webdriver.mjs";

const root = new URL("../../", import.meta.url).pathname;
const APP = join(root, "target/debug/masar-desktop");
const CLI = join(root, "target/debug/masar");
const dir = mkdtempSync(join(tmpdir(), "masar-arabic-"));
// The databases these tests make are removed with the run (they run to hundreds of MB).
after(() => rmSync(dir, { recursive: true, force: true }));
const DB = join(dir, "a.db");

const PAIRS = [
  ["علي", "على"],
  ["الحموي", "الحموى"],
];

// As names appear on the screens: in a French (left-to-right) page and an Arabic one, at
// the body's size and bold as in a heading.
const CONTEXTS = [
  { lang: "fr", size: 16, weight: 400 },
  { lang: "ar", size: 16, weight: 400 },
  { lang: "ar", size: 21, weight: 700 },
];

test("a final yeh keeps its dots in the window's Arabic font", async () => {
  execFileSync(CLI, ["init", "--org", "Arabic", "--device", "d"], {
    env: { ...process.env, MASAR_DB: DB, MASAR_USER: "admin", MASAR_PASSWORD: "arabic-password" },
    stdio: "ignore",
  });
  const w = await Window.open(APP, ["--db", DB]);
  try {
    await w.find("input[name=user]");
    for (const ctx of CONTEXTS) {
      await w.set("[data-testid=language]", ctx.lang);
      await w.js(
        `document.getElementById('glyphs')?.remove();
         const box = document.createElement('div');
         box.id = 'glyphs';
         box.style.cssText = 'position:fixed;inset:0;z-index:99;background:white;color:black;font-size:' + arguments[1] + 'px;font-weight:' + arguments[2];
         // Every word at a whole-pixel place, the two of a pair at the same x, so that
         // the same glyphs give the same pixels.
         box.innerHTML = arguments[0].map((pair, i) => pair.map((word, j) =>
           '<span id="w' + i + '_' + j + '" style="position:absolute;left:' + (20 + 200 * i) + 'px;top:' + (20 + 80 * j) + 'px;padding:4px 6px">' + word + '</span>').join('')).join('');
         document.body.appendChild(box);`,
        [PAIRS, ctx.size, ctx.weight],
      );
      const loaded = await w.js("return document.fonts.ready.then(() => document.fonts.check('16px \"IBM Plex Sans Arabic\"', 'علي'))");
      assert.ok(loaded, "the bundled Arabic font is not loaded");
      // Two frames, so the screenshot shows what was just added.
      await w.js("return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))");
      await sleep(200);
      // The whole window as drawn, each word cut out of it (ImageMagick), and the two
      // words of a pair compared pixel by pixel.
      const shot = join(dir, "window.png");
      await w.screenshot(shot);
      for (const [i, [dotted, dotless]] of PAIRS.entries()) {
        const crops = [];
        for (const j of [0, 1]) {
          const r = await w.js(
            "const r = document.getElementById(arguments[0]).getBoundingClientRect(); const k = devicePixelRatio; return [r.width * k, r.height * k, r.left * k, r.top * k].map(Math.round);",
            [`w${i}_${j}`],
          );
          const out = join(dir, `${ctx.lang}-${ctx.size}-${i}-${j}.png`);
          execFileSync("convert", [shot, "-crop", `${r[0]}x${r[1]}+${r[2]}+${r[3]}`, "+repage", out]);
          crops.push(out);
        }
        let differing;
        try {
          execFileSync("compare", ["-metric", "AE", ...crops, "null:"], { stdio: ["ignore", "ignore", "pipe"] });
          differing = 0;
        } catch (e) {
          differing = Number(String(e.stderr).trim().split(" ")[0]);
        }
        if (process.env.GLYPH_SHOTS) for (const c of crops) execFileSync("cp", [c, process.env.GLYPH_SHOTS]);
        assert.ok(differing > 0, `${ctx.lang} ${ctx.size}px: "${dotted}" and "${dotless}" are drawn alike (${differing} pixels differ): the final yeh lost its dots`);
      }
    }
  } finally {
    await w.close();
  }
});
