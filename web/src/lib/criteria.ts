// The segment condition builder's model: an editable tree of groups and
// condition rows, turned into the criteria JSON of docs/api.md ("Segments")
// and back, and the map from a server error's JSON path (`criteria.all[2].op`)
// to the row or group it names.
import type { CriteriaCondition, CriteriaNode } from '../api/types';

export type Field = CriteriaCondition['field'];
export type ValueType = 'text' | 'number' | 'boolean';

export interface CondRow {
  kind: 'cond';
  id: string;
  negate: boolean;
  field: Field;
  op: string;
  /** Trait key. */
  key: string;
  /** The value as typed (text, number, days, amount in major units, …). */
  value: string;
  /** eq/neq on a trait: the JSON type the value is sent as. */
  valueType: ValueType;
  /** Event name. */
  name: string;
  /** Event: at least this many times (blank = 1). */
  count: string;
  /** Event: within this many days (blank = ever). */
  within: string;
  /** Total spent: ISO 4217 code. */
  currency: string;
}

export interface Group {
  kind: 'group';
  id: string;
  negate: boolean;
  mode: 'all' | 'any';
  children: Item[];
}

export type Item = CondRow | Group;

export const FIELDS: { id: Field; label: string }[] = [
  { id: 'trait', label: 'Trait' },
  { id: 'plan', label: 'Plan' },
  { id: 'tag', label: 'Tag' },
  { id: 'priority', label: 'Priority' },
  { id: 'first_seen', label: 'First seen' },
  { id: 'last_seen', label: 'Last seen' },
  { id: 'sessions', label: 'Session count' },
  { id: 'event', label: 'Performed event' },
  { id: 'total_spent', label: 'Total spent' },
  { id: 'subscription_status', label: 'Subscription status' },
];

/** The operators each field takes, with their labels, in the grammar's terms. */
export const OPS: Record<Field, { id: string; label: string }[]> = {
  trait: [
    { id: 'eq', label: 'equals' },
    { id: 'neq', label: 'does not equal' },
    { id: 'contains', label: 'contains' },
    { id: 'exists', label: 'exists' },
    { id: 'gt', label: 'greater than' },
    { id: 'lt', label: 'less than' },
  ],
  plan: [
    { id: 'eq', label: 'is' },
    { id: 'neq', label: 'is not' },
    { id: 'exists', label: 'is set' },
  ],
  tag: [{ id: 'has', label: 'has' }],
  priority: [
    { id: 'eq', label: 'is' },
    { id: 'neq', label: 'is not' },
    { id: 'exists', label: 'is set' },
  ],
  first_seen: [
    { id: 'within_days', label: 'within the last' },
    { id: 'before_days', label: 'more than … ago' },
  ],
  last_seen: [
    { id: 'within_days', label: 'within the last' },
    { id: 'before_days', label: 'more than … ago' },
  ],
  sessions: [
    { id: 'gt', label: 'more than' },
    { id: 'lt', label: 'fewer than' },
    { id: 'eq', label: 'exactly' },
  ],
  event: [{ id: 'performed', label: 'performed' }],
  total_spent: [
    { id: 'gt', label: 'more than' },
    { id: 'lt', label: 'less than' },
    { id: 'eq', label: 'exactly' },
  ],
  subscription_status: [
    { id: 'eq', label: 'has one' },
    { id: 'neq', label: 'has none' },
  ],
};

export const PRIORITIES = ['low', 'medium', 'high', 'vip'];
export const SUBSCRIPTION_STATUSES = ['trialing', 'active', 'past_due', 'canceled'];

let seq = 0;
const nextId = () => `n${++seq}`;

export function newRow(field: Field = 'trait'): CondRow {
  return {
    kind: 'cond', id: nextId(), negate: false, field, op: OPS[field][0].id, key: '', value: defaultValue(field),
    valueType: 'text', name: '', count: '', within: '', currency: 'USD',
  };
}

export function newGroup(mode: 'all' | 'any' = 'all', children: Item[] = []): Group {
  return { kind: 'group', id: nextId(), negate: false, mode, children };
}

