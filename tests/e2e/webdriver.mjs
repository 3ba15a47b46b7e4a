// A small W3C WebDriver client over fetch, enough to drive the real Masar window through
// tauri-driver and WebKitWebDriver.
const BASE = process.env.WEBDRIVER_URL ?? "http://127.0.0.1:4444";
const ELEMENT = "element-6066-11e4-a23c-4a2e4f2b8e1a";

async function wd(method, path, body) {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.value ?? json)}`);
  return json.value;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Window {
  static async open(application, args) {
    const started = Date.now();
    const v = await wd("POST", "/session", {
      capabilities: { alwaysMatch: { "tauri:options": { application, args } } },
    });
    const w = new Window(v.sessionId ?? v.sessionId);
    w.started = started;
    return w;
  }

  constructor(id) {
    this.id = id;
  }

  path(p) {
    return `/session/${this.id}${p}`;
  }

  async close() {
    await wd("DELETE", this.path("")).catch(() => {});
  }

  async find(css, timeout = 10000) {
    const end = Date.now() + timeout;
    for (;;) {
      try {
        const v = await wd("POST", this.path("/element"), { using: "css selector", value: css });
        return v[ELEMENT] ?? v.ELEMENT ?? Object.values(v)[0];
      } catch (e) {
        if (Date.now() > end) throw new Error(`no element '${css}' after ${timeout} ms`);
        await sleep(100);
      }
    }
  }

  async all(css) {
    const v = await wd("POST", this.path("/elements"), { using: "css selector", value: css });
    return v.map((e) => e[ELEMENT] ?? e.ELEMENT ?? Object.values(e)[0]);
  }

  async click(css) {
    const el = await this.find(css);
    await wd("POST", this.path(`/element/${el}/click`), {});
  }

  async type(css, text) {
    const el = await this.find(css);
    await wd("POST", this.path(`/element/${el}/clear`), {}).catch(() => {});
    await wd("POST", this.path(`/element/${el}/value`), { text });
  }

  /** Sets a field's value as a user's edit would, for inputs WebDriver types poorly (dates, selects). */
  async set(css, value) {
    await this.find(css);
    await this.js(
      `const el = document.querySelector(arguments[0]); el.value = arguments[1];
       el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true}));`,
      [css, value],
    );
  }

  async text(css) {
    const el = await this.find(css);
    return wd("GET", this.path(`/element/${el}/text`));
  }

  async js(script, args = []) {
    return wd("POST", this.path("/execute/sync"), { script, args });
  }

  /** Clicks the button whose text is `label` (inside `scope`). */
  async clickText(label, scope = "body") {
    const ok = await this.js(
      `const b = [...document.querySelectorAll(arguments[0] + ' button')].find((b) => b.textContent.trim() === arguments[1]);
       if (b) { b.click(); return true; } return false;`,
      [scope, label],
    );
    if (!ok) throw new Error(`no button '${label}' in ${scope}`);
  }

  async until(what, f, timeout = 10000) {
    const end = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        last = await f();
        if (last) return last;
      } catch (e) {
        last = e;
      }
      if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
      await sleep(100);
    }
  }

  /** Resizes the window's content to `width` × `height` CSS pixels. */
  async size(width, height) {
    await wd("POST", this.path("/window/rect"), { width, height });
    // The outer window includes decorations: grow it until the page itself has the size.
    for (let i = 0; i < 3; i++) {
      const [iw, ih] = await this.js("return [innerWidth, innerHeight]");
      if (iw === width && ih === height) return;
      const r = await wd("GET", this.path("/window/rect"));
      await wd("POST", this.path("/window/rect"), { width: r.width + width - iw, height: r.height + height - ih });
    }
  }

  async bodyText() {
    return this.js("return document.body.innerText;");
  }

  async screenshot(file) {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(file, Buffer.from(await wd("GET", this.path("/screenshot")), "base64"));
  }
}
