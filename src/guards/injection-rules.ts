/**
 * The heuristic prompt-injection rules (docs/agents.md "Guards", injection). Each rule has
 * an id that is what the audit log records; none records the text. Matched on two copies of
 * the text: `plain` (NFKC, lower case, invisible characters and diacritics removed, spaces
 * collapsed: for every language) and `folded` (skeleton.ts: homoglyphs folded to ASCII too,
 * for the Latin-script rules). Judged against a table of benign texts as much as against
 * attacks: an ordinary message must pass, so each rule needs the shape of an attack, not a
 * single word.
 *
 * 1. ignore-instructions — "ignore / disregard / forget … previous / all / your …
 *    instructions / rules / prompt" and the same in French, Spanish, German, Italian,
 *    Portuguese, Dutch, Russian, Chinese, Japanese and Korean;
 * 2. role-override — "you are now DAN / unrestricted", "enable developer mode", "do anything
 *    now", "new instructions:", "system override";
 * 3. prompt-leak — "reveal / print / repeat … your system prompt / hidden instructions";
 * 4. role-tag — chat-template tokens and role tags (`<|im_start|>`, `[INST]`, `<<SYS>>`,
 *    `<system>`, `</assistant>` …);
 * 5. fake-tool-call — tool-call JSON or XML (`"tool_calls":`, `"function_call":`,
 *    `"type":"tool_use"`, `"role":"system"`, `<tool_call>`, `<function_calls>`, `<invoke …>`);
 * (rules 6–8 are in injection.ts: wrapper marker forgery, encoded payloads, hidden tag characters.)
 *
 * Rule 1 does not count a speaker taking back their own words: a match that says "my"
 * ("ignore my previous instructions", "oublie mes consignes") is a correction, not an attack
 * — unless it also says "all", "your", "system" … ("ignore my and all previous instructions").
 */

export interface InjectionRule {
  id: 'ignore-instructions' | 'role-override' | 'prompt-leak' | 'role-tag' | 'fake-tool-call';
  /** Which copy the patterns run on. */
  on: 'plain' | 'folded' | 'both';
  patterns: RegExp[];
}

// Word boundaries that work for every script (JS `\b` knows ASCII words only).
const B = '(?<![\\p{L}\\p{N}])';
const E = '(?![\\p{L}\\p{N}])';

/**
 * verb … (up to 4 words) … noun, with a qualifier ("previous", "all", "your" …) somewhere
 * between the verb and three words after the noun: "ignore the above instructions",
 * "ignore les instructions précédentes", "vergiss alle vorherigen Anweisungen".
 */
function verbNoun(verbs: string[], nouns: string[], qualifiers: string[]): RegExp {
  const words = (list: string[]) => `(?:${list.join('|')})`;
  const q = `${B}${words(qualifiers)}${E}`;
  return new RegExp(
    `${B}${words(verbs)}${E}(?:(?:\\s+\\S+){0,4}?\\s+${q}(?:\\s+\\S+){0,3}?\\s+${B}${words(nouns)}${E}|(?:\\s+\\S+){0,4}?\\s+${B}${words(nouns)}${E}(?:\\s+\\S+){0,2}?\\s+${q})`,
    'u',
  );
}

const IGNORE: [string[], string[], string[]][] = [
  // English
  [
    ['ignore', 'disregard', 'forget', 'override', 'bypass', 'abandon', 'discard', 'drop'],
    ['instructions?', 'prompts?', 'rules', 'directives?', 'guidelines', 'guardrails', 'constraints', 'programming', 'system prompt'],
    ['all', 'any', 'every', 'previous', 'prior', 'above', 'earlier', 'preceding', 'foregoing', 'former', 'original', 'initial', 'system', 'your', 'developer', 'safety'],
  ],
  // French
  [
    ['ignore[rsz]?', 'oublie[rsz]?', 'neglige[rsz]?', 'outrepasse[rsz]?'],
    ['instructions', 'consignes', 'regles', 'directives', 'invites?'],
    ['toutes', 'tous', 'precedentes?', 'anterieures?', 'ci-dessus', 'vos', 'tes', 'systeme', 'initiales?'],
  ],
  // Spanish
  [
    ['ignora[rn]?', 'ignore[n]?', 'olvida[rn]?', 'olvide[n]?', 'omite[n]?', 'descarta[rn]?'],
    ['instrucciones', 'indicaciones', 'reglas', 'directrices', 'ordenes'],
    ['todas', 'todos', 'anteriores', 'previas', 'tus', 'sus', 'sistema', 'iniciales', 'arriba'],
  ],
  // German
  [
    ['ignoriere?n?', 'vergiss', 'vergessen', 'missachte[n]?', 'uberschreibe'],
    ['anweisungen', 'instruktionen', 'regeln', 'vorgaben', 'befehle', 'richtlinien'],
    ['alle', 'vorherigen', 'vorigen', 'bisherigen', 'obigen', 'fruheren', 'deine', 'ihre', 'vorangegangenen', 'system'],
  ],
  // Italian
  [
    ['ignora(?:re)?', 'dimentica(?:re)?', 'trascura(?:re)?'],
    ['istruzioni', 'regole', 'direttive', 'indicazioni'],
    ['tutte', 'precedenti', 'tue', 'sue', 'sopra', 'iniziali', 'sistema'],
  ],
  // Portuguese
  [
    ['ignore', 'ignora[r]?', 'esqueca', 'esquecer', 'desconsidere'],
    ['instrucoes', 'regras', 'diretrizes', 'orientacoes'],
    ['todas', 'anteriores', 'suas', 'tuas', 'acima', 'previas', 'iniciais', 'sistema'],
  ],
  // Dutch
  [
    ['negeer', 'vergeet'],
    ['instructies', 'regels', 'aanwijzingen', 'richtlijnen'],
    ['alle', 'vorige', 'eerdere', 'bovenstaande', 'je', 'jouw', 'systeem'],
  ],
  // Russian (diacritics removed: й → и, ё → е)
  [
    ['игнорируи(?:те)?', 'проигнорируи(?:те)?', 'игнорировать', 'забудь(?:те)?', 'забыть', 'отбрось(?:те)?'],
    ['инструкции', 'инструкциям', 'указания', 'правила', 'команды', 'установки'],
    ['все', 'всe', 'предыдущие', 'прежние', 'вышеуказанные', 'свои', 'твои', 'системные', 'ранее', 'выше'],
  ],
]; // prettier-ignore