function defaultValue(field: Field): string {
  if (field === 'priority') return 'high';
  if (field === 'subscription_status') return 'active';
  if (field === 'first_seen' || field === 'last_seen') return '30';
  if (field === 'sessions') return '1';
  return '';
}

/** A row changed to another field: the operator and value reset to what that field takes. */
export function withField(row: CondRow, field: Field): CondRow {
  return { ...row, field, op: OPS[field][0].id, value: defaultValue(field) };
}

/** Fraction digits of a currency's minor unit (USD 2, JPY 0). */
export function currencyDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** A number if the text is one, else the text as typed (the server then names the field). */
function num(text: string): number | string {
  const t = text.trim();
  if (t !== '' && Number.isFinite(Number(t))) return Number(t);
  return t;
}

function condition(row: CondRow): CriteriaCondition {
  const { field, op } = row;
  switch (field) {
    case 'trait': {
      const c: CriteriaCondition = { field, key: row.key, op };
      if (op === 'exists') return c;
      if (op === 'gt' || op === 'lt') return { ...c, value: num(row.value) };
      if (op === 'contains') return { ...c, value: row.value };
      if (row.valueType === 'number') return { ...c, value: num(row.value) };
      if (row.valueType === 'boolean') return { ...c, value: row.value === 'true' };
      return { ...c, value: row.value };
    }
    case 'plan':
    case 'priority':
      return op === 'exists' ? { field, op } : { field, op, value: row.value };
    case 'tag':
    case 'subscription_status':
      return { field, op, value: row.value };
    case 'first_seen':
    case 'last_seen':
    case 'sessions':
      return { field, op, value: num(row.value) };
    case 'event': {
      const c: CriteriaCondition = { field, op, name: row.name };
      if (row.count.trim() !== '') c.count = num(row.count);
      if (row.within.trim() !== '') c.within_days = num(row.within);
      return c;
    }
    case 'total_spent': {
      const major = num(row.value);
      const value = typeof major === 'number' ? Math.round(major * 10 ** currencyDigits(row.currency)) : major;
      return { field, op, value, currency: row.currency.trim().toUpperCase() };
    }
  }
}

/**
 * The criteria JSON of a tree, and the JSON path of every row and group in it
 * (`criteria.all[1]`, `criteria.all[2].not`, …), as the server names them.
 */
export function build(root: Group, rootPath = 'criteria'): { criteria: CriteriaNode; paths: Map<string, string> } {
  const paths = new Map<string, string>();
  const node = (item: Item, path: string): CriteriaNode => {
    const inner = item.negate ? `${path}.not` : path;
    paths.set(inner, item.id);
    let n: CriteriaNode;
    if (item.kind === 'group') {
      const list = item.children.map((c, i) => node(c, `${inner}.${item.mode}[${i}]`));
      n = item.mode === 'all' ? { all: list } : { any: list };
    } else {
      n = condition(item);
    }
    return item.negate ? { not: n } : n;
  };
  return { criteria: node(root, rootPath), paths };
}

/**
 * The row or group a server error's `field` names: the one whose path is the
 * longest prefix of it (`criteria.all[2].op` → the row at `criteria.all[2]`),
 * and what is left of the path (`op`). Null when the path names none.
 */
export function itemForPath(paths: Map<string, string>, field: string): { id: string; rest: string } | null {
  let best: { path: string; id: string } | null = null;
  for (const [path, id] of paths) {
    const boundary = field.length === path.length || field[path.length] === '.' || field[path.length] === '[';
    if (field.startsWith(path) && boundary && (!best || path.length > best.path.length)) best = { path, id };
  }
  if (!best) return null;
  return { id: best.id, rest: field.slice(best.path.length).replace(/^\./, '') };
}

