/**
 * Keeps the SDK's attribute object of an LLM span in V8's fast mode. Hand-written: no library does this.
 *
 * Why: the SDK (@opentelemetry/sdk-trace 2.x/3.x) stores a span's attributes in a plain object that starts
 * as `{}` and gets one computed-key store per attribute. V8 turns an object into a hash table
 * ("dictionary mode") when a computed-key store would give it a 17th property, unless an earlier object
 * already took the same sequence of keys in fast mode (then the store follows that object's hidden-class
 * transition). Our spans carry 20-22 attributes, so every one of them crossed that line: measured on Node 24
 * with the SDK alone, a span with 22 attributes cost 6.1-6.3 µs of CPU to create and end, 4.2-4.5 µs once
 * its key sequence had been warmed, against 3.4-4.0 µs for 16 attributes; the hash table also left ~4 KB
 * of garbage per span, and exporters walk hash-table objects more slowly.
 *
 * How: calls follow their key sequence through a small tree as they write (a Map lookup per attribute).
 * The first span that ends on a sequence is left as it is; then an object gets the same keys, with the same
 * values, through defineProperty, whose stores may add properties in fast mode. V8 keeps those transitions
 * for every later object taking the same keys in the same order. When V8 changes its rules, this only
 * stops helping. The tree is bounded: past MAX_SHAPE_NODES key steps, new sequences are not followed.
 */

/** V8 keeps computed-key stores fast up to 4 in-object properties (a `{}` literal) + 12 others. */
const FAST_MODE_PROPERTY_LIMIT = 16;
const MAX_SHAPE_NODES = 512;
let shapeNodes = 0;

/** One attribute key sequence seen in our spans; `warmed` once V8 has a fast-mode path for it. */
export class AttributeShape {
  warmed = false;
  private readonly next = new Map<string, AttributeShape>();
  /**
   * The step taken last from here. Spans of one kind take the same keys in the same order, and the keys are
   * the constants' own strings, so one identity check answers almost every step; the Map's string hashing
   * and probing was ~1.7 µs of CPU per call for ~21 keys (session 10 profile, 16 JSON calls in flight).
   */
  private lastKey: string | undefined = undefined;
  private lastChild: AttributeShape | undefined = undefined;

  /** The sequence with `key` appended; undefined once the tree is full (the span is then not followed). */
  then(key: string): AttributeShape | undefined {
    if (key === this.lastKey) return this.lastChild;
    const child = this.child(key);
    if (child !== undefined) {
      this.lastKey = key;
      this.lastChild = child;
    }
    return child;
  }

  private child(key: string): AttributeShape | undefined {
    let child = this.next.get(key);
    if (child === undefined) {
      if (shapeNodes >= MAX_SHAPE_NODES) return undefined;
      shapeNodes++;
      child = new AttributeShape();
      this.next.set(key, child);
    }
    return child;
  }
}

/** The empty key sequence: the start of every span's. */
export const EMPTY_SHAPE = new AttributeShape();

/** The sequence of `attributes`' own keys (a span's start attributes) after `shape`. */
export function shapeAfterKeys(
  shape: AttributeShape | undefined,
  attributes: object,
): AttributeShape | undefined {
  // for…in rather than Object.keys: this runs for every span, and allocates nothing on a plain object.
  for (const key in attributes) if (Object.hasOwn(attributes, key)) shape = shape?.then(key);
  return shape;
}

/**
 * Gives V8 a fast-mode path for the key sequence of `attributes` (a finished span's attributes), once per
 * sequence. A throwaway object takes the same keys and values (same value kinds, so V8 need not generalise
 * the fields later) through defineProperty.
 */
export function warmShape(shape: AttributeShape, attributes: unknown): void {
  if (shape.warmed) return;
  shape.warmed = true;
  if (typeof attributes !== 'object' || attributes === null) return;
  const keys = Object.keys(attributes);
  if (keys.length <= FAST_MODE_PROPERTY_LIMIT) return;
  const values = attributes as Record<string, unknown>;
  const template: Record<string, unknown> = {};
  for (const key of keys) {
    Object.defineProperty(template, key, {
      value: values[key],
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
}
