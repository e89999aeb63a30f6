/** What a load request carries for a server started with `--auth-token`: none without a token. */
export function authorizationHeaders(token: string | undefined): Readonly<Record<string, string>> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}
