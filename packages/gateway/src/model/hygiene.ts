/**
 * Hygiene of tool text (titles, descriptions): characters a person reading the text cannot
 * see but a model reads, and descriptions that read like instructions to the model. Both
 * pure; what is done with them (strip, flag) is the service's setting.
 */
import { stripVTControlCharacters } from 'node:util';

/**
 * C0 and C1 controls but tab and newline (`\p{Cc}`), and format characters (`\p{Cf}`):
 * zero-width space and joiners, the byte order mark, bidi embeddings, overrides and
 * isolates, invisible operators, and the tag characters that can spell hidden ASCII.
 */
const INVISIBLE = /(?![\n\t])[\p{Cc}\p{Cf}]/gu;

/** The text without ANSI escape sequences and without INVISIBLE characters. */
export function stripInvisible(text: string): string {
  return stripVTControlCharacters(text).replace(INVISIBLE, '');
}

export function hasInvisible(text: string): boolean {
  return stripInvisible(text) !== text;
}

/** What a flag says was found. */
export type FlagRule = 'invisible-characters' | 'ignore-instructions' | 'conceal-from-user' | 'hidden-block' | 'secret-access' | 'tool-redirection';

const RULES: readonly [FlagRule, RegExp][] = [
  [
    'ignore-instructions',
    /\b(ignore|disregard|forget|override)\b[^.\n]{0,40}\b(previous|prior|above|earlier|all|any|other|system)\b[^.\n]{0,40}\b(instructions?|prompts?|rules|directions|guidelines)\b/i,
  ],
  [
    'conceal-from-user',
    /\b(do not|don't|dont|never|must not)\s+(tell|inform|mention|reveal|show|notify|alert)\b[^.\n]{0,30}\b(user|human|operator)s?\b|\bwithout (telling|informing|notifying) the (user|human)\b/i,
  ],
  ['hidden-block', /<\s*\/?\s*(important|system|instructions?|secret|hidden|admin)\b[^>]*>/i],
  [
    'secret-access',
    /\b(read|cat|open|send|include|upload|attach|pass|copy|exfiltrate|forward)\b[^\n]{0,60}(~\/\.ssh|id_rsa|id_ed25519|\.env\b|\/etc\/passwd|\/etc\/shadow|private key|api[_ -]?keys?|access tokens?|credentials|secrets|passwords?|mcp\.json|\.aws\/|\.npmrc|\.netrc)/i,
  ],
  ['tool-redirection', /\b(instead of|before (using|calling)|always (use|call))\b[^.\n]{0,40}\b(tool|function)s?\b[^.\n]{0,40}\b(first|instead|also)\b/i],
];

const TAG = /[\u{E0020}-\u{E007E}]/gu;
const untag = (char: string) => String.fromCodePoint((char.codePointAt(0) ?? 0xe0000) - 0xe0000);

/** Tag characters (U+E0020-E007E) read as the ASCII they mirror: in place, and alone (the hidden text by itself). */
function revealTags(text: string): string[] {
  const hidden = text.match(TAG);
  return hidden === null ? [text] : [text.replace(TAG, untag), hidden.map(untag).join('')];
}

/** The rules `text` trips, in RULES order, `invisible-characters` first. Heuristics: a flag asks a person to look. */
export function instructionFlags(text: string): FlagRule[] {
  const flags: FlagRule[] = hasInvisible(text) ? ['invisible-characters'] : [];
  const texts = revealTags(text).map(stripInvisible);
  for (const [rule, pattern] of RULES) if (texts.some((plain) => pattern.test(plain))) flags.push(rule);
  return flags;
}
