// @ts-check
// A tiny element builder: text always goes in as text (never HTML), so nothing the node or a model
// sends can inject markup.

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 * @typedef {Child | ChildList} Children
 * @typedef {ReadonlyArray<Children>} ChildList
 * @typedef {Record<string, string | number | boolean | null | undefined>} Attributes
 */

/**
 * `h("td", { class: "number" }, "12")`. Attributes with `null`, `undefined` or `false` are left out.
 * @param {string} tag
 * @param {Attributes} [attributes]
 * @param {...Children} children
 * @returns {HTMLElement}
 */
export function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

/**
 * @param {Element} node
 * @param {ReadonlyArray<Children>} children
 */
export function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(typeof child === "number" ? String(child) : /** @type {string | Node} */ (child));
  }
}

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`dashboard: #${id} is missing from the page`);
  return node;
}

/**
 * A table row that says there is nothing yet, spanning the table's columns.
 * @param {number} columns
 * @param {string} text
 */
export function emptyRow(columns, text) {
  return h("tr", { class: "empty" }, h("td", { colspan: columns }, text));
}
