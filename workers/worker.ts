/** Piscina entry point: dispatches typed requests to the plain functions of parse-batch.ts. */
import Piscina from 'piscina';
import type { WorkerRequest, WorkerResponse } from '../shared/protocol.js';
import { handleRequest, transferablesOf } from './parse-batch.js';

export default function runTask(request: WorkerRequest): WorkerResponse {
  const response = handleRequest(request);
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
