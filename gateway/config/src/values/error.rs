//! Why a single value of `weft.yaml` is refused. Each variant carries the text as written
//! (trimmed, as it was checked), and its message says what the value should look like.

/// What the log-level messages suggest instead.
const LOG_HINT: &str = "e.g. `info`, or a filter such as `weft=debug,warn`";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    #[error("`{0}` is not an IP address and port (e.g. `0.0.0.0:4000`, `[::1]:4000`)")]
    ListenAddr(String),
    #[error("`{0}` is not an http:// or https:// URL")]
    HttpUrl(String),
    #[error("`{0}` is not an HTTP header name")]
    HeaderName(String),
    /// A single word that is not a level: as a filter it would name a target, silently.
    #[error("`{0}` is not a log level; {LOG_HINT}")]
    LogLevel(String),
    #[error("`{value}` is not a log filter ({reason}); {LOG_HINT}")]
    LogFilter { value: String, reason: String },
    #[error("`{0}` is not a boolean (true or false)")]
    Boolean(String),
    #[error("`{0}` is not a number from 0 to 1")]
    Ratio(f64),
    #[error("`{0}` is not a redis:// URL (e.g. `redis://127.0.0.1:6379`)")]
    RedisUrl(String),
    #[error("`{0}` is not an amqp:// URL (e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`)")]
    AmqpUrl(String),
    #[error("`{0}` is not an origin (`https://app.example.com`, `http://localhost:3000`, or `*`)")]
    Origin(String),
    #[error("`{0}` is not a client key (`address`, `header:<name>` or `claim:<name>`)")]
    ClientKey(String),
    #[error("`{0}` is not a JWT algorithm ({list})", list = crate::auth::ALGORITHMS.join(", "))]
    JwtAlgorithm(String),
}
