// Helpers for writing the demo's model replies by hand.
export interface AuthoredReply {
  content: string;
  /** `stop` unless given: `length` marks a reply cut at max_tokens. */
  finishReason?: 'stop' | 'length';
}

/** A chat reply the way instruction-tuned models write one: preamble, a python block, a closing line. */
export function chat(preamble: string, code: string, closing: string): AuthoredReply {
  return { content: `${preamble}\n\n\`\`\`python\n${code.endsWith('\n') ? code : `${code}\n`}\`\`\`\n\n${closing}` };
}
