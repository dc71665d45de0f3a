// Building the page: elements from plain data with textContent, never HTML strings.

import { number } from "./i18n.js";

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Create an element. `props` sets properties (class, text, on<event>, data-*, aria-*, any
 * attribute); children are nodes, strings (as text) or nothing.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any>} [props]
 * @param {...(Node|string|null|undefined|false|Array)} children
 * @returns {HTMLElementTagNameMap[K]} the element of its tag (an input's `value`, a button's `disabled` are known to the checker)
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  applyProps(el, props);
  append(el, children);
  return el;
}

/**
 * Create an SVG element from a list of shapes: [tag, attributes] pairs.
 * @param {Record<string, string>} attrs attributes of the <svg>
 * @param {Array<[string, Record<string, string>]>} shapes
 * @returns {SVGSVGElement}
 */
export function svg(attrs, shapes) {
  const root = document.createElementNS(SVG_NS, "svg");
  root.setAttribute("aria-hidden", "true");
  for (const [name, value] of Object.entries(attrs)) root.setAttribute(name, value);
  for (const [tag, shapeAttrs] of shapes) {
    const shape = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(shapeAttrs)) shape.setAttribute(name, value);
    root.append(shape);
  }
  return /** @type {SVGSVGElement} */ (root);
}

function applyProps(el, props) {
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (name === "style" && typeof value === "object") Object.assign(el.style, value);
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name in el && !name.includes("-")) el[name] = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replace everything inside `el` with `children` (arrays flattened, empty ones skipped).
 * @param {Element} el
 * @param {...(Node|string|null|undefined|false|Array)} children
 */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * Seconds as spoken minutes: "20 min", "1.5 min", "45 s".
 * @param {number} seconds
 * @returns {string}
 */
export function minutesText(seconds) {
  if (seconds < 60) return `${number(Math.round(seconds))} s`;
  return `${number(seconds / 60)} min`;
}

/**
 * Say something to screen-reader users through the page's polite live region.
 * @param {string} message
 */
export function announce(message) {
  const region = document.getElementById("announcer");
  if (!region) return;
  // Clearing first makes a repeated message ("Reverse") be read again.
  region.textContent = "";
  setTimeout(() => { region.textContent = message; }, 50);
}
