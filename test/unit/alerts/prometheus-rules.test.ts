import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EXPIRED, EXPIRING, REVOKED, RUNBOOK_BASE_URL } from '../../../src/alerts/evaluate.js';

interface Rule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Group {
  name: string;
  rules: Rule[];
}
interface RuleTest {
  alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }>;
}

const dir = new URL('../../../deploy/prometheus/', import.meta.url);
const read = <T>(file: string): T => parse(readFileSync(new URL(file, dir), 'utf8')) as T;

const groups = read<{ groups: Group[] }>('rules.yaml').groups;
const rules = groups.flatMap((group) => group.rules);
const operator = read<{ apiVersion: string; kind: string; spec: { groups: Group[] } }>('prometheusrule.yaml');
const cases = read<{ tests: RuleTest[] }>('rules.test.yaml').tests.flatMap((test) => test.alert_rule_test);

describe('Prometheus rules', () => {
  it('the PrometheusRule holds exactly the groups of rules.yaml', () => {
    expect(operator).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' });
    expect(operator.spec.groups).toEqual(groups);
  });

  it('has the certificate and health groups', () => {
    expect(groups.map((group) => group.name)).toEqual(['enos-cert-monitor-certificates', 'enos-cert-monitor-health']);
  });

  it('never reuses the name of an alert the monitor pushes', () => {
    for (const name of [EXPIRING, EXPIRED, REVOKED]) expect(rules.map((rule) => rule.alert)).not.toContain(name);
  });

  it.each(rules.map((rule) => [rule.alert, rule] as const))('%s has severity, summary, description and its runbook', (name, rule) => {
    expect(['warning', 'critical']).toContain(rule.labels?.severity);
    expect(rule.annotations?.summary).toBeTruthy();
    expect(rule.annotations?.description).toBeTruthy();
    expect(rule.annotations?.runbook_url).toBe(`${RUNBOOK_BASE_URL}${name.toLowerCase()}`);
  });

  it.each(rules.map((rule) => [rule.alert]))('%s has a promtool test that fires and one that does not', (name) => {
    const mine = cases.filter((test) => test.alertname === name);
    expect(mine.some((test) => test.exp_alerts.length > 0)).toBe(true);
    expect(mine.some((test) => test.exp_alerts.length === 0)).toBe(true);
  });
});
