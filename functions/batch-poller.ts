// The batch poller (batch mode): a schedule invokes it every minute; see lib/aws/handlers.ts.
import { makeBatchPollerHandler } from '../lib/aws/handlers.ts';

export const handler = makeBatchPollerHandler();
