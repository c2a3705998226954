/**
 * The skills extension (`io.modelcontextprotocol/skills`, SEP-2640) with the SDK's own
 * catalog: two skills held in memory, one with a `references/` folder so that
 * `resources/directory/read` has a subdirectory to show. `skills/list`, `skills/get`,
 * the `skill://` resources and the capability all come from `SkillCatalog.attach`.
 */
import { memorySkillFiles, type SkillCatalog, SkillsExtension } from '@modelcontextprotocol/server/ext/skills';

const FILES: Record<string, string> = {
  'greeting/SKILL.md': [
    '---',
    'name: greeting',
    'description: Greets someone by name in the language they ask for',
    '---',
    '',
    '# Greeting',
    '',
    'Ask for the name and the language, then answer with one line. See references/LANGUAGES.md.',
    '',
  ].join('\n'),
  'greeting/references/LANGUAGES.md': '# Languages\n\n- English: Hello\n- French: Bonjour\n- Spanish: Hola\n',
  'summarise/SKILL.md': [
    '---',
    'name: summarise',
    'description: Summarises a text in three bullet points',
    '---',
    '',
    '# Summarise',
    '',
    'Read the text; write three bullets.',
    '',
  ].join('\n'),
};

/** Builds the catalog once per process; `attach` it to every server. */
export function loadSkills(): Promise<SkillCatalog> {
  return SkillsExtension.load(memorySkillFiles(FILES), { prefix: 'conformance', strict: true });
}
