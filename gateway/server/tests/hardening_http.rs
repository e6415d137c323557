#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! Hardening of the HTTP edge (issue 19): what a hostile client cannot do to `weft serve` with
//! its default configuration, or with the limit under test made small. Real gateway process,
//! real subgraphs; raw TCP where the attack is below HTTP.

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use weft_accounts::Accounts;

const SECRET: &[u8] = b"a shared secret of at least thirty-two bytes!";

fn jwks() -> String {
    let key = EncodingKey::from_secret(SECRET).unwrap();
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::HS256).unwrap();
    jwk.common.key_id = Some("hs".to_owned());
    serde_json::to_string(&JwkSet { keys: vec![jwk] }).unwrap()
}

fn token(sub: &str) -> String {
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("hs".to_owned());
    let claims = json!({ "sub": sub, "scope": "profile", "exp": exp });
    encode(&header, &claims, &EncodingKey::from_secret(SECRET).unwrap()).unwrap()
}

/// Issue 19, item 7: with `auth.forward_header: x-weft-claims` and a rule propagating every
/// `x-` header, a client's own `x-weft-claims` never reaches a subgraph (nor under another
/// name through `rename`); a verified token's claims do, alone.
#[tokio::test]
async fn a_client_cannot_forge_the_claims_header() {
    let accounts = support::subgraph::<Accounts>().await;
    let subgraphs = [accounts];
    let config = support::config_file(
        "forged-claims",
        &subgraphs,
        "auth:\n  jwks: [keys.json]\n  algorithms: [HS256]\n  forward_header: x-weft-claims\nheaders:\n  all:\n    \
         - propagate: { prefix: x- }\n    - rename: { from: x-weft-claims, to: x-claims-copy }\n",
    );
    std::fs::write(config.parent().unwrap().join("keys.json"), jwks()).unwrap();
    let arg = config.display().to_string();
    let (_gateway, url) = support::serve(["--config", arg.as_str()]);
    let forged = r#"{"sub":"999","scope":"admin"}"#;

    // No token: anonymous, and the forged header goes nowhere.
    let (status, body) = support::query(
        &url,
        &[("x-weft-claims", forged), ("x-tenant", "acme")],
        "{ me { name } }",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["me"]["name"].is_string(), "{body}");
    let seen = subgraphs[0].requests.headers();
    let last = seen.last().expect("the subgraph was asked");
    assert_eq!(last.get("x-tenant").unwrap(), "acme", "rules still apply");
    assert!(last.get("x-weft-claims").is_none(), "{last:?}");
    assert!(last.get("x-claims-copy").is_none(), "{last:?}");

    // A valid token and a forged header: the verified claims only.
    let bearer = format!("Bearer {}", token("user-1"));
    let (status, body) = support::query(
        &url,
        &[
            ("authorization", bearer.as_str()),
            ("x-weft-claims", forged),
        ],
        "{ me { name } }",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let seen = subgraphs[0].requests.headers();
    let last = seen.last().unwrap();
    let values: Vec<_> = last.get_all("x-weft-claims").iter().collect();
    assert_eq!(values.len(), 1, "{last:?}");
    let claims: Value = serde_json::from_slice(values[0].as_bytes()).unwrap();
    assert_eq!(claims["sub"], "user-1");
    assert_eq!(claims["scope"], "profile");
    assert!(last.get("x-claims-copy").is_none(), "{last:?}");
}

fn fixture(path: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../federation/tests/fixtures")
        .join(path)
}

/// Issue 19, item 12: a supergraph whose `@fromContext` arguments Weft would silently not pass
/// (or that links a spec `for: EXECUTION`/`SECURITY` Weft ignores) is refused at start with
/// the field named at its line, and on reload the last good supergraph keeps serving.
#[tokio::test]
async fn a_supergraph_with_unexecuted_features_is_not_served() {
    let context = fixture("fed2-features/supergraph.graphql");
    let err_file = std::env::temp_dir().join(format!("weft-unexecuted-{}.log", std::process::id()));
    let mut child = support::weft_command()
        .args(["serve", "--listen", "127.0.0.1:0", "--supergraph"])
        .arg(&context)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err_file).unwrap())
        .spawn()
        .unwrap();
    // Refused at once; one that serves instead is stopped after a while, and fails below.
    let mut status = None;
    for _ in 0..100 {
        status = child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    drop(support::Process(child));
    let stderr = std::fs::read_to_string(&err_file).unwrap();
    assert_eq!(status.and_then(|s| s.code()), Some(2), "{stderr}");
    let line = std::fs::read_to_string(&context)
        .unwrap()
        .lines()
        .position(|l| l.contains("formattedBudget: String @join__field"))
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!("supergraph.graphql:{line}:"))
            && stderr.contains("`Team.formattedBudget`")
            && stderr.contains("hint:"),
        "{stderr}"
    );

    // Reload: the good supergraph serves, the bad one is logged and not applied.
    let accounts = support::subgraph::<Accounts>().await;
    let subgraphs = [accounts];
    let config = support::config_file("unexecuted", &subgraphs, "");
    let dir = config.parent().unwrap().to_owned();
    let log = dir.join("stderr.log");
    let mut child = support::weft_command()
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    let _gateway = support::Process(child);
    let url = first.split_whitespace().last().unwrap().to_owned();
    let ask = || support::query(&url, &[], "{ me { name } }");
    let (status, before) = ask().await;
    assert_eq!(status, 200, "{before}");
    assert!(before["data"]["me"]["name"].is_string(), "{before}");
    std::fs::copy(&context, dir.join("supergraph.graphql")).unwrap();
    let mut logged = String::new();
    for _ in 0..100 {
        logged = std::fs::read_to_string(&log).unwrap_or_default();
        if logged.contains("formattedBudget") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(logged.contains("`Team.formattedBudget`"), "{logged}");
    let (status, after) = ask().await;
    assert_eq!((status, &after), (200, &before));
}
