// The GraphQL-over-HTTP spec's server audit (graphql-http's auditServer) against a URL.
// Prints one JSON line: the results, each {id, name, status, reason}.
// Usage: AUDIT_MODULES=<dir with node_modules/graphql-http> [AUDIT_TOKEN=<bearer>] \
//        node tests/audit/graphql_http.mjs URL
// With AUDIT_TOKEN every request is signed in (the API describes itself only then).
import { createRequire } from "node:module";

const require = createRequire(process.env.AUDIT_MODULES + "/");
const { auditServer } = require("graphql-http");

const token = process.env.AUDIT_TOKEN;
const signedIn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url: process.argv[2], fetchFn: signedIn });
console.log(
  JSON.stringify(
    results.map((r) => ({ id: r.id, name: r.name, status: r.status, reason: r.reason ?? null })),
  ),
);
