/**
 * What the deterministic tool-call and structured-output rules take from a prompt: its words, the
 * capitalised names in it, quoted strings, numbers, dates, e-mail addresses and URLs, in order.
 */
export interface PromptFacts {
  /** The source text, trimmed. */
  readonly text: string;
  /** Words that are not stop words or numbers, in order, as written. */
  readonly words: readonly string[];
  /** Lowercased stems of {@link words} (trailing plural `s` dropped), for matching. */
  readonly stems: ReadonlySet<string>;
  /** Runs of capitalised words that do not open a sentence ("Paris", "New York"), in order. */
  readonly names: readonly string[];
  /** Text between double or curly quotes, in order. */
  readonly quoted: readonly string[];
  readonly numbers: readonly number[];
  readonly dates: readonly string[];
  readonly emails: readonly string[];
  readonly urls: readonly string[];
  /** Whether a negation word ("no", "not", "never", "without", "don't", "false", …) occurs. */
  readonly negated: boolean;
}

/** English words that carry no topic; never matched against tools and never used as values. */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    "a an the and or but if then else of to in on at by for from with without into onto over under " +
    "about as is are was were be been being am do does did done doing have has had having it its " +
    "this that these those there here i me my mine you your yours we us our he him his she her they " +
    "them their what which who whom whose when where why how all any some each every no not nor " +
    "only own same so than too very can could will would shall should may might must just please " +
    "tell give show find get let make use call want need like know also up down out off again " +
    "more most other such s t d ll m o re ve y"
  ).split(" "),
);

const NEGATIONS = new Set(["no", "not", "never", "none", "without", "false", "don't", "doesn't", "isn't"]);

/** Lowercase, and drop a plural `s` from words longer than three letters (not `ss`). */
export function stem(word: string): string {
  const lower = word.toLowerCase();
  return lower.length > 3 && lower.endsWith("s") && !lower.endsWith("ss") ? lower.slice(0, -1) : lower;
}

/** Splits an identifier or phrase into lowercase words: `getWeather_now` → get, weather, now. */
export function identifierWords(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0);
}

/** Extracts the {@link PromptFacts} of a text. */
export function promptFacts(source: string): PromptFacts {
  const text = source.trim();
  const tokens = [...text.matchAll(/[\p{L}\p{N}][\p{L}\p{N}'’_-]*|[.!?:;\n]/gu)].map((match) => match[0]);
  const words: string[] = [];
  const names: string[] = [];
  let sentenceStart = true;
  let run: string[] = [];
  const endRun = (): void => {
    if (run.length > 0) names.push(run.join(" "));
    run = [];
  };
  for (const token of tokens) {
    if (/^[.!?:;\n]$/.test(token)) {
      endRun();
      // A colon or semicolon ends a run of names but not the sentence ("Extract: Alice …").
      if (token !== ":" && token !== ";") sentenceStart = true;
      continue;
    }
    const lower = token.toLowerCase();
    const isNumber = /^\p{N}/u.test(token);
    const capitalised = /^\p{Lu}/u.test(token);
    if (capitalised && !sentenceStart && !STOP_WORDS.has(lower)) run.push(token);
    else if (capitalised && run.length > 0 && !STOP_WORDS.has(lower)) run.push(token);
    else endRun();
    if (!isNumber && !STOP_WORDS.has(lower) && !NEGATIONS.has(lower)) words.push(token);
    sentenceStart = false;
  }
  endRun();
  if (names.length === 0) {
    // Only sentence-initial capitals: take those that are not stop words ("Paris is lovely").
    for (const match of text.matchAll(/(?:^|[.!?\n]\s*)(\p{Lu}[\p{L}'’-]*)/gu)) {
      const word = match[1] ?? "";
      if (!STOP_WORDS.has(word.toLowerCase())) names.push(word);
    }
  }
  const lowerTokens = tokens.map((token) => token.toLowerCase());
  return {
    text,
    words,
    stems: new Set(words.map(stem)),
    names,
    quoted: [...text.matchAll(/"([^"\n]+)"|“([^”\n]+)”/g)].map((match) => match[1] ?? match[2] ?? ""),
    numbers: [...text.matchAll(/(?<![\p{L}\p{N}.-])-?\d+(?:\.\d+)?(?![\p{L}\d])/gu)]
      .map((match) => Number(match[0]))
      .filter((value) => Number.isFinite(value)),
    dates: [...text.matchAll(/\b\d{4}-\d{2}-\d{2}\b/g)].map((match) => match[0]),
    emails: [...text.matchAll(/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g)].map((match) => match[0]),
    urls: [...text.matchAll(/https?:\/\/[^\s"'<>]+[^\s"'<>.,;:!?)]/g)].map((match) => match[0]),
    negated: lowerTokens.some((token) => NEGATIONS.has(token.replace("’", "'"))),
  };
}
