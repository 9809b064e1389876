import type { z } from 'zod';
import { deviceSchema } from '../config/schema.js';
import type { DeviceRef } from '../domain/types.js';

export const DEVICE_FIELDS = ['orgId', 'assetId', 'productKey', 'deviceKey'] as const;
export type DeviceField = (typeof DEVICE_FIELDS)[number];

export type RowResult = { readonly device: DeviceRef } | { readonly problem: string };

/**
 * Checks one file entry with the config's device rules. Other keys are ignored (files are often
 * exports with more columns); blank values count as absent, so an empty CSV cell is no error.
 */
export function deviceFromRow(row: Readonly<Record<string, unknown>>): RowResult {
  const fields: Record<string, unknown> = {};
  for (const field of DEVICE_FIELDS) {
    const raw = row[field];
    const value = typeof raw === 'string' ? raw.trim() : raw;
    if (value !== undefined && value !== null && value !== '') fields[field] = value;
  }
  const result = deviceSchema.safeParse(fields);
  if (result.success) return { device: result.data };
  return { problem: result.error.issues.map(describeIssue).join('; ') };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.join('.');
  if (field === '') return issue.message;
  if (issue.code === 'invalid_type') {
    return issue.message.endsWith('received undefined') ? `${field} is required` : `${field} must be a string`;
  }
  return `${field}: ${issue.message}`;
}
