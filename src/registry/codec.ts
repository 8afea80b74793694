// worlds.xml <-> Registry. Pure. Decoding is strict: anything unexpected is CORRUPT_REGISTRY with
// the line at fault, never repaired. Schema (docs/registry.md):
//
//   <?xml version="1.0" encoding="UTF-8"?>
//   <worldos version="1" next-id="4">
//     <world id="w0" name="base" created="2026-11-26T12:00:00.000Z" state="active" whiteout="aufs" layer="/" base="true"/>
//     <world id="w1" name="Parent" created="..." state="active" whiteout="aufs" layer="worlds/w1/layer">
//       <parent ref="w0"/>            (one per parent, highest priority first)
//     </world>
//   </worldos>
//
// Every attribute is required except base and nosuid (only ever "true"), open (only ever "daemon")
// and nodes (a node budget: docs/registry.md). No other elements, attributes or
// text; no DOCTYPE; entity references only &amp; &lt; &gt; &quot; &apos; (no numeric references:
// fast-xml-parser leaves them undecoded, which would silently change a name).

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { WorldError } from '../core/world-error.js';
import { NODE_BUDGET_RANGE, isNodeBudget } from '../core/node-budget.js';
import { checkConsistency, isWorldState, type Registry, type World } from './model.js';

const AT = '@_';
const META = XMLParser.getMetaDataSymbol() as unknown as string;

// Never the defaults (see STYLE.md): attributes kept, all values strings, arrays where repeatable.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: AT,
  parseAttributeValue: false,    // "007" stays "007"
  parseTagValue: false,
  trimValues: false,             // names are exact
  allowBooleanAttributes: false,
  alwaysCreateTextNode: true,    // every element is an object, so every element carries its position
  isArray: (_name, jpath) => jpath === 'worldos.world' || jpath === 'worldos.world.parent',
  processEntities: true,         // the five XML entities; others are refused by scanReferences
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  captureMetaData: true,
  removeNSPrefix: false,
});

const ROOT_ATTRS = ['version', 'next-id'];
const WORLD_ATTRS = ['id', 'name', 'created', 'state', 'whiteout', 'layer', 'base', 'nosuid', 'open', 'nodes'];
const OPTIONAL_WORLD_ATTRS = new Set(['base', 'nosuid', 'open', 'nodes']);
const REQUIRED_WORLD_ATTRS = WORLD_ATTRS.filter((a) => !OPTIONAL_WORLD_ATTRS.has(a));
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const HINT = 'fix the named lines by hand or restore a backup; worldctl does not rewrite a corrupt registry';

type Node = Record<string, unknown>;
interface Located { readonly line: number | undefined; readonly message: string }

/**
 * Parse worlds.xml. Throws WorldError('CORRUPT_REGISTRY') listing each problem with its line:
 * malformed XML, a wrong or missing version, missing or unknown attributes and elements, an
 * unknown state, and every inconsistency checkConsistency finds (dangling parent refs,
 * duplicate ids or names, cycles, base rules).
 */
export function decodeRegistry(text: string): Registry {
  const src = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const syntax = XMLValidator.validate(src, { allowBooleanAttributes: false });
  if (syntax !== true) fail([syntaxProblem(src, syntax.err)]);
  fail(scanReferences(src));
  let doc: Node;
  try {
    doc = parser.parse(src) as Node;
  } catch (e) {
    throw new WorldError('CORRUPT_REGISTRY', `registry is corrupt: the XML parser failed: ${(e as Error).message}`, { cause: e, hint: HINT });
  }
  const lineOf = (node: unknown): number | undefined => {
    const start = (node as Record<string, { startIndex?: number } | undefined> | undefined)?.[META]?.startIndex;
    return start === undefined ? undefined : lineAt(src, start);
  };
  const problems: Located[] = [];
  const roots = Object.keys(doc);
  const root = doc['worldos'] as Node | undefined;
  for (const k of roots.filter((k) => k !== 'worldos')) {
    problems.push({ line: lineOf(doc[k]), message: `unexpected root element <${k}>; expected only <worldos>` });
  }
  if (Array.isArray(root)) {
    problems.push(...root.slice(1).map((r: unknown) => ({ line: lineOf(r), message: 'a second <worldos> root element' })));
  }
  if (!root || Array.isArray(root)) throw corrupt(problems.length > 0 ? problems : [{ line: 1, message: 'no <worldos> root element' }]);
  const rootLine = lineOf(root);
  const at = (node: unknown, message: string): void => void problems.push({ line: lineOf(node), message });

  checkNode(root, '<worldos>', ROOT_ATTRS, ['world'], at);
  const version = root[AT + 'version'];
  if (version === undefined) at(root, '<worldos> has no version attribute; expected version="1"');
  else if (version !== '1') at(root, `<worldos> has version="${String(version)}"; this worldctl reads only version="1"`);
  const nextIdText = root[AT + 'next-id'];
  if (nextIdText === undefined) at(root, '<worldos> has no next-id attribute');
  else if (!DECIMAL.test(String(nextIdText))) at(root, `next-id="${String(nextIdText)}" is not a decimal number`);

  const worldNodes = (root['world'] ?? []) as Node[];
  const worlds = worldNodes.map((node) => decodeWorld(node, at));
  fail(problems);

  const reg: Registry = { version: 1, worlds: worlds as World[], nextId: Number(nextIdText) };
  fail(checkConsistency(reg).map((p) => {
    const node = p.world === undefined ? root : worldNodes[p.world];
    const parentNode = p.parent === undefined ? undefined : (node?.['parent'] as Node[] | undefined)?.[p.parent];
    return { line: lineOf(parentNode ?? node) ?? rootLine, message: p.message };
  }));
  return reg;
}

