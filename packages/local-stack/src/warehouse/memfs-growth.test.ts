import { growFilesGeometrically, type MemfsFileStorage } from './embedded-engine';

// MEMFS as Emscripten builds it: expandFileStorage grows capacity geometrically, resizeFileStorage reallocates exactly.
function memfs(): MemfsFileStorage & { reallocations: number } {
  const fs = {
    reallocations: 0,
    expandFileStorage(node: { contents: Uint8Array | null }, capacity: number) {
      const current = node.contents as Uint8Array;
      if (current.length >= capacity) return;
      const grown = new Uint8Array(Math.max(capacity, Math.floor(current.length * (current.length < 1_048_576 ? 2 : 1.125)), 256));
      grown.set(current);
      node.contents = grown;
      fs.reallocations += 1;
    },
    resizeFileStorage(node: { contents: Uint8Array | null; usedBytes: number }, size: number) {
      const exact = new Uint8Array(size);
      exact.set((node.contents as Uint8Array).subarray(0, Math.min(size, node.usedBytes)));
      node.contents = exact;
      node.usedBytes = size;
      fs.reallocations += 1;
    },
  };
  return fs;
}

describe('growFilesGeometrically (the embedded warehouse in memory)', () => {
  it('grows a file by fallocate-sized steps with few reallocations, keeping its bytes and zero-filling the rest', () => {
    const fs = memfs();
    growFilesGeometrically(fs);
    const node = { contents: new Uint8Array(0), usedBytes: 0 };
    const block = 8192 * 16;
    for (let size = block; size <= 200 * block; size += block) {
      fs.resizeFileStorage(node, size);
      (node.contents as Uint8Array)[size - 1] = 7; // a page written at the end of the extension
    }
    expect(node.usedBytes).toBe(200 * block);
    expect((node.contents as Uint8Array).length).toBeGreaterThanOrEqual(node.usedBytes);
    expect(fs.reallocations).toBeLessThan(40); // 200 exact reallocations (each a copy of the whole file) before
    expect((node.contents as Uint8Array)[block - 1]).toBe(7);
    expect((node.contents as Uint8Array)[block]).toBe(0);
  });

  it('shrinks exactly, as before', () => {
    const fs = memfs();
    growFilesGeometrically(fs);
    const node = { contents: Uint8Array.from([1, 2, 3, 4]), usedBytes: 4 };
    fs.resizeFileStorage(node, 2);
    expect(node).toEqual({ contents: Uint8Array.from([1, 2]), usedBytes: 2 });
    fs.resizeFileStorage(node, 3);
    expect(Array.from((node.contents as Uint8Array).subarray(0, node.usedBytes))).toEqual([1, 2, 0]);
  });
});
