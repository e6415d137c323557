//! The HTTP version and TLS of subgraph requests (docs/traffic.md#http-versions-and-tls):
//! `subgraphs.*.http2` (`off`, `negotiate`, `only`) and `subgraphs.*.tls.ca_file`, against
//! real servers on ephemeral ports that report the version each request came with: one that
//! speaks only HTTP/2 in cleartext (hyper's HTTP/2 server: an HTTP/1.1 request is refused, so
//! a gateway falling back to HTTP/1.1 fails the test), and TLS servers with a CA and a
//! certificate made by the test, offering `h2` or not by ALPN. `weft serve` runs as a real
//! process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use weft_federation::compose::SubgraphInput;

/// A subgraph whose one field answers the HTTP version its request came with.
const PROBE_SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { version: String }
"#;

/// A probe subgraph server: its URL and the versions of the requests it answered.
struct Probe {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Probe {
    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// The probe's answer to any request: `{ version }` as the request's version.
async fn answer(
    request: Request<Incoming>,
    seen: Arc<Mutex<Vec<String>>>,
) -> Result<Response<Body>, Infallible> {
    let version = format!("{:?}", request.version());
    seen.lock().unwrap().push(version.clone());
    let _ = axum::body::to_bytes(Body::new(request.into_body()), 1 << 20).await;
    let body = json!({ "data": { "version": version } }).to_string();
    Ok(Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap())
}

/// A probe that speaks HTTP/2 with prior knowledge (h2c) and nothing else.
async fn h2c_only() -> Probe {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = log.clone();
            let service = hyper::service::service_fn(move |r| answer(r, log.clone()));
            tokio::spawn(
                hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    Probe {
        url: format!("http://{addr}/graphql"),
        seen,
    }
}

/// A CA made for the test and a certificate it signed for `127.0.0.1`: the CA's PEM, and the
/// server's certificate chain and key.
struct Pki {
    ca_pem: String,
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: Vec<u8>,
}

fn pki() -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "weft test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        chain: vec![leaf.der().clone()],
        key: key.serialize_der(),
    }
}

/// A probe over TLS with `pki`'s certificate, offering `alpn` (`h2`, `http/1.1`) and serving
/// the protocol the handshake agreed on (HTTP/1.1 when none was).
async fn tls(pki: &Pki, alpn: &[&[u8]]) -> Probe {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.key.clone()));
    // The process's provider: ring, the one crypto backend built (as the gateway's).
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(pki.chain.clone(), key)
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, log) = (acceptor.clone(), log.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate ends here.
                let Ok(stream) = acceptor.accept(stream).await else {
                    return;
                };
                let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                let io = TokioIo::new(stream);
                let service = hyper::service::service_fn(move |r| answer(r, log.clone()));
                let _ = if h2 {
                    hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(io, service)
                        .await
                } else {
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await
                };
            });
        }
    });
    Probe {
        url: format!("https://127.0.0.1:{}/graphql", addr.port()),
        seen,
    }
}

/// `weft serve` over the probe (subgraph `probe`), with `yaml` in its config and `ca_pem`
/// written beside it as `ca.pem`.
fn gateway(probe: &Probe, ca_pem: Option<&str>, yaml: &str) -> (support::Process, String) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = support::scratch("subgraph-http2", N.fetch_add(1, Ordering::SeqCst) as u16);
    let inputs = [SubgraphInput {
        name: "probe".to_owned(),
        url: probe.url.clone(),
        sdl: PROBE_SDL.to_owned(),
        source: "probe".to_owned(),
    }];
    std::fs::write(dir.join("supergraph.graphql"), support::supergraph(&inputs)).unwrap();
    if let Some(pem) = ca_pem {
        std::fs::write(dir.join("ca.pem"), pem).unwrap();
    }
    let config = dir.join("weft.yaml");
    std::fs::write(
        &config,
        format!("supergraph:\n  path: supergraph.graphql\n{yaml}"),
    )
    .unwrap();
    support::serve(["--config", &config.display().to_string()])
}

/// `{ version }` through the gateway: the version the probe saw, or `None` with the error
/// codes when the fetch failed.
async fn version(url: &str) -> Result<String, Vec<String>> {
    let (status, body) = support::query(url, &[], "{ version }").await;
    assert_eq!(status, 200, "{body}");
    match body["data"]["version"].as_str() {
        Some(v) => Ok(v.to_owned()),
        None => Err(codes(&body)),
    }
}

fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
        .collect()
}

