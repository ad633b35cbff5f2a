/**
 * vim25 XML both ways: a tiny builder for request bodies (elements in the schema's order, `xsi:type`
 * where a field is polymorphic) and typed reads of what fast-xml-parser makes of an answer.
 */
import { XMLParser } from 'fast-xml-parser';
import { escapeXml, unescapeXml } from '../libvirt/domain-xml';

/** A managed object reference: `<x type="VirtualMachine">vm-42</x>`. */
export interface Mor {
  type: string;
  value: string;
}

/** One request element; `type` becomes `xsi:type`. */
export interface El {
  tag: string;
  type?: string;
  attrs?: Record<string, string>;
  body: string | El[];
}

/** An element with text or children; an undefined child is left out, so optional fields read as such. */
export function el(tag: string, body: string | number | boolean | (El | undefined)[], type?: string): El {
  const content = Array.isArray(body) ? body.filter((c): c is El => c !== undefined) : String(body);
  return { tag, body: content, ...(type ? { type } : {}) };
}

export function morEl(tag: string, ref: Mor): El {
  return { tag, attrs: { type: ref.type }, body: ref.value };
}

export function render(e: El): string {
  const attrs = Object.entries(e.attrs ?? {})
    .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
    .join('');
  const type = e.type ? ` xsi:type="${escapeXml(e.type)}"` : '';
  const body = typeof e.body === 'string' ? escapeXml(e.body) : e.body.map(render).join('');
  return `<${e.tag}${attrs}${type}>${body}</${e.tag}>`;
}

/** A parsed element: text, or an object of children (repeated ones as arrays) and `@attr` keys. */
export type Node = string | { [key: string]: Node | Node[] | undefined };

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  // UUIDs, MACs and keys stay text: a number parser would turn `00000001` into 1.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // Go's encoder writes numeric references (&#34;): every entity is read back here, once.
  processEntities: false,
  tagValueProcessor: (_name, value) => unescapeXml(value),
  attributeValueProcessor: (_name, value) => unescapeXml(value),
});

export function parseXml(text: string): Node {
  return parser.parse(text) as Node;
}

/** The children called `name` (without namespace prefix), as a list whether one or many. */
export function all(n: Node | undefined, name: string): Node[] {
  if (n === undefined || typeof n === 'string') return [];
  const key = Object.keys(n).find((k) => k === name || k.endsWith(`:${name}`));
  const v = key === undefined ? undefined : n[key];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

export function one(n: Node | undefined, name: string): Node | undefined {
  return all(n, name)[0];
}

/** The text of a node (its `#text` when it also has attributes), '' for none. */
export function text(n: Node | undefined): string {
  if (n === undefined) return '';
  if (typeof n === 'string') return n;
  const t = n['#text'];
  return typeof t === 'string' ? t : typeof t === 'number' ? String(t) : '';
}

export function attr(n: Node | undefined, name: string): string | undefined {
  if (n === undefined || typeof n === 'string') return undefined;
  const v = n[`@${name}`];
  return typeof v === 'string' ? v : undefined;
}

/**
 * `xsi:type` of a node: what a polymorphic field holds (VirtualDisk, InvalidLogin, …). Any prefix
 * counts (Go's encoder writes `XMLSchema-instance:type`); a MOR's own `type` has none.
 */
export function xsiType(n: Node | undefined): string | undefined {
  if (n === undefined || typeof n === 'string') return undefined;
  const key = Object.keys(n).find((k) => /^@[^:]+:type$/.test(k));
  const v = key === undefined ? undefined : n[key];
  return typeof v === 'string' ? v.replace(/^[^:]*:/, '') : undefined;
}

export function morOf(n: Node | undefined): Mor | undefined {
  const type = attr(n, 'type');
  const value = text(n);
  return type && value ? { type, value } : undefined;
}

/** The elements of `n` in document order, each with its tag: for a list of polymorphic items. */
export function children(n: Node | undefined): { tag: string; node: Node }[] {
  if (n === undefined || typeof n === 'string') return [];
  return Object.entries(n).flatMap(([tag, v]) =>
    tag.startsWith('@') || tag === '#text' || v === undefined
      ? []
      : (Array.isArray(v) ? v : [v]).map((node) => ({ tag, node })),
  );
}

/**
 * A parsed element written back as a request element, children in the order they came (vim25
 * answers list fields in the schema's order): for sending a device back as the VM holds it.
 * `xsi:type` keeps its meaning under any prefix; other attributes (a MOR's `type`) stay as they are.
 */
export function copyEl(tag: string, n: Node): El {
  if (typeof n === 'string') return el(tag, n);
  const type = xsiType(n);
  const attrs = Object.fromEntries(
    Object.entries(n).flatMap(([k, v]) =>
      k.startsWith('@') && !/^@[^:]+:type$/.test(k) && !k.startsWith('@xmlns') && typeof v === 'string'
        ? [[k.slice(1), v]]
        : [],
    ),
  );
  const kids = children(n);
  const body = kids.length ? kids.map((c) => copyEl(c.tag.replace(/^[^:]*:/, ''), c.node)) : text(n);
  return { tag, body, ...(type ? { type } : {}), ...(Object.keys(attrs).length ? { attrs } : {}) };
}
