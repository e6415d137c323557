//! Which specs a supergraph links (`@link` from link v1.0, or `@core` from the older core spec),
//! and the local names their directives and types go by after `as:` renames and `import:`.

use apollo_compiler::Schema;
use apollo_compiler::ast::{Directive, Value};

use super::error::Diagnostic;
use super::read::{location_of, string_arg};

/// The identity prefix of every Apollo spec.
pub const APOLLO_SPECS: &str = "https://specs.apollo.dev/";

/// A spec linked into the supergraph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedSpec {
    pub url: String,
    /// The URL without its version: `https://specs.apollo.dev/join`.
    pub identity: String,
    /// The spec's own name: `join`.
    pub name: String,
    pub version: (u32, u32),
    /// The namespace its elements get: the `as:` alias, else `name`.
    pub prefix: String,
    /// `(element name in the spec, local name)`, for imported elements, `@` kept on directives.
    pub imports: Vec<(String, String)>,
    /// `for:` purpose (`EXECUTION`, `SECURITY`), if given.
    pub purpose: Option<String>,
}

impl LinkedSpec {
    /// The local name of the spec's directive `element` (without `@`).
    pub fn directive(&self, element: &str) -> String {
        let imported = format!("@{element}");
        if let Some((_, local)) = self.imports.iter().find(|(e, _)| *e == imported) {
            return local.trim_start_matches('@').to_owned();
        }
        if element == self.name {
            self.prefix.clone()
        } else {
            format!("{}__{}", self.prefix, element)
        }
    }

    /// The local name of the spec's type `element`.
    pub fn type_name(&self, element: &str) -> String {
        if let Some((_, local)) = self.imports.iter().find(|(e, _)| e == element) {
            return local.clone();
        }
        format!("{}__{}", self.prefix, element)
    }

    /// Whether a directive or type named `local` (no `@`) belongs to this spec.
    pub fn owns(&self, local: &str) -> bool {
        local == self.prefix
            || local
                .strip_prefix(self.prefix.as_str())
                .is_some_and(|rest| rest.starts_with("__"))
            || self
                .imports
                .iter()
                .any(|(_, l)| l.trim_start_matches('@') == local)
    }

    pub fn is_apollo(&self) -> bool {
        self.identity.starts_with(APOLLO_SPECS)
    }
}

/// Which bootstrap spec the supergraph uses.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Bootstrap {
    /// `@link(url: "https://specs.apollo.dev/link/v1.0")` (Federation 2 supergraphs).
    Link,
    /// `@core(feature: "https://specs.apollo.dev/core/v0.x")` (Federation 1 supergraphs).
    Core,
}

/// Splits `https://specs.apollo.dev/join/v0.3` into identity, name and version.
pub fn parse_spec_url(url: &str) -> Option<(String, String, (u32, u32))> {
    let url = url.trim_end_matches('/');
    let (identity, version) = url.rsplit_once('/')?;
    let (major, minor) = version.strip_prefix('v')?.split_once('.')?;
    let version = (major.parse().ok()?, minor.parse().ok()?);
    let name = identity.rsplit_once('/')?.1.to_owned();
    if name.is_empty() {
        return None;
    }
    Some((identity.to_owned(), name, version))
}

/// Reads every `@link`/`@core` on the schema definition.
pub fn read_links(schema: &Schema) -> Result<(Bootstrap, Vec<LinkedSpec>), Vec<Diagnostic>> {
    let directives = &schema.schema_definition.directives;
    // The bootstrap directive may itself be renamed (`@link(url: ".../link/v1.0", as: "l")`):
    // find the application whose URL names the link or core spec, and use its name.
    let bootstrap = directives.iter().find_map(|d| {
        let (arg, kind, spec) = if d.specified_argument_by_name("url").is_some() {
            ("url", Bootstrap::Link, "link")
        } else {
            ("feature", Bootstrap::Core, "core")
        };
        let url = string_arg(d, arg)?;
        let (identity, _, _) = parse_spec_url(url)?;
        (identity == format!("{APOLLO_SPECS}{spec}")).then(|| (d.name.clone(), kind))
    });
    let Some((bootstrap_name, kind)) = bootstrap else {
        return Err(vec![Diagnostic {
            message: "not a supergraph: the schema has no @link to https://specs.apollo.dev/link/v1.0 \
                      (nor a Federation 1 @core)"
                .to_owned(),
            location: location_of(&schema.schema_definition, schema),
            hint: Some(
                "compose the subgraphs first (e.g. with rover or Apollo composition; `weft compose` is planned)".to_owned(),
            ),
        }]);
    };
    let url_arg = match kind {
        Bootstrap::Link => "url",
        Bootstrap::Core => "feature",
    };
    let mut links = Vec::new();
    let mut errors = Vec::new();
    for d in directives.get_all(&bootstrap_name) {
        match linked_spec(d, url_arg) {
            Ok(spec) => links.push(spec),
            Err(e) => errors.push(Diagnostic {
                message: e.to_string(),
                location: location_of(d, schema),
                hint: None,
            }),
        }
    }
    if errors.is_empty() {
        Ok((kind, links))
    } else {
        Err(errors)
    }
}