function rowFrom(c: CriteriaCondition): CondRow {
  const field = (OPS[c.field] ? c.field : 'trait') as Field;
  const row = { ...newRow(field), op: String(c.op ?? OPS[field][0].id) };
  const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  if (field === 'trait') {
    row.key = str(c.key);
    row.valueType = typeof c.value === 'number' ? 'number' : typeof c.value === 'boolean' ? 'boolean' : 'text';
    row.value = str(c.value);
  } else if (field === 'event') {
    row.name = str(c.name);
    row.count = str(c.count);
    row.within = str(c.within_days);
  } else if (field === 'total_spent') {
    row.currency = str(c.currency) || 'USD';
    row.value = typeof c.value === 'number' ? String(c.value / 10 ** currencyDigits(row.currency)) : str(c.value);
  } else {
    row.value = str(c.value);
  }
  return row;
}

function itemFrom(node: CriteriaNode): Item {
  const n = node as { all?: unknown; any?: unknown; not?: unknown };
  if (Array.isArray(n.all)) return newGroup('all', (n.all as CriteriaNode[]).map(itemFrom));
  if (Array.isArray(n.any)) return newGroup('any', (n.any as CriteriaNode[]).map(itemFrom));
  if (n.not && typeof n.not === 'object') {
    const inner = itemFrom(n.not as CriteriaNode);
    if (!inner.negate) return { ...inner, negate: true };
    return { ...newGroup('all', [inner]), negate: true };
  }
  return rowFrom(node as CriteriaCondition);
}

/** The editable tree of saved criteria; the root is always a group. */
export function parse(criteria: CriteriaNode): Group {
  const item = itemFrom(criteria);
  return item.kind === 'group' ? item : newGroup('all', [item]);
}

/** Counts the rows (conditions) of a tree. */
export const countRows = (g: Group): number => g.children.reduce((n, c) => n + (c.kind === 'group' ? countRows(c) : 1), 0);

const opLabel = (field: Field, op: string) => OPS[field]?.find((o) => o.id === op)?.label ?? op;

/** One line of text for saved criteria: "Trait company_size greater than 50 and performed export_pdf". */
export function summarize(node: CriteriaNode): string {
  const n = node as { all?: CriteriaNode[]; any?: CriteriaNode[]; not?: CriteriaNode };
  const list = (items: CriteriaNode[], join: string, empty: string) =>
    items.length === 0 ? empty : items.map((c) => (('all' in c || 'any' in c) && items.length > 1 ? `(${summarize(c)})` : summarize(c))).join(join);
  if (Array.isArray(n.all)) return list(n.all, ' and ', 'everyone');
  if (Array.isArray(n.any)) return list(n.any, ' or ', 'nobody');
  if (n.not) return `not ${'all' in n.not || 'any' in n.not ? `(${summarize(n.not)})` : summarize(n.not)}`;
  const c = node as CriteriaCondition;
  const label = FIELDS.find((f) => f.id === c.field)?.label ?? String(c.field);
  const op = opLabel(c.field, c.op);
  switch (c.field) {
    case 'trait':
      return `${c.key} ${op}${c.op === 'exists' ? '' : ` ${JSON.stringify(c.value)}`}`;
    case 'event':
      return `performed ${c.name}${c.count ? ` at least ${c.count} times` : ''}${c.within_days ? ` within ${c.within_days} days` : ''}`;
    case 'first_seen':
    case 'last_seen':
      return c.op === 'before_days' ? `${label.toLowerCase()} more than ${c.value} days ago` : `${label.toLowerCase()} within the last ${c.value} days`;
    case 'sessions':
      return `${op} ${c.value} sessions`;
    case 'total_spent': {
      const cur = String(c.currency ?? '');
      const major = typeof c.value === 'number' ? c.value / 10 ** currencyDigits(cur) : c.value;
      return `spent ${op} ${major} ${cur}`;
    }
    case 'subscription_status':
      return `${c.op === 'neq' ? 'no' : 'a'} ${String(c.value).replace('_', ' ')} subscription`;
    case 'tag':
      return `tagged ${c.value}`;
    default:
      return `${label.toLowerCase()} ${op}${c.op === 'exists' ? '' : ` ${c.value}`}`;
  }
}
