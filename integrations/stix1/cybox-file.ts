/** CybOX File objects (and their Windows/Unix/Executable/Archive/Image/PDF variants) → facts. */
import { first } from '../../src/core/indexed.js';
import { child, childrenNamed, path, textOf, xsiType, type XmlElement } from '../../src/core/safe-xml.js';
import { fact, push, type Fact, type ObjectFacts, type Step } from './cybox-facts.js';

const HASH_NAMES: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, {
  MD5: 'MD5',
  MD6: 'MD6',
  SHA1: 'SHA-1',
  'SHA-1': 'SHA-1',
  SHA224: 'SHA-224',
  'SHA-224': 'SHA-224',
  SHA256: 'SHA-256',
  'SHA-256': 'SHA-256',
  SHA384: 'SHA-384',
  'SHA-384': 'SHA-384',
  SHA512: 'SHA-512',
  'SHA-512': 'SHA-512',
  SSDEEP: 'SSDEEP',
  TLSH: 'TLSH',
});

/** `cyboxCommon:Hash` elements → hashes facts under `prefix`. */
export function hashFacts(type: string, prefix: Step[], hashes: XmlElement | undefined): Fact[] {
  const out: Fact[] = [];
  for (const h of childrenNamed(hashes, 'Hash')) {
    const name = textOf(h, 'Type')?.toUpperCase();
    const valueEl = child(h, 'Simple_Hash_Value') ?? child(h, 'Fuzzy_Hash_Value');
    if (!name || !valueEl) continue;
    const alg = HASH_NAMES[name] ?? (child(h, 'Fuzzy_Hash_Value') ? 'SSDEEP' : name);
    const f = fact(type, [...prefix, 'hashes', alg], valueEl);
    // the whole Hash element (its Type included) is read
    if (f) out.push({ ...f, source: h });
  }
  return out;
}

/** File properties, under `prefix` (e.g. `image_ref`) of object `type`. */
export function fileFacts(type: string, prefix: Step[], p: XmlElement): Fact[] {
  const out: Fact[] = [];
  out.push(...hashFacts(type, prefix, child(p, 'Hashes')));
  push(out, fact(type, [...prefix, 'name'], child(p, 'File_Name')));
  out.push(...pathFacts(type, prefix, child(p, 'File_Path'), textOf(p, 'File_Name')));
  push(out, fact(type, [...prefix, 'size'], child(p, 'Size_In_Bytes'), 'int'));
  push(out, fact(type, [...prefix, 'magic_number_hex'], child(p, 'Magic_Number')));
  push(out, fact(type, [...prefix, 'ctime'], child(p, 'Created_Time'), 'timestamp'));
  push(out, fact(type, [...prefix, 'mtime'], child(p, 'Modified_Time'), 'timestamp'));
  push(out, fact(type, [...prefix, 'atime'], child(p, 'Accessed_Time'), 'timestamp'));
  return out;
}

/**
 * A file path element under `prefix`: the directory when it repeats the separate file name (or
 * ends with a separator); otherwise a full path, split into name and directory — as two
 * equality facts for Equals (they also build SCOs), as one `path` fact for other conditions.
 */
export function pathFacts(type: string, prefix: Step[], fp: XmlElement | undefined, name: string | undefined): Fact[] {
  const f = fact(type, [...prefix, 'parent_directory_ref', 'path'], fp);
  if (!f) return [];
  const full = first(f.values);
  const sep = (i: number): boolean => full[i] === '/' || full[i] === '\\';
  if (
    name &&
    f.values.length === 1 &&
    full.length > name.length &&
    full.endsWith(name) &&
    sep(full.length - name.length - 1)
  ) {
    // File_Path repeats the name: the directory is what precedes it.
    return [{ ...f, values: [full.slice(0, full.length - name.length - 1)] }];
  }
  if (name || f.values.length > 1 || /[\\/]$/.test(full)) return [f];
  const cut = Math.max(full.lastIndexOf('/'), full.lastIndexOf('\\'));
  if (cut <= 0) return [f];
  if (f.condition.toLowerCase() !== 'equals') return [{ ...f, steps: [...prefix], kind: 'path' }];
  return [
    { ...f, steps: [...prefix, 'name'], values: [full.slice(cut + 1)] },
    { ...f, values: [full.slice(0, cut)] },
  ];
}

export function file(p: XmlElement): ObjectFacts {
  const facts = fileFacts('file', [], p);
  const t = xsiType(p);
  if (t === 'ArchiveFileObjectType') {
    push(facts, fact('file', ['extensions', 'archive-ext', 'comment'], child(p, 'Comment')));
    childrenNamed(p, 'Archived_File').forEach((f, group) => {
      for (const x of fileFacts('file', ['extensions', 'archive-ext', 'contains_refs', '[*]'], f))
        facts.push({ ...x, group });
    });
  } else if (t === 'ImageFileObjectType') {
    push(facts, fact('file', ['extensions', 'raster-image-ext', 'image_height'], child(p, 'Image_Height'), 'int'));
    push(facts, fact('file', ['extensions', 'raster-image-ext', 'image_width'], child(p, 'Image_Width'), 'int'));
    push(facts, fact('file', ['extensions', 'raster-image-ext', 'bits_per_pixel'], child(p, 'Bits_Per_Pixel'), 'int'));
  } else if (t === 'PDFFileObjectType') {
    const ext = ['extensions', 'pdf-ext'];
    push(facts, fact('file', [...ext, 'version'], child(p, 'Version'), 'float'));
    for (const d of path(p, 'Metadata', 'Document_Information_Dictionary')?.children ?? []) {
      push(
        facts,
        fact('file', [...ext, 'document_info_dict', d.local], d, /Date$/.test(d.local) ? 'timestamp' : 'string'),
      );
    }
    const ids = childrenNamed(path(p, 'Trailers', 'Trailer', 'ID'), 'ID_String');
    push(facts, fact('file', [...ext, 'pdfid0'], ids[0]));
    push(facts, fact('file', [...ext, 'pdfid1'], ids[1]));
  }
  return { type: 'file', facts };
}
