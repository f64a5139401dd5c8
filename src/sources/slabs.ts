/**
 * Handing kept file bytes from a worker thread to the main thread without a copy on arrival: the
 * worker copies them into a few fresh ArrayBuffers ("slabs") that are transferred, not cloned, and
 * the main thread makes Buffers over them. A worker's own Buffers cannot be transferred: they may be
 * views into Node's shared allocation pool or into a larger read buffer, and transferring would
 * detach memory other Buffers in the worker still use.
 */

/** Where one buffer's bytes are in the slabs (`slab` -1: empty). */
export interface SlabPlace {
  slab: number;
  offset: number;
  length: number;
}

/**
 * Slab size: small buffers share a slab (one transfer, one allocation); one larger than this gets
 * its own. Bounded so many kept bytes are not one huge allocation.
 */
export const SLAB_BYTES = 16 * 1024 * 1024;

/**
 * Copies `buffers` into fresh slabs, in order; a Buffer listed twice (a hard link sharing its
 * target's bytes) is copied once and both places point at it.
 */
export function packBuffers(buffers: readonly Buffer[]): { slabs: ArrayBuffer[]; places: SlabPlace[] } {
  const slabs: ArrayBuffer[] = [];
  const placed = new Map<Buffer, SlabPlace>();
  // Group into slabs first (sizes only), then allocate each slab once at its exact size.
  const groups: Buffer[][] = [];
  let current: Buffer[] = [];
  let currentBytes = 0;
  for (const data of buffers) {
    if (placed.has(data)) continue;
    placed.set(data, { slab: -1, offset: 0, length: data.length });
    // Nothing to copy: no slab (an empty one would still be allocated and transferred).
    if (data.length === 0) continue;
    if (currentBytes > 0 && currentBytes + data.length > SLAB_BYTES) {
      groups.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(data);
    currentBytes += data.length;
  }
  if (current.length > 0) groups.push(current);
  for (const group of groups) {
    const slab = new ArrayBuffer(group.reduce((n, b) => n + b.length, 0));
    const view = new Uint8Array(slab);
    let offset = 0;
    for (const data of group) {
      view.set(data, offset);
      placed.set(data, { slab: slabs.length, offset, length: data.length });
      offset += data.length;
    }
    slabs.push(slab);
  }
  return { slabs, places: buffers.map((b) => placed.get(b) as SlabPlace) };
}

/** The receiving side: a Buffer over the transferred slab, no copy. */
export function unpackBuffer(slabs: readonly ArrayBuffer[], place: SlabPlace): Buffer {
  return place.slab < 0 || place.length === 0
    ? Buffer.alloc(0)
    : Buffer.from(slabs[place.slab] as ArrayBuffer, place.offset, place.length);
}
