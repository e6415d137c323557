//! `log.level`: a level or a `RUST_LOG`-style filter, checked by the filter parser the server
//! logs with.

use std::str::FromStr;

use super::ValueError;
use super::text::text_value;

/// The levels a single word must be: any other lone word parses as a filter too (a target
/// name at every level), so a misspelt level would pass silently.
const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// A log level (`info`) or filter (`weft=debug,warn`), as `tracing_subscriber::EnvFilter`
/// reads it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogFilter(String);

impl LogFilter {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for LogFilter {
    type Err = ValueError;
    fn from_str(v: &str) -> Result<LogFilter, ValueError> {
        let v = v.trim();
        let is_level = LEVELS.contains(&v.to_ascii_lowercase().as_str());
        if !v.contains(['=', ',']) && !is_level {
            return Err(ValueError::LogLevel(v.to_owned()));
        }
        match tracing_subscriber::EnvFilter::builder().parse(v) {
            Ok(_) => Ok(LogFilter(v.to_owned())),
            Err(e) => Err(ValueError::LogFilter {
                value: v.to_owned(),
                reason: e.to_string(),
            }),
        }
    }
}

text_value!(LogFilter);
