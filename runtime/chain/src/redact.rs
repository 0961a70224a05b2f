//! RPC URLs carry API keys (`https://eth.example.com/v2/KEY`, `?apikey=KEY`, `user:pass@`).
//! Whatever Ponos prints, logs, exports or answers names a node by its scheme, host and port
//! only: [`url`] for a URL Ponos holds, [`urls_in`] for text that may quote one (a transport
//! error, for instance, names the URL it failed to reach).

/// `url` with its user info, path and query left out: `https://host:port/…`.
pub fn url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let hidden = rest.len() > authority.len() || authority.contains('@');
    let trail = if hidden { "/…" } else { "" };
    if scheme.is_empty() {
        format!("{host}{trail}")
    } else {
        format!("{scheme}://{host}{trail}")
    }
}

/// `text` with every URL in it redacted as [`url`] does.
pub fn urls_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        // The scheme: the letters right before "://".
        let start = rest[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.'))
            .map_or(0, |i| i + 1);
        let end = rest[at..]
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | ',' | '>' | ']'))
            .map_or(rest.len(), |i| at + i);
        out.push_str(&rest[..start]);
        out.push_str(&url(&rest[start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_their_host_only() {
        assert_eq!(
            url("https://eth-mainnet.example.com/v2/SECRETKEY"),
            "https://eth-mainnet.example.com/…"
        );
        assert_eq!(
            url("https://user:pass@rpc.example.com"),
            "https://rpc.example.com/…"
        );
        assert_eq!(
            url("http://127.0.0.1:8545?key=SECRET"),
            "http://127.0.0.1:8545/…"
        );
        assert_eq!(url("http://127.0.0.1:8545"), "http://127.0.0.1:8545");
        assert_eq!(url("ws://127.0.0.1:8546/"), "ws://127.0.0.1:8546/…");
    }

    #[test]
    fn urls_quoted_in_text_are_redacted() {
        let error = "error sending request for url (http://10.0.0.5:8545/?key=SECRET): connection refused; \
                     retried https://u:p@node.example.com/v3/SECRET2";
        let redacted = urls_in(error);
        assert!(!redacted.contains("SECRET"), "{redacted}");
        assert!(!redacted.contains("u:p"), "{redacted}");
        assert_eq!(
            redacted,
            "error sending request for url (http://10.0.0.5:8545/…): connection refused; \
             retried https://node.example.com/…"
        );
        assert_eq!(urls_in("no url here"), "no url here");
        assert_eq!(urls_in("at http://localhost:1"), "at http://localhost:1");
    }
}
