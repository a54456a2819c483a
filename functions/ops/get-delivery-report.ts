/**
 * `GET /api/ops/report?from&to[&format=svg]` (Deliveries.Admin): the delivery report of the
 * deliveries requested in [from, to), read from the Capture archive (ops/delivery-report.ts),
 * as JSON, or as the deliveries-per-hour SVG chart with `Accept: image/svg+xml` or
 * `format=svg`. The range is bounded by RebuildMaxRangeDays, like every read of the archive
 * inside a request.
 */
import { app } from '@azure/functions';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { checkReportRange } from '../../domain/delivery/report';
import { isAdmin } from '../../domain/shared/caller';
import { validationFailed } from '../../domain/shared/errors';
import { composition } from '../composition';
import { withCaller } from '../http/edge';
import { fromDomainError, jsonResponse } from '../http/problem';
import { FUNCTIONS, ROUTES } from '../names';
import { reportFromArchive } from './delivery-report';
import { reportSvg } from './report-chart';

const SVG = 'image/svg+xml';

function wantsSvg(request: HttpRequest): boolean | 'bad' {
  const format = request.query.get('format');
  if (format !== null) return format === 'svg' ? true : format === 'json' ? false : 'bad';
  const accept = request.headers.get('accept') ?? '';
  return accept.includes(SVG) && !accept.includes('application/json');
}

export async function getDeliveryReport(request: HttpRequest): Promise<HttpResponseInit> {
  return withCaller(request, async (caller) => {
    if (!isAdmin(caller))
      return fromDomainError({ code: 'Forbidden', message: 'The delivery report is for Deliveries.Admin.' });
    const svg = wantsSvg(request);
    if (svg === 'bad')
      return fromDomainError(
        validationFailed('The report request is not valid.', [{ path: '/format', message: 'must be json or svg' }]),
      );
    const range = checkReportRange(request.query.get('from') ?? undefined, request.query.get('to') ?? undefined);
    if (!range.ok) return fromDomainError(range.error);
    const c = composition();
    const maxMs = c.config.history.rebuildMaxRangeMs;
    if (Date.parse(range.value.to) - Date.parse(range.value.from) > maxMs) {
      return fromDomainError(
        validationFailed('The report request is not valid.', [
          {
            path: '/to',
            message: `the range may span at most ${maxMs / 86_400_000} days here (RebuildMaxRangeDays); npm run report reads longer ones`,
          },
        ]),
      );
    }
    const reader = c.archiveReader();
    if (!reader)
      return fromDomainError({
        code: 'DependencyUnavailable',
        message: 'No archive is configured for this app (ArchiveLake__dfsServiceUri).',
      });
    const report = await reportFromArchive(reader, range.value);
    if (svg)
      return {
        status: 200,
        headers: { 'content-type': `${SVG}; charset=utf-8`, 'cache-control': 'no-store' },
        body: reportSvg(report),
      };
    return jsonResponse(200, report, { 'cache-control': 'no-store' });
  });
}

app.http(FUNCTIONS.getDeliveryReport, {
  route: ROUTES.deliveryReport,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: getDeliveryReport,
});
