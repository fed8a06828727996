import { approveRequest } from '../../src/operations/approve-request.js';
import { createRequest, type CreateRequestInput } from '../../src/operations/create-request.js';
import type { World } from './world.js';

/** Files a request and walks it through every stage with the given approvers, returning the grant id. */
export const grantThrough = async (w: World, requester: string, input: CreateRequestInput, approvers: string[]): Promise<string> => {
  const request = await createRequest(await w.as(requester), input);
  let grantId: string | null = null;
  for (const approver of approvers) grantId = (await approveRequest(await w.as(approver), { request: request.id })).grantId;
  if (!grantId) throw new Error(`request ${request.id} was not fully approved by ${approvers.join(', ')}`);
  return grantId;
};