function decodeWorld(node: Node, at: (node: unknown, message: string) => void): World | undefined {
  const id = node[AT + 'id'];
  const label = typeof id === 'string' ? `<world id="${id}">` : '<world>';
  checkNode(node, label, WORLD_ATTRS, ['parent'], at);
  const missing = REQUIRED_WORLD_ATTRS.filter((a) => typeof node[AT + a] !== 'string');
  if (missing.length > 0) at(node, `${label} lacks ${missing.map((a) => `${a}="..."`).join(', ')}`);
  const state = node[AT + 'state'];
  if (typeof state === 'string' && !isWorldState(state)) {
    at(node, `${label} has state="${state}"; expected active, merging or deleting`);
  }
  const base = node[AT + 'base'];
  if (base !== undefined && base !== 'true') at(node, `${label} has base="${String(base)}"; expected base="true" or no base attribute`);
  const nosuid = node[AT + 'nosuid'];
  if (nosuid !== undefined && nosuid !== 'true') at(node, `${label} has nosuid="${String(nosuid)}"; expected nosuid="true" or no nosuid attribute`);
  const open = node[AT + 'open'];
  if (open !== undefined && open !== 'daemon') at(node, `${label} has open="${String(open)}"; expected open="daemon" or no open attribute`);
  const nodes = node[AT + 'nodes'];
  if (nodes !== undefined && (typeof nodes !== 'string' || !DECIMAL.test(nodes) || !isNodeBudget(Number(nodes)))) {
    at(node, `${label} has nodes="${String(nodes)}"; expected ${NODE_BUDGET_RANGE}, or no nodes attribute`);
  }
  const parents = ((node['parent'] ?? []) as Node[]).map((p) => {
    checkNode(p, `<parent> of ${label}`, ['ref'], [], at);
    const ref = p[AT + 'ref'];
    if (typeof ref !== 'string') at(p, `<parent> of ${label} has no ref attribute`);
    return String(ref);
  });
  if (missing.length > 0) return undefined;
  const str = (a: string): string => node[AT + a] as string;
  return {
    id: str('id'), name: str('name'), parents, created: str('created'), state: str('state') as World['state'],
    whiteout: str('whiteout'), layer: str('layer'), ...(base === 'true' ? { base: true } : {}),
    ...(nosuid === 'true' ? { nosuid: true } : {}), ...(open === 'daemon' ? { openByDaemon: true } : {}),
    ...(nodes !== undefined ? { maxNodes: Number(nodes) } : {}),
  };
}

/** Report unknown attributes, unknown child elements and non-blank text of one element. */
function checkNode(node: Node, label: string, attrs: readonly string[], elements: readonly string[],
  at: (node: unknown, message: string) => void): void {
  for (const key of Object.keys(node)) {
    if (key === '#text') {
      if (String(node[key]).trim() !== '') at(node, `${label} contains text ${JSON.stringify(String(node[key]).trim())}; expected only elements`);
    } else if (key.startsWith(AT)) {
      if (!attrs.includes(key.slice(AT.length))) at(node, `${label} has unknown attribute ${key.slice(AT.length)}; expected ${attrs.join(', ')}`);
    } else if (!elements.includes(key)) {
      const child = node[key];
      at(Array.isArray(child) ? child[0] : child, `${label} contains unknown element <${key}>` +
        `${elements.length > 0 ? `; expected only <${elements.join('>, <')}>` : '; expected none'}`);
    }
  }
}

