/**
 * Prices. A worker asks `pricePer1k` credits per 1,000 tokens (prompt + completion); a job costs
 * that, rounded up, and at least 1 credit. Integers only: 1 credit = $0.01.
 */
export function priceCredits(
  usage: { readonly prompt_tokens: number; readonly completion_tokens: number },
  pricePer1k: number,
): number {
  const tokens = usage.prompt_tokens + usage.completion_tokens;
  return Math.max(1, Math.ceil((tokens * pricePer1k) / 1000));
}

/** The most a job can cost: its prompt tokens plus `maxTokens` completion tokens. */
export function maxPriceCredits(promptTokens: number, maxTokens: number, pricePer1k: number): number {
  return priceCredits({ prompt_tokens: promptTokens, completion_tokens: maxTokens }, pricePer1k);
}
