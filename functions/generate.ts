// The generate Lambda: generate shard messages, and unify messages too (they share this queue and
// function: both are LLM stages under one concurrency cap, see lib/infra/routing.ts).
import { makeShardHandler } from '../lib/aws/handlers.ts';

export const handler = makeShardHandler();
