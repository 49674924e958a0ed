/** Piscina entry point: dispatches typed requests to the plain functions of parse-batch.ts. */
import Piscina from 'piscina';
import type { WorkerRequest, WorkerResponse } from '../shared/protocol.js';
import { preloadTypescript, saveTypescriptCodeCache } from './typescript-loader.js';

// Before parse-batch (and so typescript) is required: load the parser through the V8 code cache.
const typescriptLoad = preloadTypescript();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handleRequest, transferablesOf } = require('./parse-batch.js') as typeof import('./parse-batch.js');

export default function runTask(request: WorkerRequest): WorkerResponse {
  let response = handleRequest(request);
  if (response.type === 'warmup-done') {
    // After a first parse the lazily compiled parser functions are in the cache too.
    saveTypescriptCodeCache();
    response = { ...response, codeCache: typescriptLoad.codeCache };
  }
  const transfer = transferablesOf(response);
  if (transfer.length === 0) return response;
  // Piscina moves a value that implements its Transferable protocol instead of cloning it.
  const movable = {
    get [Piscina.transferableSymbol]() {
      return transfer;
    },
    get [Piscina.valueSymbol]() {
      return response;
    },
  };
  return Piscina.move(movable as unknown as Parameters<typeof Piscina.move>[0]) as unknown as WorkerResponse;
}
