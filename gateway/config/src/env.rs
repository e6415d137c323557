//! Environment overrides: `WEFT_` + a key's path upper-cased, `.` → `_` (`listen` is
//! `WEFT_LISTEN`, `query_plan.expose` is `WEFT_QUERY_PLAN_EXPOSE`). A subgraph's URL is
//! `WEFT_SUBGRAPHS_<NAME>_URL`, its name upper-cased with other characters as `_`. They win
//! over the file; flags win over them. An empty value counts as unset, as container tools
//! often pass empty variables through.

use super::error::ConfigError;
use super::model::{Config, KEYS, env_name, parse_url};

pub fn apply(config: &mut Config, vars: &[(String, String)]) -> Result<(), Vec<ConfigError>> {
    let get = |name: &str| {
        vars.iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
    };
    let mut errors = Vec::new();
    for key in KEYS {
        let Some(set) = key.env else { continue };
        let name = env_name(key.path);
        if let Some(value) = get(&name)
            && let Err(message) = set(config, value)
        {
            errors.push(ConfigError {
                hint: Some(format!("{name} sets `{}`", key.path)),
                ..ConfigError::new(&name, message)
            });
        }
    }
    for (name, value) in vars {
        let Some(segment) = name
            .strip_prefix("WEFT_SUBGRAPHS_")
            .and_then(|rest| rest.strip_suffix("_URL"))
            .filter(|s| !s.is_empty() && *s != "ALL")
        else {
            continue;
        };
        if value.trim().is_empty() {
            continue;
        }
        match parse_url(value) {
            Ok(url) => {
                config.subgraphs.env_urls.insert(segment.to_owned(), url);
            }
            Err(message) => errors.push(ConfigError::new(name, message)),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The process's environment, minus variables that are not UTF-8 (none of ours can be).
pub fn vars() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn variables_override_keys() {
        let mut c = Config::default();
        apply(
            &mut c,
            &vars(&[
                ("WEFT_LISTEN", "0.0.0.0:5000"),
                ("WEFT_INTROSPECTION", "false"),
                ("WEFT_QUERY_PLAN_EXPOSE", "1"),
                ("WEFT_CSRF_REQUIRED_HEADERS", "X-A, x-b"),
                ("WEFT_LIMITS_MAX_DEPTH", "7"),
                ("WEFT_SUBGRAPHS_ALL_TIMEOUT_MS", "250"),
                ("WEFT_SUBGRAPHS_MY_PRODUCTS_URL", "http://p:1/graphql"),
                ("WEFT_LOG_LEVEL", ""),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:5000");
        assert!(!c.introspection && c.query_plan.expose);
        assert_eq!(c.csrf.required_headers, ["x-a", "x-b"]);
        assert_eq!(c.limits.max_depth.map(|n| n.get()), Some(7));
        assert_eq!(c.subgraphs.all.timeout_ms.get(), 250);
        assert_eq!(
            c.subgraphs.url_for("my-products"),
            Some("http://p:1/graphql")
        );
        assert_eq!(c.log.level, None);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let errs = apply(
            &mut Config::default(),
            &vars(&[("WEFT_INTROSPECTION", "nah"), ("WEFT_SUBGRAPHS_A_URL", "a")]),
        )
        .unwrap_err();
        assert!(errs[0].to_string().starts_with("WEFT_INTROSPECTION: `nah`"));
        assert!(errs[1].to_string().starts_with("WEFT_SUBGRAPHS_A_URL: "));
    }
}
