// The filter Lambda: shard messages from its queue through the pipeline runner (lib/aws/handlers.ts).
import { makeShardHandler } from '../lib/aws/handlers.ts';

export const handler = makeShardHandler();
