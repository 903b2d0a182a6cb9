// The signed-in citizen's tokens: the access token in memory only, the refresh token kept
// on the device (this origin's storage: no other origin reads it) so the app stays signed
// in; each refresh rotates it. Tokens never go in a URL.
import { Api, ApiError } from "../lib/api.js";

const KEPT = "mycity.refreshToken";
const RETRY = "mycity.refreshRetryKey";
const TOKENS = "accessToken refreshToken expiresIn";

export class Session {
  constructor() {
    this.access = null;
    this.expires = 0;
    this.refreshing = null;
    this.api = new Api(() => this.token());
  }

  get signedIn() {
    return Boolean(this.access || localStorage.getItem(KEPT));
  }

  async requestCode(phone) {
    const data = await this.api.run(
      "mutation RequestCode($phone: String!) { requestPhoneCode(input: {phone: $phone}) { retryAfterSeconds userErrors { code message field } } }",
      { phone },
    );
    return data.requestPhoneCode.retryAfterSeconds;
  }

  async logIn(phone, code) {
    const data = await this.api.run(
      `mutation LogIn($phone: String!, $code: String!) { logInWithPhoneCode(input: {phone: $phone, code: $code}) { tokens { ${TOKENS} } userErrors { code message field } } }`,
      { phone, code },
    );
    this.keep(data.logInWithPhoneCode.tokens);
  }

  async logOut() {
    const refreshToken = localStorage.getItem(KEPT);
    this.api.close();
    this.forget();
    if (refreshToken) {
      await this.api.run("mutation LogOut($refreshToken: String!) { logOut(input: {refreshToken: $refreshToken}) { userErrors { code message field } } }", { refreshToken }).catch(() => {});
    }
  }

  /** A current access token, refreshed a minute before it expires; null when signed out. */
  async token() {
    if (this.access && Date.now() < this.expires - 60_000) return this.access;
    if (!localStorage.getItem(KEPT)) return null;
    this.refreshing ??= this.refresh().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  /** One refresh at a time across the device's tabs (a refresh token works once: two tabs
   * racing with it would end the session), each with the retry key kept beside the token,
   * so that a refresh whose answer was lost is asked again, not taken for a theft. */
  async refresh() {
    const exclusive = navigator.locks ? (run) => navigator.locks.request("mycity.refresh", run) : (run) => run();
    return exclusive(async () => {
      if (this.access && Date.now() < this.expires - 60_000) return this.access; // refreshed meanwhile
      const variables = { refreshToken: localStorage.getItem(KEPT), retryKey: localStorage.getItem(RETRY) };
      if (!variables.refreshToken) throw new ApiError("UNAUTHENTICATED", "signed out");
      const body = JSON.stringify({
        query: `mutation Refresh($refreshToken: String!, $retryKey: String) { refreshTokens(input: {refreshToken: $refreshToken, retryKey: $retryKey}) { tokens { ${TOKENS} } userErrors { code message field } } }`,
        variables,
      });
      const post = () => fetch("/graphql", { method: "POST", headers: { "Content-Type": "application/json" }, body, credentials: "omit" });
      const response = await post().catch(post).catch(() => {
        throw new ApiError("OFFLINE", "offline");
      });
      const answer = (await response.json()).data?.refreshTokens;
      if (!answer?.tokens) {
        this.forget();
        throw new ApiError(answer?.userErrors?.[0]?.code ?? "UNAUTHENTICATED", answer?.userErrors?.[0]?.message ?? "signed out");
      }
      this.keep(answer.tokens);
      return this.access;
    });
  }

  keep(tokens) {
    this.access = tokens.accessToken;
    this.expires = Date.now() + tokens.expiresIn * 1000;
    localStorage.setItem(KEPT, tokens.refreshToken);
    localStorage.setItem(RETRY, crypto.randomUUID()); // for this token's refresh, and its retries
  }

  forget() {
    this.access = null;
    this.expires = 0;
    localStorage.removeItem(KEPT);
    localStorage.removeItem(RETRY);
  }
}
