// Every catalogue has the same keys, every plural entry has every form its language
// needs, placeholders are the source's, and every key the screens use exists.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const dir = new URL("../../i18n/", import.meta.url).pathname;
const locales = { en: "en-GB", fr: "fr-FR", ar: "ar-MA" };
const cat = Object.fromEntries(Object.keys(locales).map((l) => [l, JSON.parse(readFileSync(join(dir, `${l}.json`), "utf8"))]));
const placeholders = (s) => new Set([...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));

test("every catalogue has exactly the keys of every other", () => {
  const keys = Object.keys(cat.en).sort();
  for (const [l, c] of Object.entries(cat)) {
    const missing = keys.filter((k) => !(k in c));
    const extra = Object.keys(c).filter((k) => !(k in cat.en));
    assert.deepEqual(missing, [], `${l} lacks ${missing}`);
    assert.deepEqual(extra, [], `${l} has keys English lacks: ${extra}`);
  }
});

test("plural entries have every form of their language (Arabic has six)", () => {
  for (const [l, c] of Object.entries(cat)) {
    const forms = new Intl.PluralRules(locales[l]).resolvedOptions().pluralCategories;
    for (const [k, v] of Object.entries(c)) {
      if (typeof cat.en[k] === "object") {
        assert.equal(typeof v, "object", `${l}:${k} must be a plural entry`);
        for (const f of forms) assert.ok(f in v, `${l}:${k} lacks the '${f}' form`);
      }
    }
  }
  assert.equal(new Intl.PluralRules("ar").resolvedOptions().pluralCategories.length, 6);
});

test("translations use no placeholder the English text does not have", () => {
  for (const [l, c] of Object.entries(cat)) {
    for (const [k, v] of Object.entries(c)) {
      const en = cat.en[k];
      const enSet = placeholders(typeof en === "string" ? en : Object.values(en).join(" "));
      for (const text of typeof v === "string" ? [v] : Object.values(v)) {
        for (const p of placeholders(text)) assert.ok(enSet.has(p), `${l}:${k} uses {${p}}`);
      }
    }
  }
});

test("every key the screens ask for exists", () => {
  const src = new URL("../src/", import.meta.url).pathname;
  const files = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (/\.(svelte|ts)$/.test(e.name)) files.push(join(d, e.name));
    }
  };
  walk(src);
  const used = new Set();
  const prefixes = new Set();
  for (const f of files) {
    const text = readFileSync(f, "utf8");
    for (const m of text.matchAll(/\bt\("([a-z_]+\.[a-z_.]+)"/g)) used.add(m[1]);
    for (const m of text.matchAll(/\bt\(`([a-z_]+)\.\$\{/g)) prefixes.add(m[1]);
  }
  assert.ok(used.size > 100, `found only ${used.size} keys: is the scan broken?`);
  for (const k of used) assert.ok(k in cat.en, `the screens use '${k}', which no catalogue has`);
  for (const p of prefixes) assert.ok(Object.keys(cat.en).some((k) => k.startsWith(p + ".")), `no key starts with '${p}.'`);
});
