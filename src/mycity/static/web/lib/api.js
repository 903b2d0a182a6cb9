// The city's public GraphQL API, as the pages speak it: POST /graphql with the access
// token in the Authorization header (never in a URL), and subscriptions over WebSocket
// (graphql-transport-ws, through the vendored graphql-ws client) with the token in
// connection_init.

export class ApiError extends Error {
  constructor(code, message, field = null) {
    super(message);
    this.code = code;
    this.field = field;
  }
}

export class Api {
  constructor(tokenSource) {
    this.tokenSource = tokenSource; // async () => access token or null
    this.ws = null;
  }

  /** The operation's data; throws ApiError for a GraphQL error or a payload's userErrors. */
  async run(query, variables = {}) {
    const token = await this.tokenSource();
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }), credentials: "omit" });
    } catch {
      throw new ApiError("OFFLINE", "offline");
    }
    const body = await response.json().catch(() => ({ errors: [{ message: response.statusText }] }));
    if (body.errors?.length) {
      const [error] = body.errors;
      throw new ApiError(error.extensions?.code ?? "ERROR", error.message);
    }
    for (const payload of Object.values(body.data ?? {})) {
      const [refused] = payload?.userErrors ?? [];
      if (refused) throw new ApiError(refused.code, refused.message, refused.field);
    }
    return body.data;
  }

  /** Subscribe; `onNext(data)` for each result, `onEnd(error or null)` once when it ends
   * (an error, or the server completing it: when the connection's token expires). Answers
   * the function that ends it. */
  subscribe(query, onNext, onEnd) {
    if (!this.ws) {
      const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
      this.ws = globalThis.graphqlWs.createClient({
        url,
        lazy: true,
        retryAttempts: Infinity,
        shouldRetry: () => true,
        connectionParams: async () => ({ authorization: `Bearer ${await this.tokenSource()}` }),
      });
    }
    let ended = false;
    const end = (error) => ended || ((ended = true), onEnd(error));
    return this.ws.subscribe({ query }, {
      next: (result) => {
        const [error] = result.errors ?? [];
        if (error) end(new ApiError(error.extensions?.code ?? "ERROR", error.message));
        else onNext(result.data);
      },
      error: (error) => end(error instanceof Error ? error : new ApiError("OFFLINE", "offline")),
      complete: () => end(null),
    });
  }

  close() {
    this.ws?.dispose();
    this.ws = null;
  }

  /** Upload a document (POST /uploads); answers its SHA-256, which names it as a material. */
  async upload(file) {
    const token = await this.tokenSource();
    const response = await fetch("/uploads", {
      method: "POST", body: file, credentials: "omit",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": file.type || "application/octet-stream" },
    });
    const body = await response.json();
    if (!response.ok) throw new ApiError(body.code, body.message, body.field);
    return body.sha256;
  }
}

/** A fresh idempotency key (8-64 characters) for one payment request. */
export const idempotencyKey = () => crypto.randomUUID();
