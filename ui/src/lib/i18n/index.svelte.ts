// Translation: one catalogue per language with the same keys, plural forms chosen by the
// language's own rules (Arabic has six), dates and numbers formatted per language.
import en from "./en.json";
import fr from "./fr.json";
import ar from "./ar.json";

export type Lang = "fr" | "ar" | "en";
type Entry = string | Record<string, string>;
const catalogues: Record<Lang, Record<string, Entry>> = { en, fr, ar };
export const languages: { code: Lang; name: string }[] = [
  { code: "fr", name: "Français" },
  { code: "ar", name: "العربية" },
  { code: "en", name: "English" },
];

const locales: Record<Lang, string> = { fr: "fr-FR", ar: "ar-MA", en: "en-GB" };

let current = $state<{ lang: Lang }>({ lang: "fr" });

export function lang(): Lang {
  return current.lang;
}

export function setLang(l: Lang) {
  current.lang = l;
  document.documentElement.lang = l;
  document.documentElement.dir = l === "ar" ? "rtl" : "ltr";
}

function fill(text: string, vars: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? formatValue(vars[k]) : `{${k}}`));
}

function formatValue(v: string | number): string {
  return typeof v === "number" ? new Intl.NumberFormat(locales[current.lang]).format(v) : v;
}

/** The text of `key` in the current language; the English text if a catalogue lacks it. */
export function t(key: string, vars: Record<string, string | number> = {}): string {
  const entry = catalogues[current.lang][key] ?? catalogues.en[key];
  if (entry === undefined) return key;
  if (typeof entry === "string") return fill(entry, vars);
  const n = typeof vars.n === "number" ? vars.n : 0;
  const form = new Intl.PluralRules(locales[current.lang]).select(n);
  return fill(entry[form] ?? entry.other ?? key, vars);
}

/** Whether the catalogues have a text for `key`. */
export function has(key: string): boolean {
  return key in catalogues.en;
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso.length === 10 ? iso + "T12:00:00Z" : iso);
  if (isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locales[current.lang], { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" }).format(d);
}

/** An exact decimal string shown with the language's separators, never through a float. */
export function formatAmount(amount: string | null | undefined, currency = ""): string {
  if (amount === null || amount === undefined || amount === "") return "—";
  const [int, frac] = amount.replace("-", "").split(".");
  const grouped = new Intl.NumberFormat(locales[current.lang]).format(BigInt(int || "0"));
  const sep = new Intl.NumberFormat(locales[current.lang]).formatToParts(1.5).find((p) => p.type === "decimal")?.value ?? ".";
  const sign = amount.startsWith("-") ? "-" : "";
  return `${sign}${grouped}${frac ? sep + frac : ""}${currency ? " " + currency : ""}`;
}

/** An amount as typed in the user's language, made canonical for the core ("4 500,50" in
 *  French → "4500.50"): spaces and Arabic digits and separators are read, and in French
 *  and Arabic a comma is the decimal separator. Text that is no amount is passed on as
 *  typed, for the core to refuse with its reason. */
export function amountInput(text: string): string {
  let t = text
    .trim()
    .replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x0660))
    .replace(/[\u06F0-\u06F9]/g, (d) => String(d.charCodeAt(0) - 0x06f0))
    .replace(/\u066B/g, ".")
    .replace(/\u066C/g, "")
    .replace(/[\s\u00A0\u202F]/g, "");
  if (current.lang === "en") {
    t = t.replace(/,/g, "");
  } else if (t.includes(",") && t.includes(".")) {
    // Both: the last one is the decimal separator, the other groups thousands.
    const decimal = t.lastIndexOf(",") > t.lastIndexOf(".") ? "," : ".";
    t = t.split(decimal === "," ? "." : ",").join("").replace(",", ".");
  } else {
    t = t.replace(",", ".");
  }
  return /^-?\d+(\.\d+)?$/.test(t) ? t : text;
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(locales[current.lang]).format(n);
}

/** An error as the user reads it: a translated sentence for the errors every screen can
 *  meet, followed by the core's own details when they add something. */
export function errorText(e: { code: string; message: string }): string {
  // The core's own sentence is English and names the field, the value and the fix.
  if (current.lang === "en") return e.message;
  const entry = catalogues[current.lang][`error.${e.code}`];
  if (typeof entry !== "string") return e.message;
  const translated = fill(entry, {});
  return e.code === "auth.wrong_credentials" ? translated : `${translated} (${e.message})`;
}