const HTTP_ERROR: &str = "SUBREQUEST_HTTP_ERROR";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_h2c_subgraph_is_reached_with_http2_only_and_with_nothing_else() {
    let probe = h2c_only().await;
    // The server cannot answer HTTP/1.1: a gateway that sent it would fail, not pass.
    let http1 = reqwest::Client::builder().http1_only().build().unwrap();
    assert!(http1.post(&probe.url).body("{}").send().await.is_err());
    assert!(probe.seen().is_empty());

    // The default (`off`) and `negotiate` speak HTTP/1.1 in cleartext: refused.
    for yaml in ["", "subgraphs:\n  all:\n    http2: negotiate\n"] {
        let (_gateway, url) = gateway(&probe, None, yaml);
        assert_eq!(
            version(&url).await,
            Err(vec![HTTP_ERROR.to_owned()]),
            "{yaml}"
        );
    }
    assert!(probe.seen().is_empty());

    // `only` for this subgraph (over `all`'s `off`): h2c with prior knowledge.
    let yaml = "subgraphs:\n  all:\n    http2: off\n  probe:\n    http2: only\n";
    let (_gateway, url) = gateway(&probe, None, yaml);
    assert_eq!(version(&url).await.as_deref(), Ok("HTTP/2.0"));
    assert_eq!(version(&url).await.as_deref(), Ok("HTTP/2.0"));
    assert_eq!(probe.seen(), ["HTTP/2.0", "HTTP/2.0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_subgraph_gets_http2_when_alpn_picks_it_and_its_ca_is_trusted() {
    let pki = pki();
    let probe = tls(&pki, &[b"h2", b"http/1.1"]).await;
    let ca = Some(pki.ca_pem.as_str());

    // Not trusted without the CA: nothing reaches the subgraph.
    let (_gateway, url) = gateway(&probe, None, "");
    assert_eq!(version(&url).await, Err(vec![HTTP_ERROR.to_owned()]));
    assert!(probe.seen().is_empty());

    // The CA file (relative to weft.yaml), HTTP/1.1 by default though the server offers h2.
    let trusted = "subgraphs:\n  all:\n    tls:\n      ca_file: ca.pem\n";
    let (_gateway, url) = gateway(&probe, ca, trusted);
    assert_eq!(version(&url).await.as_deref(), Ok("HTTP/1.1"));

    for http2 in ["negotiate", "only"] {
        let yaml = format!("{trusted}    http2: {http2}\n");
        let (_gateway, url) = gateway(&probe, ca, &yaml);
        assert_eq!(version(&url).await.as_deref(), Ok("HTTP/2.0"), "{http2}");
    }

    // The CA given for this subgraph alone.
    let own = "subgraphs:\n  probe:\n    http2: negotiate\n    tls:\n      ca_file: ca.pem\n";
    let (_gateway, url) = gateway(&probe, ca, own);
    assert_eq!(version(&url).await.as_deref(), Ok("HTTP/2.0"));
    assert_eq!(
        probe.seen(),
        ["HTTP/1.1", "HTTP/2.0", "HTTP/2.0", "HTTP/2.0"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_only_refuses_a_tls_subgraph_without_h2_where_negotiate_falls_back() {
    let pki = pki();
    let probe = tls(&pki, &[b"http/1.1"]).await;
    let ca = Some(pki.ca_pem.as_str());
    let trusted = "subgraphs:\n  all:\n    tls:\n      ca_file: ca.pem\n";

    let (_gateway, url) = gateway(&probe, ca, &format!("{trusted}    http2: negotiate\n"));
    assert_eq!(version(&url).await.as_deref(), Ok("HTTP/1.1"));

    let (_gateway, url) = gateway(&probe, ca, &format!("{trusted}    http2: only\n"));
    assert_eq!(version(&url).await, Err(vec![HTTP_ERROR.to_owned()]));
    assert_eq!(probe.seen(), ["HTTP/1.1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_unusable_ca_file_stops_the_gateway_naming_the_key() {
    let dir = support::scratch("subgraph-http2-ca", 0);
    let probe = h2c_only().await;
    std::fs::write(
        dir.join("supergraph.graphql"),
        support::supergraph(&[SubgraphInput {
            name: "probe".to_owned(),
            url: probe.url.clone(),
            sdl: PROBE_SDL.to_owned(),
            source: "probe".to_owned(),
        }]),
    )
    .unwrap();
    // PEM framing around something that is not a certificate.
    std::fs::write(
        dir.join("bad.pem"),
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    for (file, says) in [
        (
            "absent.pem",
            "`subgraphs.probe.tls.ca_file` names this file",
        ),
        ("bad.pem", "subgraph `probe`"),
    ] {
        let config = dir.join("weft.yaml");
        std::fs::write(
            &config,
            format!(
                "supergraph:\n  path: supergraph.graphql\nsubgraphs:\n  probe:\n    tls:\n      ca_file: {file}\n"
            ),
        )
        .unwrap();
        let out = support::weft_command()
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{file}: {stderr}");
        assert!(stderr.contains(says), "{file}: {stderr}");
    }
}

/// The reference subgraphs answer h2c too (axum's server detects the HTTP/2 preface): the
/// whole demo graph over HTTP/2 gives the same answer as over HTTP/1.1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_subgraphs_answer_the_same_over_h2c() {
    let subgraphs = support::reference_subgraphs().await;
    let query = "{ topProducts(first: 3) { name inStock reviews { body author { name } } } users { name reviews { product { name } } } }";
    let mut answers = Vec::new();
    for http2 in ["off", "only"] {
        let yaml = format!("subgraphs:\n  all:\n    http2: {http2}\n");
        let config = support::config_file(&format!("h2c-reference-{http2}"), &subgraphs, &yaml);
        let (_gateway, url) = support::serve(["--config", &config.display().to_string()]);
        let (status, body) = support::query(&url, &[], query).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{http2}: {body}");
        answers.push(body);
    }
    assert!(
        answers[0]["data"]["topProducts"]
            .as_array()
            .is_some_and(|p| p.len() == 3),
        "{}",
        answers[0]
    );
    assert_eq!(answers[0], answers[1]);
}
