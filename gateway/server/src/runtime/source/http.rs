//! A supergraph at an HTTP(S) URL: any server, object store or CDN that serves the file
//! (and the Hive CDN, with its key header). Each poll sends the `ETag` of the last answer as
//! `If-None-Match`, so an unchanged supergraph costs a `304` and no body; a server without
//! ETags is asked for the whole file, and an identical one is not a change.

use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::StatusCode;
use reqwest::header::{ETAG, HeaderValue, IF_NONE_MATCH};

use super::{MAX_BYTES, SourceError, SupergraphSource, sha256_hex};

/// The longest one request may take: shorter than the interval (a slow source must not pile
/// up requests), and 30 s at most.
fn request_timeout(interval: Duration) -> Duration {
    interval.clamp(Duration::from_secs(1), Duration::from_secs(30))
}

pub struct UrlSource {
    url: String,
    client: reqwest::Client,
    /// A header every request carries (the Hive CDN's key).
    header: Option<(&'static str, HeaderValue)>,
    interval: Duration,
    /// The last answer's `ETag`.
    etag: Option<HeaderValue>,
    /// The last answer's sha256, when the server sends no `ETag`.
    last: Option<String>,
}

impl UrlSource {
    pub fn new(
        url: &str,
        header: Option<(&'static str, &str)>,
        interval: Duration,
    ) -> Result<UrlSource, SourceError> {
        let client = reqwest::Client::builder()
            .timeout(request_timeout(interval))
            .user_agent(concat!("weft/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(SourceError::Client)?;
        // A key that is no header value is sent as nothing: the CDN answers 401/403.
        let header = header.map(|(name, value)| {
            (
                name,
                HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("")),
            )
        });
        Ok(UrlSource {
            url: url.to_owned(),
            client,
            header,
            interval,
            etag: None,
            last: None,
        })
    }

    async fn fetch(&mut self) -> Result<Option<String>, SourceError> {
        let mut request = self.client.get(&self.url);
        if let Some((name, value)) = &self.header {
            request = request.header(*name, value.clone());
        }
        if let Some(etag) = &self.etag {
            request = request.header(IF_NONE_MATCH, etag.clone());
        }
        let request_error = |source| SourceError::Request {
            url: self.url.clone(),
            source,
        };
        let mut response = request.send().await.map_err(request_error)?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(SourceError::Status {
                url: self.url.clone(),
                status: status.as_u16(),
            });
        }
        let too_large = || SourceError::TooLarge {
            url: self.url.clone(),
            limit: MAX_BYTES,
        };
        if response.content_length().is_some_and(|n| n > MAX_BYTES) {
            return Err(too_large());
        }
        let etag = response.headers().get(ETAG).cloned();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|source| SourceError::Request {
                url: self.url.clone(),
                source,
            })?
        {
            if (body.len() + chunk.len()) as u64 > MAX_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(body).map_err(|_| SourceError::NotUtf8 {
            url: self.url.clone(),
        })?;
        // Remembered only once the whole answer arrived: a cut one is asked for again.
        self.etag = etag;
        let hash = sha256_hex(&text);
        if self.last.as_deref() == Some(hash.as_str()) {
            return Ok(None);
        }
        self.last = Some(hash);
        Ok(Some(text))
    }
}

impl SupergraphSource for UrlSource {
    fn describe(&self) -> &str {
        &self.url
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Option<String>, SourceError>> {
        Box::pin(self.fetch())
    }
}
