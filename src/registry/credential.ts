/** What a registry credential is, and where one is looked up (credentials.ts has the sources). */

export interface Credential {
  /** Basic credentials (sent as Basic, or to a token service). */
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (`identitytoken`, or a helper's `<token>` user). */
  identityToken?: string;
  /** A bearer token to present as it is (`registrytoken`). */
  registryToken?: string;
}

export interface CredentialStore {
  /** Credentials for a canonical registry name (`docker.io`, `host:port`), or undefined. */
  lookup(registry: string): Promise<Credential | undefined>;
}