/// Why a `@link` (or `@core`) application cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The directive (`link`, `core`) lacks its URL argument (`url`, `feature`).
    #[error("@{directive} needs a string `{argument}:` argument")]
    NoUrl { directive: String, argument: String },
    #[error("`{0}` is not a spec URL of the form https://host/name/vX.Y")]
    NotASpecUrl(String),
    #[error("an import object needs a `name:`")]
    ImportWithoutName,
    #[error("`import:` items must be strings or {{name:, as:}} objects")]
    BadImport,
}

/// Reads one `@link(url:, as:, for:, import:)` (or `@core(feature:, as:, for:)`, with
/// `url_arg = "feature"`) application.
pub fn linked_spec(d: &Directive, url_arg: &str) -> Result<LinkedSpec, LinkError> {
    let Some(url) = string_arg(d, url_arg) else {
        return Err(LinkError::NoUrl {
            directive: d.name.to_string(),
            argument: url_arg.to_owned(),
        });
    };
    let Some((identity, name, version)) = parse_spec_url(url) else {
        return Err(LinkError::NotASpecUrl(url.to_owned()));
    };
    let prefix = string_arg(d, "as").map_or_else(|| name.clone(), str::to_owned);
    let purpose = d
        .specified_argument_by_name("for")
        .and_then(|v| v.as_enum())
        .map(|n| n.to_string());
    let mut imports = Vec::new();
    if let Some(list) = d
        .specified_argument_by_name("import")
        .and_then(|v| v.as_list())
    {
        for item in list {
            match item.as_ref() {
                Value::String(s) => imports.push((s.clone(), s.clone())),
                Value::Object(fields) => {
                    let field = |key: &str| {
                        fields
                            .iter()
                            .find(|(k, _)| k == key)
                            .and_then(|(_, v)| v.as_str())
                    };
                    match (field("name"), field("as")) {
                        (Some(n), alias) => {
                            imports.push((n.to_owned(), alias.unwrap_or(n).to_owned()))
                        }
                        (None, _) => return Err(LinkError::ImportWithoutName),
                    }
                }
                _ => return Err(LinkError::BadImport),
            }
        }
    }
    Ok(LinkedSpec {
        url: url.to_owned(),
        identity,
        name,
        version,
        prefix,
        imports,
        purpose,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_urls() {
        assert_eq!(
            parse_spec_url("https://specs.apollo.dev/join/v0.3"),
            Some((
                "https://specs.apollo.dev/join".to_owned(),
                "join".to_owned(),
                (0, 3)
            ))
        );
        assert_eq!(parse_spec_url("https://specs.apollo.dev/join"), None);
        assert_eq!(parse_spec_url("nonsense"), None);
        assert_eq!(parse_spec_url("https://x/v1.x"), None);
    }

    #[test]
    fn local_names_follow_alias_and_imports() {
        let cost = LinkedSpec {
            url: String::new(),
            identity: String::new(),
            name: "cost".to_owned(),
            version: (0, 1),
            prefix: "c".to_owned(),
            imports: vec![("@listSize".to_owned(), "@size".to_owned())],
            purpose: None,
        };
        assert_eq!(cost.directive("cost"), "c");
        assert_eq!(cost.directive("listSize"), "size");
        assert_eq!(cost.directive("other"), "c__other");
        assert!(cost.owns("c__other") && cost.owns("size") && cost.owns("c"));
        assert!(!cost.owns("cx") && !cost.owns("cost"));
    }
}
