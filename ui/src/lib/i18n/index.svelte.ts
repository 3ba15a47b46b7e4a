// Translation: one catalogue per language with the same keys, plural forms chosen by the
// language's own rules (Arabic has six), dates and numbers formatted per language.
import en from "../../../../i18n/en.json";
import fr from "../../../../i18n/fr.json";
import ar from "../../../../i18n/ar.json";

export type Lang = "fr" | "ar" | "en";
type Entry = string | Record<string, string>;
const catalogues: Record<Lang, Record<string, Entry>> = { en, fr, ar };
export const languages: { code: Lang; name: string }[] = [
  { code: "fr", name: "Français" },
  { code: "ar", name: "العربية" },
  { code: "en", name: "English" },
];

const locales: Record<Lang, string> = { fr: "fr-FR", ar: "ar-MA", en: "en-GB" };
/** Arabic month names differ by region: the Maghreb's (يناير، ماي، غشت…), the Levant's
 *  (كانون الثاني، أيار، آب…) and the standard ones of Egypt and Sudan (يناير، مايو، أغسطس…). */
export type Months = "maghreb" | "levant" | "standard";
const monthLocales: Record<Months, string> = { maghreb: "ar-MA-u-nu-latn", levant: "ar-SY-u-nu-latn", standard: "ar-EG-u-nu-latn" };

/** The digits Arabic is read with: the Maghreb's 0123 or the Middle East's ٠١٢٣. */
export type Digits = "latn" | "arab";

let current = $state<{ lang: Lang; months: Months; digits: Digits }>({ lang: "fr", months: "maghreb", digits: "latn" });

export function digits(): Digits {
  return current.digits;
}

export function setDigits(d: Digits) {
  current.digits = d;
}

/** The locale numbers are written in: Arabic-Indic digits in Arabic when the user prefers them. */
export function numberLocale(): string {
  return current.lang === "ar" ? `ar-MA-u-nu-${current.digits}` : locales[current.lang];
}

export function months(): Months {
  return current.months;
}

export function setMonths(m: Months) {
  current.months = m;
}

export function lang(): Lang {
  return current.lang;
}

/** The system's language when Masar speaks it, else French, the programme's working
 *  language: the operating system's setting first (`AppInfo.system_language`), then the
 *  web view's. */
export function systemLanguage(system: string | null = null): Lang {
  const web = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const tag of system ? [system] : web) {
    const code = (tag ?? "").slice(0, 2).toLowerCase();
    if (code === "fr" || code === "ar" || code === "en") return code;
  }
  return "fr";
}

export function setLang(l: Lang) {
  current.lang = l;
  document.documentElement.lang = l;
  document.documentElement.dir = l === "ar" ? "rtl" : "ltr";
}

// Each value put into a sentence is isolated (U+2068 … U+2069), so a Latin name, a path or
// an amount inside an Arabic sentence, or an Arabic name inside a French one, keeps its order.
const FSI = String.fromCharCode(0x2068);
const PDI = String.fromCharCode(0x2069);
function fill(text: string, vars: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? `${FSI}${formatValue(vars[k])}${PDI}` : `{${k}}`));
}

function formatValue(v: string | number): string {
  return typeof v === "number" ? new Intl.NumberFormat(numberLocale()).format(v) : v;
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
  const locale = current.lang === "ar" ? monthLocales[current.months].replace("nu-latn", `nu-${current.digits}`) : locales[current.lang];
  return new Intl.DateTimeFormat(locale, { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" }).format(d);
}

/** The time of day of an RFC 3339 moment, in the user's language and digits. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (isNaN(d.getTime())) return iso;
  const locale = current.lang === "ar" ? monthLocales[current.months].replace("nu-latn", `nu-${current.digits}`) : locales[current.lang];
  return new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" }).format(d);
}

/** An exact decimal string shown with the language's separators, never through a float. */
export function formatAmount(amount: string | null | undefined, currency = ""): string {
  if (amount === null || amount === undefined || amount === "") return "—";
  const [int, frac] = amount.replace("-", "").split(".");
  const format = new Intl.NumberFormat(numberLocale());
  const grouped = format.format(BigInt(int || "0"));
  const sep = format.formatToParts(1.5).find((p) => p.type === "decimal")?.value ?? ".";
  // The decimals keep every digit the core gave, written in the user's digits.
  const decimals = (frac ?? "").replace(/\d/g, (d) => format.format(Number(d)));
  const sign = amount.startsWith("-") ? "-" : "";
  return `${sign}${grouped}${decimals ? sep + decimals : ""}${currency ? " " + currency : ""}`;
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

/** A country by its name in the user's language, from its ISO alpha-2 code. */
export function countryName(alpha2: string): string {
  try {
    return new Intl.DisplayNames([locales[current.lang]], { type: "region" }).of(alpha2) ?? alpha2;
  } catch {
    return alpha2;
  }
}

export function formatNumber(n: number, options: Intl.NumberFormatOptions = {}): string {
  return new Intl.NumberFormat(numberLocale(), options).format(n);
}

/** A field of the core by its label in the user's language, never the core's name. */
export function fieldLabel(field: string): string {
  for (const key of [`person.${field}`, `projects.${field}`, `field.${field}`, `sessions.${field}`]) if (key in catalogues.en) return t(key);
  return t("error.this_field");
}

/** Parameters that name a stage, shown by the stage's name. */
const STAGE_PARAMS = ["stage", "current"];

/** An error as the user reads it: built from the core's code, reason, field and values in
 *  the user's language, never from the core's English sentence (which English keeps,
 *  being the most precise). */
export function errorText(e: { code: string; message: string; field?: string | null; reason?: string | null; params?: Record<string, string> }): string {
  if (current.lang === "en") return e.message;
  const vars: Record<string, string> = { ...(e.params ?? {}), code: e.code, field: e.field ? fieldLabel(e.field) : t("error.this_field") };
  for (const k of STAGE_PARAMS) if (vars[k] && `stage.${vars[k]}` in catalogues.en) vars[k] = t(`stage.${vars[k]}`);
  for (const k of ["date", "since"]) if (vars[k] && /^\d{4}-\d{2}-\d{2}$/.test(vars[k])) vars[k] = formatDate(vars[k]);
  for (const k of ["approved", "would_be", "remaining"]) if (vars[k]) vars[k] = formatAmount(vars[k]);
  const table = catalogues[current.lang];
  const keys = e.reason ? [`error.reason.${e.reason}`, `error.${e.code}`] : [`error.${e.code}`];
  for (const key of keys) {
    const entry = table[key];
    if (typeof entry === "string") return fill(entry, vars);
  }
  return fill(table["error.generic"] as string, vars);
}
