//! The page a browser gets at `/` and `/graphql`: GraphiQL's host page when the binary has the
//! bundle, else a page saying how to get it. Both are static HTML, no inline script or style.

/// The page's Content-Security-Policy (docs/playground.md names the reason for each
/// relaxation): scripts and workers only from the gateway; `style-src 'unsafe-inline'` because
/// Monaco and GraphiQL set `style` attributes and insert `<style>` elements at run time;
/// `img-src data:` for the SVG icons GraphiQL's and Monaco's stylesheets carry as `data:` URLs.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     worker-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'; object-src 'none'";

/// GraphiQL's host page. Addresses are relative, so `/` and `/graphql` both load
/// `/playground/…`.
pub const GRAPHIQL: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Weft playground</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="playground/index.css">
<script src="playground/index.js" defer></script>
</head>
<body>
<div id="graphiql"><p class="weft-loading">Loading the Weft playground&hellip;</p></div>
<noscript>The Weft playground (GraphiQL) needs JavaScript.</noscript>
</body>
</html>
"#;

/// The page of a binary built without the bundle: why, and how to get the IDE.
pub fn unbundled(why: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Weft playground</title>
<link rel="icon" href="data:,">
</head>
<body>
<h1>Weft playground</h1>
<p>This <code>weft</code> binary was built without the playground (GraphiQL), which is bundled
at build time with Node.js. To get it, install Node.js 20 or later
(<a href="https://nodejs.org/">nodejs.org</a>, or your package manager) and build again
(<code>cargo build --release</code>, or <code>cargo run --release -- demo</code>).</p>
<p>GraphQL requests to this address work as usual.</p>
<p>What the build said:</p>
<pre>{}</pre>
</body>
</html>
"#,
        escape(why)
    )
}

/// `text` as HTML text.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unbundled_page_escapes_what_the_build_said() {
        let page = unbundled("<script>npm</script> & more");
        assert!(page.contains("&lt;script&gt;npm&lt;/script&gt; &amp; more"));
        assert!(!page.contains("<script>"));
        assert!(page.contains("Node.js 20 or later"));
    }

    #[test]
    fn the_policy_allows_no_inline_or_eval_script() {
        let script = CONTENT_SECURITY_POLICY
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap_or_default();
        assert_eq!(script.trim(), "script-src 'self'");
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-eval"));
    }
}
