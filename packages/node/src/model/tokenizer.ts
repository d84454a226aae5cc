/**
 * The tokenizer of `peer-tiny` and of usage counts: a token is a run of letters, digits or `_`, or
 * one other non-space character, each carrying the whitespace before it; trailing whitespace is one
 * more token. Concatenating the tokens gives the text back. The training script uses the same pattern.
 */
export const TOKEN_PATTERN = /\s*(?:[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_])|\s+/gu;

/**
 * Splits text into tokens whose concatenation is the text.
 *
 * @example
 * ```ts
 * tokenize("Hello, world!"); // ["Hello", ",", " world", "!"]
 * ```
 */
export function tokenize(text: string): string[] {
  return text.match(TOKEN_PATTERN) ?? [];
}

/** Number of tokens in a text, as {@link tokenize} counts them. */
export function countTokens(text: string): number {
  let count = 0;
  for (const _ of text.matchAll(TOKEN_PATTERN)) count += 1;
  return count;
}

/** The vocabulary form of a token: its leading whitespace becomes one space. */
export function normalizeToken(token: string): string {
  return token.replace(/^\s+/u, " ");
}
