// A ZIP archive writer, "stored" method (no compression: the entries are PNGs and JSON, which PNG's own
// deflate already compresses), UTF-8 names, no ZIP64: at most 65535 entries and 4 GiB in total.
// Format: PKWARE APPNOTE 6.3, sections 4.3.7 (local header), 4.3.12 (central directory), 4.3.16 (end).
// Input: [{name: string, data: Blob | Uint8Array | string}]; output: a Blob of type application/zip.

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, the one ZIP and PNG use) of a Uint8Array. */
export function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** MS-DOS time and date words of a local Date (2-second resolution, years 1980-2107). */
function dosDateTime(date) {
  const year = Math.min(Math.max(date.getFullYear(), 1980), 2107);
  return {
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | (date.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
  };
}

async function toBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (typeof data === "string") return new TextEncoder().encode(data);
  return new Uint8Array(await data.arrayBuffer());
}

/** Build a ZIP of the entries; names must be unique, relative and use "/" (checked). */
export async function zipStore(entries, when = new Date()) {
  if (entries.length > 0xffff) throw new Error(`a ZIP without ZIP64 holds at most 65535 files, not ${entries.length}`);
  const encoder = new TextEncoder();
  const { time, date } = dosDateTime(when);
  const seen = new Set();
  const parts = [];
  const central = [];
  let offset = 0;
  for (const entry of entries) {
    if (!entry.name || entry.name.startsWith("/") || entry.name.split("/").includes("..") || seen.has(entry.name)) {
      throw new Error(`bad or repeated name in the archive: ${JSON.stringify(entry.name)}`);
    }
    seen.add(entry.name);
    const name = encoder.encode(entry.name);
    const data = await toBytes(entry.data);
    const crc = crc32(data);
    if (offset + 30 + name.length + data.length > 0xffffffff) throw new Error("the archive would pass 4 GiB");
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);  // local file header signature
    local.setUint16(4, 20, true);          // version needed: 2.0
    local.setUint16(6, 0x0800, true);      // flags: names are UTF-8
    local.setUint16(8, 0, true);           // method: stored
    local.setUint16(10, time, true);
    local.setUint16(12, date, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, data.length, true);  // compressed size
    local.setUint32(22, data.length, true);  // uncompressed size
    local.setUint16(26, name.length, true);
    local.setUint16(28, 0, true);            // extra field length
    parts.push(local.buffer, name, data);

    const record = new DataView(new ArrayBuffer(46));
    record.setUint32(0, 0x02014b50, true);  // central directory header signature
    record.setUint16(4, 20, true);          // version made by
    record.setUint16(6, 20, true);          // version needed
    record.setUint16(8, 0x0800, true);
    record.setUint16(10, 0, true);
    record.setUint16(12, time, true);
    record.setUint16(14, date, true);
    record.setUint32(16, crc, true);
    record.setUint32(20, data.length, true);
    record.setUint32(24, data.length, true);
    record.setUint16(28, name.length, true);
    // extra length, comment length, disk number, internal and external attributes: all 0
    record.setUint32(42, offset, true);     // offset of the local header
    central.push(record.buffer, name);
    offset += 30 + name.length + data.length;
  }
  const centralSize = central.reduce((sum, part) => sum + part.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);  // end of central directory signature
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  return new Blob([...parts, ...central, end.buffer], { type: "application/zip" });
}
