import type { ChangeEvent } from './types.js';

type DeviceFields = Pick<ChangeEvent, 'orgId' | 'assetId' | 'productKey' | 'deviceKey'>;

/**
 * A device as a person writes it, matched against recorded device fields. Accepted: the id the
 * scan report prints (`orgId/assetId`, `orgId/productKey/deviceKey`), `orgId/productKey:deviceKey`,
 * `productKey/deviceKey`, `productKey:deviceKey`, and an assetId or deviceKey alone (any org).
 */
export function deviceMatcher(text: string): (device: DeviceFields) => boolean {
  const parts = text.trim().replace(/^\/+|\/+$/g, '').split('/').map((part) => part.trim());
  const is = (value: string, wanted: string | undefined) => wanted !== undefined && wanted !== '' && value === wanted;
  const byKeys = (pair: string | undefined) => {
    const [productKey, deviceKey, ...rest] = (pair ?? '').split(':');
    return rest.length === 0 && deviceKey !== undefined
      ? (d: DeviceFields) => is(d.productKey, productKey) && is(d.deviceKey, deviceKey)
      : undefined;
  };
  if (parts.length === 1) {
    const [name] = parts;
    return byKeys(name) ?? ((d) => is(d.assetId, name) || is(d.deviceKey, name));
  }
  if (parts.length === 2) {
    const [first, second] = parts;
    const keys = byKeys(second);
    if (keys !== undefined) return (d) => is(d.orgId, first) && keys(d);
    return (d) => (is(d.orgId, first) && (is(d.assetId, second) || is(d.deviceKey, second))) || (is(d.productKey, first) && is(d.deviceKey, second));
  }
  if (parts.length === 3) {
    const [orgId, productKey, deviceKey] = parts;
    return (d) => is(d.orgId, orgId) && is(d.productKey, productKey) && is(d.deviceKey, deviceKey);
  }
  return () => false;
}
