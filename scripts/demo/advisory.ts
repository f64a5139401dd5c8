/**
 * The demo's advisory database holds one made-up OSV record about the made-up vendored package
 * `@example/greeting` (scripts/demo/project/vendor): affected before 1.2.1, so release 1.0.0, which
 * ships 1.2.0, is affected. Real databases come from osv.dev exports (docs/audit.md).
 */
export const demoAdvisory = {
  schema_version: '1.6.0',
  // `x_`: OSV's prefix for identifiers outside the registered databases.
  id: 'x_DEMO-2026-0001',
  modified: '2026-11-25T00:00:00Z',
  published: '2026-11-25T00:00:00Z',
  summary: 'greeting: a name with a newline lets the caller add a line of its own (made up for the demo)',
  affected: [
    {
      package: { ecosystem: 'npm', name: '@example/greeting' },
      ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.2.1' }] }],
    },
  ],
  severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N' }],
};
