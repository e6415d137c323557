//! Apollo's wording for lists of subgraphs and for values that differ across subgraphs
//! (`it has type "Int" in subgraph "a" but type "String" in subgraph "b"`), so that messages
//! read the same as Apollo composition's.

/// `"a", "b" and "c"`.
pub fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `subgraph "a"` or `subgraphs "a" and "b"`, from already quoted names.
pub fn subgraphs_list(quoted: &[String]) -> String {
    let prefix = if quoted.len() == 1 {
        "subgraph"
    } else {
        "subgraphs"
    };
    format!("{prefix} {}", join_and(quoted))
}

/// Groups `(value, subgraph)` pairs by value, the supergraph's value first, then in order of
/// first appearance: `["X in subgraph \"a\"", "Y in subgraphs \"b\" and \"c\""]`.
pub fn distribution(entries: &[(String, String)], supergraph_value: Option<&str>) -> Vec<String> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    if let Some(v) = supergraph_value {
        groups.push((v.to_owned(), Vec::new()));
    }
    for (value, subgraph) in entries {
        let quoted = format!("\"{subgraph}\"");
        match groups.iter_mut().find(|(v, _)| v == value) {
            Some((_, subgraphs)) => subgraphs.push(quoted),
            None => groups.push((value.clone(), vec![quoted])),
        }
    }
    groups
        .into_iter()
        .filter(|(_, subgraphs)| !subgraphs.is_empty())
        .map(|(value, subgraphs)| format!("{value} in {}", subgraphs_list(&subgraphs)))
        .collect()
}

/// Joins a distribution as errors state it: `A but B and C`.
pub fn error_distribution(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} but {}", rest.join(" and ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_group_by_subgraph_supergraph_first() {
        let entries = vec![
            ("type \"String\"".to_owned(), "b".to_owned()),
            ("type \"Int\"".to_owned(), "a".to_owned()),
            ("type \"Int\"".to_owned(), "c".to_owned()),
        ];
        let parts = distribution(&entries, Some("type \"Int\""));
        assert_eq!(
            error_distribution(&parts),
            "type \"Int\" in subgraphs \"a\" and \"c\" but type \"String\" in subgraph \"b\""
        );
    }
}
