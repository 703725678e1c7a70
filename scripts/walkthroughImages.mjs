// Cuts the walkthrough's images (media/walkthrough/*.png) out of the committed screenshots in
// docs/screenshots/: plain crops at the screenshot's own resolution, no scaling.
//   node scripts/walkthroughImages.mjs
// Reads and writes 8-bit RGB / RGBA non-interlaced PNGs (what the screenshot tests write) with
// node:zlib; nothing else is needed.
import { readFileSync, writeFileSync } from 'node:fs';
import { crc32, deflateSync, inflateSync } from 'node:zlib';

/** [output name, screenshot, x, y, width, height] */
const CROPS = [
  ['open-example.png', 'panel-1280x800.png', 48, 36, 616, 300],
  ['show-panel.png', 'panel-1280x800.png', 664, 36, 616, 270],
  ['generate.png', 'panel-1280x800.png', 664, 160, 616, 140],
  ['insert.png', 'panel-1280x800.png', 664, 306, 616, 284],
  ['play.png', 'panel-playing-1280x800.png', 664, 36, 616, 250],
];

function readPng(path) {
  const buf = readFileSync(path);
  if (buf.readUInt32BE(0) !== 0x89504e47) {
    throw new Error(`${path}: not a PNG`);
  }
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const body = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const depth = body[8];
      const color = body[9];
      if (depth !== 8 || (color !== 2 && color !== 6) || body[12] !== 0) {
        throw new Error(`${path}: only 8-bit RGB/RGBA non-interlaced PNGs are read`);
      }
      channels = color === 2 ? 3 : 4;
    } else if (type === 'IDAT') {
      idat.push(body);
    }
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[y * stride + x - channels] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? out[(y - 1) * stride + x - channels] : 0;
      let v = line[x];
      if (filter === 1) {
        v += a;
      } else if (filter === 2) {
        v += b;
      } else if (filter === 3) {
        v += (a + b) >> 1;
      } else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * stride + x] = v & 0xff;
    }
  }
  return { width, height, channels, data: out };
}

function chunk(type, body) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])) >>> 0, 0);
  return Buffer.concat([head, body, crc]);
}

function writePng(path, img) {
  const stride = img.width * img.channels;
  const raw = Buffer.alloc((stride + 1) * img.height);
  for (let y = 0; y < img.height; y++) {
    // Filter "up" for every line: screenshots have long runs that repeat line to line.
    raw[y * (stride + 1)] = 2;
    for (let x = 0; x < stride; x++) {
      const above = y > 0 ? img.data[(y - 1) * stride + x] : 0;
      raw[y * (stride + 1) + 1 + x] = (img.data[y * stride + x] - above) & 0xff;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(img.width, 0);
  ihdr.writeUInt32BE(img.height, 4);
  ihdr[8] = 8;
  ihdr[9] = img.channels === 3 ? 2 : 6;
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  writeFileSync(path, png);
  return png.length;
}

function crop(img, x0, y0, w, h) {
  const data = Buffer.alloc(w * h * img.channels);
  for (let y = 0; y < h; y++) {
    img.data.copy(data, y * w * img.channels, ((y0 + y) * img.width + x0) * img.channels, ((y0 + y) * img.width + x0 + w) * img.channels);
  }
  return { width: w, height: h, channels: img.channels, data };
}

const root = new URL('..', import.meta.url).pathname;
for (const [name, shot, x, y, w, h] of CROPS) {
  const img = readPng(`${root}docs/screenshots/${shot}`);
  const bytes = writePng(`${root}media/walkthrough/${name}`, crop(img, x, y, w, h));
  console.log(`media/walkthrough/${name}: ${w}x${h} from ${shot}, ${(bytes / 1024).toFixed(1)} KB`);
}
