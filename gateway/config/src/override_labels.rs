//! `override_labels:`: which progressive-override labels (`@override(label:)`) a request
//! switches on, by rules matching a request header or a verified token's claim, as Hive
//! Router's `override_labels` does for its common cases (no expression language). The server
//! applies them (`runtime/labels.rs`); `percent(N)` labels without a rule keep their dice.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::values::HeaderName;

/// One label's rule. With neither `header` nor `claim` the label is on for every request (the
/// field is served by the subgraph that overrides it, for everyone); with one of them, on when
/// the request's header or the verified token's claim holds one of `any_of` (with `any_of`
/// empty: is present, and for a claim not `false` or `null`). Several rules for one label:
/// on when any of them matches.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelRule {
    /// The label, as written in `@override(label:)` (`use-new-pricing`, `percent(5)`).
    pub label: String,
    /// A request header whose value switches the label on.
    #[serde(default)]
    pub header: Option<HeaderName>,
    /// A claim of the request's verified token (top level) whose value switches the label on.
    #[serde(default)]
    pub claim: Option<String>,
    /// The values that match: a header value equal to one (each value of a repeated header
    /// counts), a claim string equal to one or holding it as a space-separated word, a list
    /// claim with one among its strings, a number or boolean claim written as one.
    #[serde(default)]
    pub any_of: Vec<String>,
}

impl LabelRule {
    /// Why this rule cannot be used, if it cannot.
    pub fn problem(&self) -> Option<String> {
        if self.header.is_some() && self.claim.is_some() {
            return Some(format!(
                "the rule for label `{}` names both a `header` and a `claim`",
                self.label
            ));
        }
        if !is_label(&self.label) {
            return Some(format!(
                "`{}` is not an override label: a label starts with a letter and holds letters, \
                 digits, `_`, `-`, `:`, `.` or `/`, or is `percent(N)`",
                self.label
            ));
        }
        None
    }
}

/// Apollo's label syntax: `^[a-zA-Z][a-zA-Z0-9_\-:./]*$`, or `percent(N)` (N a number);
/// composition checks the exact `percent` form, here a rule's label merely has to be one that
/// could appear.
fn is_label(label: &str) -> bool {
    if let Some(n) = label
        .strip_prefix("percent(")
        .and_then(|rest| rest.strip_suffix(')'))
    {
        return n.parse::<f64>().is_ok_and(|p| (0.0..=100.0).contains(&p));
    }
    let mut chars = label.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_-:./".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(label: &str, header: Option<&str>, claim: Option<&str>) -> LabelRule {
        LabelRule {
            label: label.into(),
            header: header.map(|h| h.parse().unwrap()),
            claim: claim.map(str::to_owned),
            any_of: Vec::new(),
        }
    }

    #[test]
    fn a_rule_names_one_source_and_a_label_apollo_would_accept() {
        assert_eq!(rule("beta", Some("x-beta"), None).problem(), None);
        assert_eq!(rule("team:a/b.c-d_e", None, Some("roles")).problem(), None);
        assert_eq!(rule("percent(12.5)", None, None).problem(), None);
        assert!(
            rule("beta", Some("x-beta"), Some("roles"))
                .problem()
                .is_some()
        );
        for bad in ["", "1beta", "be ta", "percent(101)", "percent(x)"] {
            assert!(rule(bad, None, None).problem().is_some(), "{bad}");
        }
    }
}
