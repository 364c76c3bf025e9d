//! Where to send someone after signing in. Only a same-site path is accepted: anything that a
//! browser could resolve to another origin (`//evil`, `/\evil`, `https://...`) is dropped, so the
//! sign-in page cannot be used as an open redirector.

/// Returns the path if it is a safe same-site destination, `None` otherwise.
pub fn safe_return_path(raw: &str) -> Option<&str> {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.starts_with("/\\")
        && raw.len() <= 4096
        && !raw.chars().any(|c| c.is_control() || c == '\\');
    ok.then_some(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_kept() {
        for good in ["/", "/account", "/oauth/authorize?client_id=x&state=y%20z"] {
            assert_eq!(safe_return_path(good), Some(good));
        }
    }

    #[test]
    fn off_site_destinations_are_refused() {
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "javascript:alert(1)",
            "account",
            "/ok\n/evil",
            "",
        ] {
            assert_eq!(safe_return_path(bad), None, "{bad:?} accepted");
        }
    }
}
