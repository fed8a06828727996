/** Webhook deliveries: `pending` until delivered, or `failed` once the retries are used up. */
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
