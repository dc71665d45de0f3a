// The walker's language on every screen. English is written in the code itself and is the
// key of every translation: `t("Pick a workout")`. Spanish, German and French come from
// tables under i18n/, one per language and part, loaded only when that language is chosen:
// "core" with the page (the picker, the app's chrome and messages), "more" with the screens
// that load when first opened (get ready, player, summary, history, editor, settings,
// progress, a shared plan). An English phone loads no table at all. Numbers and dates go through Intl in the same language.

/** The languages of the screens (the voice's too: server/phrases.py LANGUAGES). */
export const LANGUAGES = Object.freeze(["en", "es", "de", "fr"]);
/** The parts a language's strings come in (web/js/i18n/<lang>-<part>.js). */
export const PARTS = Object.freeze(["core", "more"]);

let lang = "en";
/** @type {Record<string, string>} English text -> the chosen language's, for the parts loaded */
let table = {};
/** @type {Map<string, Promise<void>>} parts loaded or loading for the current language */
let loaded = new Map();

/**
 * Mark a text for translation where it is defined (a table of labels); `t` translates it where it is shown.
 * @param {string} text
 * @returns {string}
 */
export const N_ = (text) => text;

/**
 * The walker's language now: "en", "es", "de" or "fr".
 * @returns {string}
 */
export function language() {
  return lang;
}

/**
 * A text in the walker's language, with `{name}` places filled from `values`.
 * @param {string} text the English text (the key)
 * @param {Record<string, string|number>} [values]
 * @returns {string}
 */
export function t(text, values) {
  const out = table[text] ?? text;
  if (!values) return out;
  return out.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/**
 * The form of a counted text that fits `count` in the walker's language ("1 session", "2 sessions";
 * French says "0 séance"), with `{n}` the count as a number in that language.
 * @param {number} count
 * @param {string} one the English singular
 * @param {string} other the English plural
 * @param {Record<string, string|number>} [values]
 * @returns {string}
 */
export function plural(count, one, other, values = {}) {
  const form = formatter(Intl.PluralRules).select(count) === "one" ? one : other;
  return t(form, { n: number(count), ...values });
}

const ONE_DECIMAL = Object.freeze({ maximumFractionDigits: 1 });

/**
 * English's default, as Intl writes it (the shortest decimal that reads back as the value, ties away
 * from zero), without the first Intl formatter's 20 ms in a fresh page, on the first screen's path.
 * @param {number} value
 * @returns {string|null} null when Intl must write it (an exponent, NaN, -0)
 */
function englishTenths(value) {
  const [, sign, whole, first = "0", next = "0"] = /^(-?)(\d+)(?:\.(\d)(\d?))?\d*$/.exec(String(value)) || [];
  if (!whole || whole.length > 14 || Object.is(value, -0)) return null;
  const tenths = Number(whole + first) + (next >= "5" ? 1 : 0);
  return `${sign}${Math.floor(tenths / 10)}${tenths % 10 ? `.${tenths % 10}` : ""}`;
}

/**
 * A number as the walker writes it: "1.5" in English, "1,5" in Spanish, German and French.
 * @param {number} value
 * @param {Intl.NumberFormatOptions} [options] default: up to one decimal
 * @returns {string}
 */
export function number(value, options = ONE_DECIMAL) {
  return (lang === "en" && options === ONE_DECIMAL && englishTenths(value)) || formatter(Intl.NumberFormat, { useGrouping: false, ...options }).format(value);
}

/**
 * A date formatter in the walker's language.
 * @param {Intl.DateTimeFormatOptions} options
 * @returns {Intl.DateTimeFormat}
 */
export function dateFormat(options) {
  return formatter(Intl.DateTimeFormat, options);
}

/** @type {Map<string, any>} made formatters: making one costs far more than using it (the picker uses hundreds) */
const formatters = new Map();

/**
 * An Intl formatter in the walker's language, made once.
 * @template T
 * @param {new (lang: string, options?: any) => T} Kind
 * @param {object} [options]
 * @returns {T}
 */
function formatter(Kind, options) {
  const key = Kind.name + lang + JSON.stringify(options);
  if (!formatters.has(key)) formatters.set(key, new Kind(lang, options));
  return formatters.get(key);
}

/**
 * Load one part of the current language's strings (nothing to load for English).
 * @param {string} part "core" or "more"
 * @returns {Promise<void>}
 */
export function loadStrings(part) {
  if (lang === "en") return Promise.resolve();
  if (!loaded.has(part)) {
    const code = lang;
    const job = import(`./i18n/${code}-${part}.js`).then((module) => {
      if (code === lang) Object.assign(table, module.default);
    }, (error) => {
      // Offline and never fetched: this part stays in English until it can be loaded.
      loaded.delete(part);
      console.warn(`No ${code} strings for ${part}:`, error.message);
    });
    loaded.set(part, job);
  }
  return loaded.get(part);
}

/**
 * Switch the screens to a language: the page's `lang` attribute, and the strings of the parts
 * loaded so far in the new language (the core part at least).
 * @param {string} code
 * @returns {Promise<void>}
 */
export async function useLanguage(code) {
  const next = LANGUAGES.includes(code) ? code : "en";
  if (next === lang && loaded.has("core")) return;
  const parts = new Set(["core", ...loaded.keys()]);
  lang = next;
  table = {};
  loaded = new Map();
  if (typeof document !== "undefined") document.documentElement.lang = lang;
  await Promise.all([...parts].map(loadStrings));
  if (lang === "en") for (const part of parts) loaded.set(part, Promise.resolve());
}
