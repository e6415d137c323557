//! JWT authentication and the authorization directives, end to end: real tokens signed with
//! RS256, ES256 and HS256 (test keys in tests/fixtures/auth), a JWKS served over HTTP (and one
//! from a file), a real GraphQL subgraph (async-graphql) behind `weft serve`. The subgraph
//! records what it is sent, so the tests can tell a refused field was never asked for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use async_graphql::{EmptyMutation, EmptySubscription, Object, SimpleObject};
use axum::extract::State;
use axum::routing::{get, post};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use weft_federation::compose::SubgraphInput;

const SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.6",
  import: ["@key", "@authenticated", "@requiresScopes", "@policy"])

type Query {
  me: User
  stats: Stats
}

type User @key(fields: "id") {
  id: ID!
  name: String!
  email: String @authenticated
  salary: Int @requiresScopes(scopes: [["hr:read"], ["admin", "finance"]])
  notes: String @policy(policies: [["support"]])
}

type Stats @authenticated {
  users: Int!
}
"#;

#[derive(SimpleObject, Clone)]
struct User {
    id: async_graphql::ID,
    name: String,
    email: Option<String>,
    salary: Option<i32>,
    notes: Option<String>,
}

#[derive(SimpleObject)]
struct Stats {
    users: i32,
}

struct Query;

#[Object]
impl Query {
    async fn me(&self) -> User {
        User {
            id: "1".into(),
            name: "Ada".into(),
            email: Some("ada@example.com".into()),
            salary: Some(100),
            notes: Some("likes engines".into()),
        }
    }
    async fn stats(&self) -> Stats {
        Stats { users: 42 }
    }
}

/// What the subgraph was sent: the JSON body and the claims header.
#[derive(Clone, Debug)]
struct Seen {
    body: Value,
    claims_header: Option<String>,
}

type Log = Arc<Mutex<Vec<Seen>>>;

type UsersSchema = async_graphql::Schema<Query, EmptyMutation, EmptySubscription>;

async fn graphql(
    State((schema, log)): State<(UsersSchema, Log)>,
    headers: axum::http::HeaderMap,
    body: String,
) -> axum::Json<Value> {
    let json: Value = serde_json::from_str(&body).unwrap();
    log.lock().unwrap().push(Seen {
        body: json.clone(),
        claims_header: headers
            .get("x-weft-claims")
            .map(|v| v.to_str().unwrap().to_owned()),
    });
    let request: async_graphql::Request = serde_json::from_value(json).unwrap();
    let response = schema.execute(request).await;
    axum::Json(serde_json::to_value(response).unwrap())
}

