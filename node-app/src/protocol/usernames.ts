/**
 * What a username (and a room creator's id) may be, and when two names are the same person to a
 * reader. Names are NFC-normalised and trimmed; invisible and bidirectional-control characters are
 * refused (a name must look like what it is); and a name whose *skeleton* equals another member's
 * is taken: "alice", "alice " (before trimming), "аlice" (Cyrillic а), "ALICE" and "a\u0301lice"
 * vs "álice" are one name to a reader, so only the first to join a room gets it.
 *
 * The skeleton is a compact subset of Unicode TR39's: NFKC, a table of the Cyrillic and Greek
 * letters that look like Latin ones (and 1/| -> l, 0 -> o, "rn" -> "m"), marks removed, lower
 * case. It catches the lookalikes people type; the full confusables table would catch more (for
 * one, capital I and small l stay apart, since case is folded first).
 */

/**
 * Format characters (zero-width space/joiners, bidi embeddings and overrides such as U+202E, BOM)
 * and other default-ignorable code points: invisible, or they reorder what is shown. Variation
 * selectors (emoji presentation) stay allowed.
 */
const INVISIBLE = /(?![\uFE00-\uFE0F\u{E0100}-\u{E01EF}])[\p{Cf}\p{Default_Ignorable_Code_Point}]/u;
/** Spaces other than U+0020 (no-break, ideographic, en/em...): a lookalike of a plain space. */
const ODD_SPACE = /(?! )\p{Zs}/u;
/** C0/C1 controls and line/paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export type NameCheck = { ok: true; name: string } | { ok: false; error: string };

/** Normalises a name (NFC, trimmed) or says why it is refused. `label` names the field in the error. */
export function normaliseName(label: string, raw: string, maxChars: number): NameCheck {
  const name = raw.normalize('NFC').trim();
  if (name === '') return { ok: false, error: `${label} must not be blank` };
  let n = 0;
  for (const _ of name) n++;
  if (n > maxChars) return { ok: false, error: `${label} too long (max ${maxChars} characters)` };
  if (CONTROL.test(name)) return { ok: false, error: `${label} must not contain control characters` };
  if (INVISIBLE.test(name)) return { ok: false, error: `${label} must not contain invisible or text-direction characters` };
  if (ODD_SPACE.test(name)) return { ok: false, error: `${label} may only use plain spaces` };
  return { ok: true, name };
}

/** Lookalikes: key -> what it looks like (lower case Latin). Upper case is folded before lookup. */
const CONFUSABLE: Record<string, string> = {
  // Cyrillic
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  ѕ: 's', і: 'i', ї: 'i', ј: 'j', ԁ: 'd', һ: 'h', ӏ: 'l', ԛ: 'q', ԝ: 'w', ү: 'y', ɡ: 'g',
  // Greek
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ω: 'w', ζ: 'z',
  // Latin and digits that pass for other Latin letters
  ı: 'i', ℓ: 'l', '1': 'l', '|': 'l', '0': 'o',
};

/** What a reader sees: two names with equal skeletons are the same name. */
export function skeleton(name: string): string {
  const folded = name.normalize('NFKC');
  let out = '';
  for (const ch of folded) {
    const c = ch.toLowerCase();
    out += CONFUSABLE[c] ?? c;
  }
  return out
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/rn/g, 'm')
    .replace(/\s+/g, ' ');
}

/** The existing name `name` would be mistaken for (same skeleton, different text), if any. */
export function lookalikeOf(name: string, existing: Iterable<string>): string | undefined {
  const sk = skeleton(name);
  for (const other of existing) {
    if (other !== name && skeleton(other) === sk) return other;
  }
  return undefined;
}
