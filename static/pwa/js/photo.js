// Photos are shrunk on the phone before they are stored and sent: long side at most 2,000 px,
// JPEG, the picture turned upright. The original's EXIF block travels with the copy (with the
// orientation tag reset to "upright"), because the server reads the capture time and GPS from
// it for QA's checks.
export const MAX_SIDE = 2000;
const QUALITY = 0.85;
const THUMB_SIDE = 240;

/** The APP1 "Exif" segment of a JPEG (marker included), or null. */
export function findExifSegment(bytes) {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return null;
    const marker = bytes[offset + 1];
    if (marker === 0xda || marker === 0xd9) return null; // image data starts: no EXIF
    const length = (bytes[offset + 2] << 8) | bytes[offset + 3];
    if (marker === 0xe1 && length >= 8 &&
        String.fromCharCode(...bytes.subarray(offset + 4, offset + 10)) === "Exif\0\0") {
      return bytes.slice(offset, offset + 2 + length);
    }
    offset += 2 + length;
  }
  return null;
}

/** Set the Orientation tag (0x0112) of IFD0 to 1 in an APP1 segment copy; returns the old value. */
export function resetOrientation(segment) {
  const tiff = 10; // FF E1, length (2), "Exif\0\0"
  const view = new DataView(segment.buffer, segment.byteOffset, segment.byteLength);
  if (segment.length < tiff + 8) return null;
  const little = view.getUint16(tiff) === 0x4949;
  const ifd0 = tiff + view.getUint32(tiff + 4, little);
  if (ifd0 + 2 > segment.length) return null;
  const count = view.getUint16(ifd0, little);
  for (let i = 0; i < count; i += 1) {
    const entry = ifd0 + 2 + i * 12;
    if (entry + 12 > segment.length) return null;
    if (view.getUint16(entry, little) === 0x0112) {
      const old = view.getUint16(entry + 8, little);
      view.setUint16(entry + 8, 1, little);
      return old;
    }
  }
  return null;
}

/** A JPEG with `exif` (a whole APP1 segment) put right after the start marker; a JFIF APP0
 * segment written by the encoder is dropped (an EXIF file starts with APP1). */
export function withExif(jpeg, exif) {
  let rest = 2;
  if (jpeg[2] === 0xff && jpeg[3] === 0xe0) rest = 4 + ((jpeg[4] << 8) | jpeg[5]);
  const out = new Uint8Array(2 + exif.length + jpeg.length - rest);
  out.set([0xff, 0xd8], 0);
  out.set(exif, 2);
  out.set(jpeg.subarray(rest), 2 + exif.length);
  return out;
}

function canvasBlob(canvas, quality) {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("encode failed"))),
      "image/jpeg", quality);
  });
}

function draw(bitmap, side) {
  const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return canvas;
}

/** Shrink a camera file: {bytes, thumb (JPEG bytes), width, height}. Throws when the image cannot be read. */
export async function preparePhoto(file) {
  const original = new Uint8Array(await file.arrayBuffer());
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  try {
    const canvas = draw(bitmap, MAX_SIDE);
    let jpeg = new Uint8Array(await (await canvasBlob(canvas, QUALITY)).arrayBuffer());
    const exif = findExifSegment(original);
    if (exif) {
      resetOrientation(exif);
      jpeg = withExif(jpeg, exif);
    }
    const thumb = await (await canvasBlob(draw(bitmap, THUMB_SIDE), 0.7)).arrayBuffer();
    // Bytes, not Blobs, go to IndexedDB: a Blob there is a file reference that some browsers
    // lose across restarts; an ArrayBuffer is stored inline with the record.
    return {
      bytes: jpeg.buffer.slice(jpeg.byteOffset, jpeg.byteOffset + jpeg.byteLength),
      thumb,
      width: canvas.width,
      height: canvas.height,
    };
  } finally {
    bitmap.close();
  }
}