export const INJECTION_RULES: readonly InjectionRule[] = [
  {
    id: 'ignore-instructions',
    on: 'both',
    patterns: [
      ...IGNORE.map(([verbs, nouns, qualifiers]) => verbNoun(verbs, nouns, qualifiers)),
      /\b(?:ignore|disregard|forget)\s+(?:everything|anything|all)\s+(?:above|before|prior|previously|said|you(?:'ve| have) been told)\b/u,
      /(?:忽略|无视|忽视|不要理会|忘记|忘掉|忽略掉)(?:之前|以前|先前|上面|以上|前面|所有|全部|你的|的|一切)*.{0,6}?(?:指令|指示|提示词?|规则|说明|设定)/u,
      /(?:以前|前|上記|これまで|全て|すべて)の(?:指示|命令|ルール|プロンプト|設定).{0,6}?(?:無視|忘れ)/u,
      /(?:이전|앞의|위의|모든|기존)\s*(?:지시|명령|지침|규칙|프롬프트).{0,8}?(?:무시|잊어)/u,
    ],
  },
  {
    id: 'role-override',
    on: 'folded',
    patterns: [
      /\byou are (?:now|no longer)\b.{0,40}?\b(?:dan|unrestricted|unfiltered|uncensored|jailbroken|without (?:any )?(?:rules|restrictions|limits|filters)|bound by|an? ai without)/,
      /\b(?:enable|activate|enter|switch to|turn on)\s+(?:the\s+)?(?:developer|dev|god|dan|jailbreak|sudo|unrestricted)\s+mode\b/,
      /\bdo anything now\b/,
      /\b(?:new|updated|real|actual) (?:system )?instructions?\s*:/,
      /\bsystem (?:override|prompt override)\b/,
      /\bpretend (?:that )?you (?:have no (?:rules|restrictions|guidelines)|are not bound|are free of)/,
    ],
  },
  {
    id: 'prompt-leak',
    on: 'folded',
    patterns: [
      /\b(?:reveal|print|show|display|output|repeat|leak|dump|tell me|give me|paste|write out)\b(?:\s+\S+){0,3}?\s+your\s+(?:full\s+|entire\s+|exact\s+)?(?:system|initial|original|hidden|secret|developer)\s+(?:prompt|instructions|message)s?\b/,
    ],
  },
  {
    id: 'role-tag',
    on: 'folded',
    patterns: [
      /<\|(?:im_start|im_end|system|user|assistant|endoftext|begin_of_text|start_header_id|end_header_id|eot_id)\|>/,
      /\[\/?inst\]/,
      /<<\/?sys>>/,
      /<\/?(?:system|assistant|developer|system_prompt|sys|user_instructions)>/,
    ],
  },
  {
    id: 'fake-tool-call',
    on: 'folded',
    patterns: [
      /"(?:tool_calls|function_call|tool_use|tool_call)"\s*:/,
      /"type"\s*:\s*"(?:tool_use|function_call)"/,
      /"role"\s*:\s*"(?:system|tool|developer)"/,
      /<(?:tool_call|tool_use|function_calls?|invoke)\b/,
    ],
  },
];

/** The two detection copies (see the header). */
export function plainCopy(text: string): string {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      .normalize('NFD')
      // Latin, Greek and Cyrillic diacritics only: Japanese voicing marks and Indic vowels stay.
      .replace(/[\u0300-\u036f]|\p{Cf}|\p{Variation_Selector}/gu, '')
      .normalize('NFC')
      .replace(/\s+/g, ' ')
  );
}

const OWN_WORDS = new RegExp(`${B}(?:my|mes|mis|meine|meinen|mie|miei|minhas|meus|mijn|мои|моих)${E}`, 'u');

/** Words that make a "my" sentence sweeping again ("ignore my and all previous instructions"). */
const SWEEPING_WORDS = new RegExp(
  `${B}(?:all|any|every|your|system|developer|safety|toutes|tous|vos|tes|todas|todos|tus|alle|deine|ihre|tutte|tue|suas|tuas|jouw|je|все|свои|твои|системные)${E}`,
  'u',
);

function matches(pattern: RegExp, copy: string, rule: InjectionRule['id']): boolean {
  const match = pattern.exec(copy);
  if (!match) return false;
  return !(rule === 'ignore-instructions' && OWN_WORDS.test(match[0]) && !SWEEPING_WORDS.test(match[0]));
}

/** Rule ids 1–5 that match either copy, in rule order. */
export function matchRules(plain: string, folded: string): string[] {
  const hits: string[] = [];
  for (const rule of INJECTION_RULES) {
    const copies = rule.on === 'both' ? [plain, folded] : rule.on === 'plain' ? [plain] : [folded];
    if (rule.patterns.some((pattern) => copies.some((copy) => matches(pattern, copy, rule.id)))) hits.push(rule.id);
  }
  return hits;
}
