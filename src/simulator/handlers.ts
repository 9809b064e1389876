import type { DeviceRef } from '../domain/types.js';
import { ExpressionError, parseExpression } from './expression.js';
import type { Fleet } from './fleet.js';
import { isRecord } from './records.js';
import type { SimDevice } from './generate.js';
import { API_CODE, apiFailure, apiSuccess, type Answer } from './responses.js';

export const DEFAULT_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 200;

/** The device a List Certificate query names, or why it names none (the gateway's 99400 text). */
export function deviceRefFromQuery(query: URLSearchParams): DeviceRef | string {
  const orgId = query.get('orgId');
  if (!orgId) return 'invalid argument: orgId is required';
  const assetId = query.get('assetId');
  if (assetId) return { orgId, assetId };
  const productKey = query.get('productKey');
  const deviceKey = query.get('deviceKey');
  if (productKey && deviceKey) return { orgId, productKey, deviceKey };
  return 'invalid argument: The device identifier is invalid';
}

/** GET /connect-service/v2.0/certificates?action=list */
export function listCertificates(fleet: Fleet, query: URLSearchParams): Answer {
  if (query.get('action') !== 'list') return apiFailure(API_CODE.invalidArgument, 'invalid argument: action');
  const ref = deviceRefFromQuery(query);
  if (typeof ref === 'string') return apiFailure(API_CODE.invalidArgument, ref);
  const certificates = fleet.certificates(ref);
  if (!certificates) return apiFailure(API_CODE.deviceNotFound, 'Device cannot be found');
  return apiSuccess(certificates);
}

interface SearchRequest {
  readonly expression: string | undefined;
  readonly pageNo: number;
  readonly pageSize: number;
  readonly projection: readonly string[] | undefined;
}

/** POST /connect-service/v2.1/devices?action=search */
export function searchDevices(fleet: Fleet, query: URLSearchParams, body: string): Answer {
  if (query.get('action') !== 'search') return apiFailure(API_CODE.invalidArgument, 'invalid argument: action');
  const orgId = query.get('orgId');
  if (!orgId) return apiFailure(API_CODE.invalidArgument, 'invalid argument: orgId is required');
  const request = parseSearchRequest(body);
  if (typeof request === 'string') return apiFailure(API_CODE.invalidArgument, `invalid argument: ${request}`);
  let conditions;
  try {
    conditions = parseExpression(request.expression);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    return apiFailure(API_CODE.invalidArgument, `invalid argument: expression: ${error.message}`);
  }
  const { pageNo, pageSize, projection } = request;
  // The simulated application sees one organisation; any other has no devices.
  const result =
    orgId === fleet.orgId ? fleet.search(conditions, (pageNo - 1) * pageSize, pageSize) : { devices: [], total: 0 };
  return apiSuccess(
    result.devices.map((device) => project(deviceView(device), projection)),
    { pagination: { pageNo, pageSize, totalSize: result.total } },
  );
}

/** The validated search body, or what is wrong with it. */
function parseSearchRequest(body: string): SearchRequest | string {
  let parsed: unknown = {};
  if (body.trim() !== '') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return 'body is not JSON';
    }
  }
  if (!isRecord(parsed)) return 'body must be an object';
  const { expression, pagination = {}, projection } = parsed;
  if (expression !== undefined && typeof expression !== 'string') return 'expression must be a string';
  if (!isRecord(pagination)) return 'pagination must be an object';
  const { pageNo = 1, pageSize = DEFAULT_PAGE_SIZE } = pagination;
  if (!isPositiveInteger(pageNo)) return 'pagination.pageNo must be a positive integer';
  if (!isPositiveInteger(pageSize) || pageSize > MAX_PAGE_SIZE) {
    return `pagination.pageSize must be between 1 and ${MAX_PAGE_SIZE}`;
  }
  if (projection !== undefined && !(Array.isArray(projection) && projection.every((f) => typeof f === 'string'))) {
    return 'projection must be a list of field names';
  }
  return { expression, pageNo, pageSize, projection };
}

/** A device as Search Device returns it (deviceSecret included: only a projection leaves it out). */
function deviceView(device: SimDevice): Record<string, unknown> {
  return {
    orgId: device.orgId,
    assetId: device.assetId,
    modelId: `model-${device.productKey}`,
    modelIdPath: `/model-${device.productKey}`,
    productKey: device.productKey,
    productName: { defaultValue: `Product ${device.productKey}`, i18nValue: {} },
    productType: 'Device',
    deviceKey: device.deviceKey,
    deviceName: { defaultValue: device.deviceName, i18nValue: { en_US: device.deviceName } },
    deviceSecret: device.deviceSecret,
    timezone: '+08:00',
    deviceAttributes: {},
    deviceTags: {},
    status: device.status,
    activeTime: device.status === 'inactive' ? 0 : device.createTime + 60_000,
    createTime: device.createTime,
  };
}

/** Keeps the projected fields; `deviceName.defaultValue` keeps the whole `deviceName`. */
function project(view: Record<string, unknown>, projection: readonly string[] | undefined): Record<string, unknown> {
  if (!projection) return view;
  return Object.fromEntries(
    Object.entries(view).filter(([field]) => projection.some((p) => p === field || p.startsWith(`${field}.`))),
  );
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}
