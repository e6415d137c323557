//! `${VAR}` and `${VAR:-default}` in the config file, replaced by environment variables before
//! the YAML is parsed, so any value (strings, numbers, booleans) can come from the
//! environment. `$${` is a literal `${`. Full-line comments are left alone. Positions the
//! parser reports in the expanded text are mapped back to the file as written.

use super::error::ConfigError;

/// The file with every reference replaced, and where replacements moved columns.
#[derive(Debug)]
pub struct Expanded {
    pub text: String,
    /// Per 0-based line, one per replacement in order: where it starts and where the
    /// original text resumes after it, as `(expanded column, original column)` pairs.
    shifts: Vec<Vec<Shift>>,
}

#[derive(Debug, Clone, Copy)]
struct Shift {
    start: (usize, usize),
    end: (usize, usize),
}

impl Expanded {
    /// The 1-based `(line, column)` in the original text of a position in the expanded text.
    /// Inside a replaced value it is the `$` of the reference. Values are inserted as they are,
    /// so a value with a line break shifts the lines after it (quote such values in YAML).
    pub fn original_location(&self, line: usize, column: usize) -> (usize, usize) {
        let Some(shifts) = line.checked_sub(1).and_then(|l| self.shifts.get(l)) else {
            return (line, column);
        };
        let (mut expanded, mut original) = (1, 1);
        for shift in shifts {
            if column >= shift.end.0 {
                (expanded, original) = shift.end;
            } else if column >= shift.start.0 {
                return (line, shift.start.1);
            } else {
                break;
            }
        }
        (line, original + (column - expanded))
    }
}

/// Expands every reference in `text`, looking variables up with `lookup`. Errors: each unset
/// variable without a default, and each malformed reference, located in `origin`.
pub fn expand(
    text: &str,
    origin: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Expanded, Vec<ConfigError>> {
    let mut out = String::with_capacity(text.len());
    let mut shifts = Vec::new();
    let mut errors = Vec::new();
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let mut line_shifts = Vec::new();
        if line.trim_start().starts_with('#') {
            out.push_str(line);
            shifts.push(line_shifts);
            continue;
        }
        let chars: Vec<char> = line.chars().collect();
        let (mut i, mut column) = (0, 1);
        while i < chars.len() {
            let here = (index + 1, i + 1);
            let start = (column, i + 1);
            if chars[i] == '$' && chars.get(i + 1) == Some(&'$') && chars.get(i + 2) == Some(&'{') {
                out.push_str("${");
                i += 3;
                column += 2;
                line_shifts.push(Shift {
                    start,
                    end: (column, i + 1),
                });
                continue;
            }
            if chars[i] != '$' || chars.get(i + 1) != Some(&'{') {
                out.push(chars[i]);
                i += 1;
                column += 1;
                continue;
            }
            let Some(len) = chars[i..].iter().position(|&c| c == '}') else {
                errors.push(located(
                    origin,
                    here,
                    "`${` without a closing `}`".into(),
                    None,
                ));
                break;
            };
            let inner: String = chars[i + 2..i + len].iter().collect();
            i += len + 1;
            let value = match reference(&inner) {
                Some((name, default)) => match (lookup(name), default) {
                    (Some(v), Some(d)) if v.is_empty() => d.to_owned(),
                    (Some(v), _) => v,
                    (None, Some(d)) => d.to_owned(),
                    (None, None) => {
                        errors.push(located(
                            origin,
                            here,
                            format!("environment variable `{name}` is not set"),
                            Some(format!("set it, or give a default: ${{{name}:-value}}")),
                        ));
                        String::new()
                    }
                },
                None => {
                    errors.push(located(
                        origin,
                        here,
                        format!("`${{{inner}}}` is not a variable reference"),
                        Some("write ${NAME} or ${NAME:-default}; $${ is a literal ${".into()),
                    ));
                    String::new()
                }
            };
            column += value.chars().count();
            out.push_str(&value);
            line_shifts.push(Shift {
                start,
                end: (column, i + 1),
            });
        }
        shifts.push(line_shifts);
    }
    if errors.is_empty() {
        Ok(Expanded { text: out, shifts })
    } else {
        Err(errors)
    }
}

/// `NAME` or `NAME:-default`; `NAME` is a shell variable name.
fn reference(inner: &str) -> Option<(&str, Option<&str>)> {
    let (name, default) = match inner.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (inner, None),
    };
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some((name, default))
}

fn located(
    origin: &str,
    (line, column): (usize, usize),
    message: String,
    hint: Option<String>,
) -> ConfigError {
    ConfigError {
        origin: origin.to_owned(),
        location: Some((line, column)),
        message,
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("0.0.0.0".into()),
            "EMPTY" => Some(String::new()),
            "LONG" => Some("abcdefghij".into()),
            _ => None,
        }
    }

    #[test]
    fn references_are_replaced() {
        let e = expand(
            "listen: ${HOST}:${PORT:-4000}\nx: ${EMPTY:-d} ${EMPTY}|$${HOST}\n# ${NOPE}\n",
            "f",
            env,
        )
        .unwrap();
        assert_eq!(e.text, "listen: 0.0.0.0:4000\nx: d |${HOST}\n# ${NOPE}\n");
    }

    #[test]
    fn unset_variables_are_located() {
        let errs = expand("a: 1\nb: x ${NOPE}\nc: ${ALSO}\n", "weft.yaml", env).unwrap_err();
        let shown: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert!(
            shown[0].starts_with("weft.yaml:2:6: environment variable `NOPE` is not set"),
            "{shown:?}"
        );
        assert!(shown[1].starts_with("weft.yaml:3:4:"), "{shown:?}");
        assert!(expand("a: ${1X}", "f", env).is_err());
        assert!(expand("a: ${X", "f", env).is_err());
    }

    #[test]
    fn columns_map_back_to_the_file_as_written() {
        // "a: ${LONG} bad" → "a: abcdefghij bad": `bad` is at 15 expanded, 12 written.
        let e = expand("a: ${LONG} bad\n", "f", env).unwrap();
        assert_eq!(e.original_location(1, 15), (1, 12));
        assert_eq!(e.original_location(1, 2), (1, 2));
        assert_eq!(e.original_location(1, 8), (1, 4));
        assert_eq!(e.original_location(2, 7), (2, 7));
    }
}