/** The validator's report, made readable where it is not: unclosed elements at the end of the file. */
function syntaxProblem(src: string, err: { code: string; msg: string; line: number; col?: number }): Located {
  // Unclosed elements come back as "Invalid '[ "worldos", "world" ]' found." at line 1.
  const open = err.code === 'InvalidXml' && err.msg.startsWith("Invalid '[") ? [...err.msg.matchAll(/"([^"]+)"/g)].map((m) => m[1]!) : [];
  if (open.length > 0) {
    return { line: lineAt(src, src.length), message: `the file ends inside <${open.join('>, <')}>, which are never closed; ` +
      'expected complete XML: was the file cut off?' };
  }
  return { line: err.line, message: `malformed XML${err.col ? ` (column ${err.col})` : ''}: ${err.msg}` };
}

const PREDEFINED = new Set(['amp', 'lt', 'gt', 'quot', 'apos']);

/** Refuse DOCTYPEs and entity references the parser would not decode faithfully. */
function scanReferences(src: string): Located[] {
  const out: Located[] = [];
  const re = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<!DOCTYPE|&([^;\s<&"']*)(;?)/g;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    const line = lineAt(src, m.index);
    if (m[0] === '<!DOCTYPE') out.push({ line, message: 'a DOCTYPE declaration; the registry has none' });
    else if (!m[0].startsWith('&')) continue;
    else if (m[1]!.startsWith('#')) {
      out.push({ line, message: `numeric character reference ${m[0]} is not supported; write the character itself` });
    } else if (m[2] !== ';') {
      out.push({ line, message: `a bare "&" (in ${JSON.stringify(m[0])}); write "&" as &amp;` });
    } else if (!PREDEFINED.has(m[1]!)) {
      out.push({ line, message: `entity reference ${m[0]} is not one of &amp; &lt; &gt; &quot; &apos;; write "&" as &amp;` });
    }
  }
  return out;
}

function fail(problems: readonly Located[]): void {
  if (problems.length > 0) throw corrupt(problems);
}

function corrupt(problems: readonly Located[]): WorldError {
  const sorted = [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  const shown = sorted.slice(0, 10).map((p) => `line ${p.line ?? '?'}: ${p.message}`);
  if (sorted.length > 10) shown.push(`and ${sorted.length - 10} more`);
  return new WorldError('CORRUPT_REGISTRY', `registry is corrupt: ${shown.join('; ')}`, { hint: HINT });
}

function lineAt(src: string, index: number): number {
  let line = 1;
  for (let i = src.indexOf('\n'); i >= 0 && i < index; i = src.indexOf('\n', i + 1)) line++;
  return line;
}

/**
 * The XML text of `reg`: the schema above, two-space indent, attributes in a fixed order, worlds in
 * registry order, UTF-8 characters written as themselves. Throws RangeError for a value holding a
 * control character, which the schema cannot carry faithfully.
 */
export function encodeRegistry(reg: Registry): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<worldos version="1" next-id="${reg.nextId}">`];
  for (const w of reg.worlds) {
    const attrs = [['id', w.id], ['name', w.name], ['created', w.created], ['state', w.state],
      ['whiteout', w.whiteout], ['layer', w.layer], ...(w.base ? [['base', 'true']] : []),
      ...(w.nosuid ? [['nosuid', 'true']] : []), ...(w.openByDaemon ? [['open', 'daemon']] : []),
      ...(w.maxNodes !== undefined ? [['nodes', String(w.maxNodes)]] : [])] as const;
    const open = `  <world ${attrs.map(([k, v]) => `${k}="${escape(v, w.id, k)}"`).join(' ')}`;
    if (w.parents.length === 0) {
      lines.push(`${open}/>`);
      continue;
    }
    lines.push(`${open}>`, ...w.parents.map((p) => `    <parent ref="${escape(p, w.id, 'parent')}"/>`), '  </world>');
  }
  lines.push('</worldos>', '');
  return lines.join('\n');
}

function escape(value: string, id: string, attr: string): string {
  if (/[\p{Cc}]/u.test(value)) throw new RangeError(`world ${id}: ${attr} ${JSON.stringify(value)} holds a control character`);
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