/// The subgraph on an ephemeral port: its URL and request log.
async fn users_subgraph() -> (String, Log) {
    let schema = async_graphql::Schema::new(Query, EmptyMutation, EmptySubscription);
    let log: Log = Arc::default();
    let app = axum::Router::new()
        .route("/graphql", post(graphql))
        .with_state((schema, log.clone()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/graphql"), log)
}

/// A JWKS document served over HTTP, replaceable (key rotation), counting its fetches.
#[derive(Clone)]
struct JwksServer {
    document: Arc<Mutex<String>>,
    fetches: Arc<Mutex<u32>>,
    url: String,
}

/// The served document and the fetch count.
type JwksState = (Arc<Mutex<String>>, Arc<Mutex<u32>>);

async fn jwks_server(document: String) -> JwksServer {
    let doc = Arc::new(Mutex::new(document));
    let fetches = Arc::new(Mutex::new(0u32));
    let state = (doc.clone(), fetches.clone());
    let app = axum::Router::new()
        .route(
            "/jwks.json",
            get(|State((doc, n)): State<JwksState>| async move {
                *n.lock().unwrap() += 1;
                doc.lock().unwrap().clone()
            }),
        )
        .with_state(state);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    JwksServer {
        document: doc,
        fetches,
        url: format!("http://{addr}/jwks.json"),
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/auth/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

const HMAC_SECRET: &[u8] = b"a shared secret of at least thirty-two bytes!";

/// A signing key: its algorithm, key id and encoding key.
struct Signer {
    alg: Algorithm,
    kid: &'static str,
    key: EncodingKey,
}

fn rsa_a() -> Signer {
    Signer {
        alg: Algorithm::RS256,
        kid: "rsa-a",
        key: EncodingKey::from_rsa_pem(&fixture("rsa-a.pem")).unwrap(),
    }
}

fn rsa_b() -> Signer {
    Signer {
        alg: Algorithm::RS256,
        kid: "rsa-b",
        key: EncodingKey::from_rsa_pem(&fixture("rsa-b.pem")).unwrap(),
    }
}

fn ec() -> Signer {
    Signer {
        alg: Algorithm::ES256,
        kid: "ec",
        key: EncodingKey::from_ec_pem(&fixture("ec.pem")).unwrap(),
    }
}

fn hmac() -> Signer {
    Signer {
        alg: Algorithm::HS256,
        kid: "hs",
        key: EncodingKey::from_secret(HMAC_SECRET).unwrap(),
    }
}

/// The JWKS of `signers` (public parts; the HMAC secret as an `oct` key).
fn jwks_of(signers: &[Signer]) -> String {
    let keys = signers
        .iter()
        .map(|s| {
            let mut jwk = Jwk::from_encoding_key(&s.key, s.alg).unwrap();
            jwk.common.key_id = Some(s.kid.to_owned());
            jwk
        })
        .collect();
    serde_json::to_string(&JwkSet { keys }).unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

const ISSUER: &str = "https://issuer.test/";
const AUDIENCE: &str = "weft-tests";

/// Valid claims (issuer, audience, an hour to live) plus `extra`.
fn claims(extra: Value) -> Value {
    let mut c = json!({ "sub": "user-1", "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 3600 });
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

fn sign(signer: &Signer, claims: &Value) -> String {
    let mut header = Header::new(signer.alg);
    header.kid = Some(signer.kid.to_owned());
    encode(&header, claims, &signer.key).unwrap()
}

struct Gateway {
    url: String,
    log: Log,
    _process: support::Process,
}

impl Gateway {
    /// The users subgraph and `weft serve --config` with `auth` (YAML under `auth:`);
    /// `files` are written beside the config.
    async fn start(auth: &str, files: &[(&str, &str)]) -> Gateway {
        let (subgraph_url, log) = users_subgraph().await;
        let supergraph = support::supergraph(&[SubgraphInput {
            name: "users".into(),
            url: subgraph_url.clone(),
            sdl: SDL.into(),
            source: "users.graphql".into(),
        }]);
        let port = subgraph_url
            .trim_start_matches("http://127.0.0.1:")
            .trim_end_matches("/graphql")
            .parse()
            .unwrap();
        let dir = support::scratch("auth", port);
        std::fs::write(dir.join("supergraph.graphql"), supergraph).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let config = dir.join("weft.yaml");
        std::fs::write(
            &config,
            format!("supergraph:\n  path: supergraph.graphql\nauth:\n{auth}"),
        )
        .unwrap();
        let arg = config.display().to_string();
        let (process, url) = support::serve(["--config", arg.as_str()]);
        Gateway {
            url,
            log,
            _process: process,
        }
    }

    async fn query(&self, query: &str, headers: &[(&str, &str)]) -> (StatusCode, Value) {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        let res = support::send(
            &self.url,
            reqwest::Method::POST,
            "",
            &all,
            Some(json!({ "query": query }).to_string()),
        )
        .await;
        let status = res.status();
        (status, res.json().await.unwrap())
    }

    async fn with_token(&self, query: &str, token: &str) -> (StatusCode, Value) {
        let bearer = format!("Bearer {token}");
        self.query(query, &[("authorization", bearer.as_str())])
            .await
    }

    fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }
}

fn auth_yaml(jwks_url: &str) -> String {
    format!(
        "  jwks: [\"{jwks_url}\"]\n  issuers: [\"{ISSUER}\"]\n  audiences: [\"{AUDIENCE}\"]\n  \
         algorithms: [RS256, ES256, HS256]\n  forward_header: x-weft-claims\n  \
         forward_extensions: jwt\n  policies:\n    - name: support\n      claim: roles\n      \
         any_of: [support, admin]\n"
    )
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

const EVERYTHING: &str = "{ me { name email salary notes } }";

#[tokio::test]
async fn rs256_es256_and_hs256_tokens_are_verified_and_their_claims_forwarded() {
    let jwks = jwks_server(jwks_of(&[rsa_a(), ec(), hmac()])).await;
    let gw = Gateway::start(&auth_yaml(&jwks.url), &[]).await;
    let c = claims(json!({ "scope": "hr:read profile", "roles": ["support"] }));
    for signer in [rsa_a(), ec(), hmac()] {
        let (status, body) = gw.with_token(EVERYTHING, &sign(&signer, &c)).await;
        assert_eq!(status, 200, "{:?}: {body}", signer.alg);
        assert_eq!(
            body,
            json!({ "data": { "me": { "name": "Ada", "email": "ada@example.com", "salary": 100, "notes": "likes engines" } } }),
            "{:?}",
            signer.alg
        );
        let seen = gw.seen().pop().unwrap();
        let header: Value = serde_json::from_str(seen.claims_header.as_deref().unwrap()).unwrap();
        assert_eq!(header["sub"], "user-1");
        assert_eq!(seen.body["extensions"]["jwt"]["sub"], "user-1");
        assert_eq!(seen.body["extensions"]["jwt"]["scope"], "hr:read profile");
    }
    // Anonymous requests forward nothing.
    let (status, _) = gw.query("{ me { name } }", &[]).await;
    assert_eq!(status, 200);
    let seen = gw.seen().pop().unwrap();
    assert!(seen.claims_header.is_none());
    assert!(seen.body.get("extensions").is_none(), "{}", seen.body);
}

#[tokio::test]
async fn invalid_tokens_are_refused_with_401_before_any_subgraph_request() {
    let jwks = jwks_server(jwks_of(&[rsa_a(), ec()])).await;
    let gw = Gateway::start(&auth_yaml(&jwks.url), &[]).await;
    let valid = sign(&rsa_a(), &claims(json!({})));
    let expired = sign(&rsa_a(), &claims(json!({ "exp": now() - 3600 })));
    let wrong_issuer = sign(&rsa_a(), &claims(json!({ "iss": "https://evil.test/" })));
    let wrong_audience = sign(&rsa_a(), &claims(json!({ "aud": "someone-else" })));
    // Signed with key B but claiming key A's id.
    let mut forged_signer = rsa_b();
    forged_signer.kid = "rsa-a";
    let forged = sign(&forged_signer, &claims(json!({})));
    // The same claims with `alg: none` and no signature.
    let payload = valid.split('.').nth(1).unwrap();
    let alg_none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    // HMAC signed with the RSA key's public modulus as secret would be the classic confusion
    // attack; an HS256 token is simply not accepted when the JWKS has no `oct` key.
    let hs = sign(&hmac(), &claims(json!({})));
    let unknown_kid = sign(&rsa_b(), &claims(json!({})));
    // An `exp` there but not a time (a float past any u64) is not "no `exp` claim".
    let exp_not_a_time = sign(&rsa_a(), &claims(json!({ "exp": 1e30 })));
    let mut no_exp_claims = claims(json!({}));
    no_exp_claims.as_object_mut().unwrap().remove("exp");
    let no_exp = sign(&rsa_a(), &no_exp_claims);
    let cases = [
        (
            "exp not a time",
            exp_not_a_time.as_str(),
            "`exp` claim is not a valid time",
        ),
        ("no exp", no_exp.as_str(), "no `exp` claim"),
        ("expired", expired.as_str(), "expired"),
        ("wrong issuer", wrong_issuer.as_str(), "issuer"),
        ("wrong audience", wrong_audience.as_str(), "audience"),
        ("forged signature", forged.as_str(), "signature"),
        ("alg none", alg_none.as_str(), "not accepted"),
        ("hs256 without a secret", hs.as_str(), "key"),
        ("unknown key id", unknown_kid.as_str(), "key"),
        ("garbage", "not.a.jwt", "JWT"),
    ];
    for (what, token, says) in cases {
        let (status, body) = gw.with_token(EVERYTHING, token).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(code(&body), "AUTH_ERROR", "{what}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{what}: {message}");
        assert!(body.get("data").is_none(), "{what}: {body}");
    }
    let (status, body) = gw
        .query(EVERYTHING, &[("authorization", "Basic dXNlcjpwYXNz")])
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "AUTH_ERROR"),
        "{body}"
    );
    assert!(
        gw.seen().is_empty(),
        "a refused request reached the subgraph"
    );
    // The valid token still works.
    let (status, body) = gw.with_token("{ me { email } }", &valid).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["email"], "ada@example.com");
}

#[tokio::test]
async fn a_rotated_key_is_fetched_when_a_token_names_it() {
    let jwks = jwks_server(jwks_of(&[rsa_a()])).await;
    let gw = Gateway::start(&auth_yaml(&jwks.url), &[]).await;
    let old = sign(&rsa_a(), &claims(json!({})));
    let new = sign(&rsa_b(), &claims(json!({})));
    let (status, _) = gw.with_token("{ me { email } }", &old).await;
    assert_eq!(status, 200);
    let (status, body) = gw.with_token("{ me { email } }", &new).await;
    assert_eq!(status, 401, "key B is not published yet: {body}");
    // The issuer rotates: B is published (A retired).
    *jwks.document.lock().unwrap() = jwks_of(&[rsa_b()]);
    let before = *jwks.fetches.lock().unwrap();
    // On-demand refreshes are at most one a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, body) = gw.with_token("{ me { email } }", &new).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["email"], "ada@example.com");
    assert!(
        *jwks.fetches.lock().unwrap() > before,
        "the JWKS was fetched again"
    );
    let (status, _) = gw.with_token("{ me { email } }", &old).await;
    assert_eq!(status, 401, "the retired key no longer verifies");
}

#[tokio::test]
async fn directives_null_the_fields_a_request_may_not_see() {
    let jwks = jwks_server(jwks_of(&[rsa_a()])).await;
    let gw = Gateway::start(&auth_yaml(&jwks.url), &[]).await;

    // Anonymous: @authenticated, @requiresScopes and @policy fields are all refused, and
    // never requested from the subgraph.
    let (status, body) = gw.query(EVERYTHING, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"],
        json!({ "me": { "name": "Ada", "email": null, "salary": null, "notes": null } })
    );
    let mut paths: Vec<Value> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|e| assert_eq!(e["extensions"]["code"], "UNAUTHORIZED_FIELD_OR_TYPE"))
        .map(|e| e["path"].clone())
        .collect();
    paths.sort_by_key(Value::to_string);
    assert_eq!(
        paths,
        vec![
            json!(["me", "email"]),
            json!(["me", "notes"]),
            json!(["me", "salary"])
        ]
    );
    let sent = gw.seen().pop().unwrap().body["query"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(sent.contains("name"), "{sent}");
    for field in ["email", "salary", "notes"] {
        assert!(!sent.contains(field), "{field} was sent: {sent}");
    }

    // Scopes: one alternative (hr:read), or all of the other (admin AND finance).
    let cases = [
        (json!({}), false),
        (json!({ "scope": "profile" }), false),
        (json!({ "scope": "hr:read" }), true),
        (json!({ "scope": "admin" }), false),
        (json!({ "scope": "finance admin" }), true),
        (json!({ "scp": ["admin", "finance"] }), true),
    ];
    for (extra, visible) in cases {
        let token = sign(&rsa_a(), &claims(extra.clone()));
        let (_, body) = gw.with_token("{ me { email salary } }", &token).await;
        assert_eq!(body["data"]["me"]["email"], "ada@example.com", "{extra}");
        let salary = &body["data"]["me"]["salary"];
        assert_eq!(salary == &json!(100), visible, "{extra}: {body}");
        assert_eq!(body.get("errors").is_some(), !visible, "{extra}: {body}");
    }

    // Policies: the rule grants `support` to tokens whose `roles` hold support or admin.
    for (roles, visible) in [
        (json!(["support"]), true),
        (json!("admin ops"), true),
        (json!(["sales"]), false),
    ] {
        let token = sign(&rsa_a(), &claims(json!({ "roles": roles })));
        let (_, body) = gw.with_token("{ me { notes } }", &token).await;
        let notes = &body["data"]["me"]["notes"];
        assert_eq!(notes == &json!("likes engines"), visible, "{roles}: {body}");
    }

    // A type with @authenticated: every field returning it.
    let (_, body) = gw.query("{ stats { users } me { name } }", &[]).await;
    assert_eq!(
        body["data"],
        json!({ "stats": null, "me": { "name": "Ada" } })
    );
    assert_eq!(body["errors"][0]["path"], json!(["stats"]));
    let token = sign(&rsa_a(), &claims(json!({})));
    let (_, body) = gw.with_token("{ stats { users } }", &token).await;
    assert_eq!(body, json!({ "data": { "stats": { "users": 42 } } }));
}

#[tokio::test]
async fn reject_mode_cookies_files_and_required_authentication() {
    let key_file = jwks_of(&[ec()]);
    let auth = "  jwks: [keys.json]\n  cookie: session\n  reject_unauthorized: true\n";
    let gw = Gateway::start(auth, &[("keys.json", key_file.as_str())]).await;
    // Reject mode: the whole request is refused, nothing is fetched.
    let (status, body) = gw.query("{ me { name email } }", &[]).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(code(&body), "UNAUTHORIZED_FIELD_OR_TYPE");
    assert_eq!(body["errors"][0]["path"], json!(["me", "email"]));
    assert!(body.get("data").is_none());
    assert!(gw.seen().is_empty());
    // A token from a cookie, verified with the JWKS file (no issuer/audience configured).
    let token = sign(&ec(), &json!({ "sub": "u", "exp": now() + 60 }));
    let cookie = format!("theme=dark; session={token}");
    let (status, body) = gw
        .query("{ me { name email } }", &[("cookie", cookie.as_str())])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["email"], "ada@example.com");

    // require_authentication: no token, no answer.
    let jwks = jwks_server(jwks_of(&[rsa_a()])).await;
    let strict = format!("{}  require_authentication: true\n", auth_yaml(&jwks.url));
    let gw = Gateway::start(&strict, &[]).await;
    let (status, body) = gw.query("{ me { name } }", &[]).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "AUTH_ERROR"),
        "{body}"
    );
    assert!(gw.seen().is_empty());
    let token = sign(&rsa_a(), &claims(json!({})));
    let (status, _) = gw.with_token("{ me { name } }", &token).await;
    assert_eq!(status, 200);
}
