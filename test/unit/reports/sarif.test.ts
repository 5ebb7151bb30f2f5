import { describe, expect, it } from 'vitest';
import { renderReport } from '../../../src/interfaces/reports/index.js';
import { emptyReport, fixtureReport } from '../../fixtures/audit-report.js';

interface SarifLog {
  $schema: string;
  version: string;
  runs: {
    tool: { driver: { name: string; version: string; rules: { id: string; defaultConfiguration: { level: string }; shortDescription: { text: string } }[] } };
    logicalLocations: { name: string; fullyQualifiedName: string; kind: string; parentIndex?: number }[];
    results: {
      ruleId: string;
      ruleIndex: number;
      level: string;
      message: { text: string };
      locations: { physicalLocation: { artifactLocation: { uri: string } }; logicalLocations: { index: number; fullyQualifiedName: string }[] }[];
      partialFingerprints: Record<string, string>;
    }[];
  }[];
}

const LEVELS = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' } as const;

describe('SARIF report', () => {
  const log = JSON.parse(renderReport(fixtureReport, 'sarif')) as SarifLog;
  const run = log.runs[0]!;

  it('is SARIF 2.1.0 with one run', () => {
    expect(log.version).toBe('2.1.0');
    expect(log.$schema).toMatch(/sarif-2\.1\.0/);
    expect(log.runs).toHaveLength(1);
    expect(run.tool.driver.name).toBe('Steward');
    expect(run.tool.driver.version).toBe('0.1.0');
  });

  it('has one result per finding, levels mapped from severity, stable fingerprints', () => {
    expect(run.results).toHaveLength(fixtureReport.findings.length);
    for (const f of fixtureReport.findings) {
      const r = run.results.find((x) => x.partialFingerprints['stewardFindingId/v1'] === f.id);
      expect(r, f.id).toBeDefined();
      expect(r!.level).toBe(LEVELS[f.severity]);
      expect(r!.ruleId).toBe(f.rule);
      expect(r!.message.text).toContain(f.remedy);
    }
  });

  it('declares each distinct rule once and indexes it from results', () => {
    const ids = run.tool.driver.rules.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(fixtureReport.findings.map((f) => f.rule)));
    for (const r of run.results) expect(run.tool.driver.rules[r.ruleIndex]!.id).toBe(r.ruleId);
    // A rule's default level is its worst result's level.
    expect(run.tool.driver.rules.find((r) => r.id === 'collection.plaintext-high-risk')!.defaultConfiguration.level).toBe('error');
  });

  it('locates results logically as source / schema / table / column, plus the config file', () => {
    const card = run.results.find((r) => r.partialFingerprints['stewardFindingId/v1'] === 'PHR-1a2b3c4d5e')!;
    const loc = card.locations[0]!;
    expect(loc.physicalLocation.artifactLocation.uri).toBe('steward.yml');
    const chain: string[] = [];
    for (let i: number | undefined = loc.logicalLocations[0]!.index; i !== undefined; i = run.logicalLocations[i]!.parentIndex) {
      chain.unshift(`${run.logicalLocations[i]!.kind}:${run.logicalLocations[i]!.name}`);
    }
    expect(chain).toEqual(['database:shop', 'schema:public', 'table:orders', 'column:card_number']);
    expect(loc.logicalLocations[0]!.fullyQualifiedName).toBe('shop/public.orders.card_number');
    const src = run.results.find((r) => r.ruleId === 'collection.source-unreachable')!;
    expect(src.locations[0]!.logicalLocations[0]!.fullyQualifiedName).toBe('crm');
    const fqns = run.logicalLocations.map((l) => `${l.kind}:${l.fullyQualifiedName}`);
    expect(new Set(fqns).size).toBe(fqns.length);
  });

  it('points at another config path when asked', () => {
    const other = JSON.parse(renderReport(fixtureReport, 'sarif', { sarifArtifactUri: 'ops/steward.yml' })) as SarifLog;
    expect(other.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe('ops/steward.yml');
  });

  it('has no results and no rules for an empty audit', () => {
    const empty = JSON.parse(renderReport(emptyReport, 'sarif')) as SarifLog;
    expect(empty.runs[0]!.results).toEqual([]);
    expect(empty.runs[0]!.tool.driver.rules).toEqual([]);
  });
});
