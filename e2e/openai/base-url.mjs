// The command line the openai/ scripts share: BASE_URL MODEL [more...]. BASE_URL may be the
// server's address (http://host:port, as `basalt bench serve --base-url` takes it) or the SDK's API
// root (http://host:port/v1); the SDK is given the API root either way.

/** The API root (…/v1) for a server address or an API root; throws on what is not an http(s) URL. */
export function apiBase(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    u = null;
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
    throw new Error(`BASE_URL must be an http(s) URL such as http://127.0.0.1:8000 or http://127.0.0.1:8000/v1, got '${url}'`);
  }
  const path = u.pathname.replace(/\/+$/, '');
  u.pathname = path.endsWith('/v1') ? path : `${path}/v1`;
  return u.toString();
}

/**
 * { baseURL, model, rest } from the arguments; a usage line and exit 2 when BASE_URL or MODEL is
 * missing, one line naming the problem and exit 2 when BASE_URL is not a URL.
 */
export function scriptArgs(script, usage, argv = process.argv.slice(2)) {
  const [base, model, ...rest] = argv;
  if (!base || !model) {
    console.error(`usage: node openai/${script} ${usage}`);
    process.exit(2);
  }
  try {
    return { baseURL: apiBase(base), model, rest };
  } catch (e) {
    console.error(`${script}: ${e.message}`);
    process.exit(2);
  }
}
