//! A user agent shortened to what a person reads in a log: browser, major version and operating
//! system ("Chrome 126 on Linux"). A heuristic over the well-known tokens, not a database of
//! agents: an agent it does not know is shown by its first product token.

/// Browsers by the token that names them, most specific first: Edge and Opera also say
/// "Chrome", Chrome also says "Safari".
const BROWSERS: [(&str, &str); 8] = [
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
];

/// Operating systems by a token, most specific first: Android says "Linux", iOS "Mac OS X".
const SYSTEMS: [(&str, &str); 8] = [
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
];

/// The major version right after `token` in `ua`.
fn major_after(ua: &str, token: &str) -> Option<String> {
    let at = ua.find(token)? + token.len();
    let major: String = ua[at..].chars().take_while(char::is_ascii_digit).collect();
    (!major.is_empty()).then_some(major)
}

fn browser(ua: &str) -> Option<String> {
    for (token, name) in BROWSERS {
        if ua.contains(token) {
            return Some(match major_after(ua, token) {
                Some(v) => format!("{name} {v}"),
                None => name.to_owned(),
            });
        }
    }
    if ua.contains("Safari/") {
        return Some(match major_after(ua, "Version/") {
            Some(v) => format!("Safari {v}"),
            None => "Safari".to_owned(),
        });
    }
    // Anything else (curl/8.5.0, python-requests/2.31): its first product and major version.
    let first = ua.split_whitespace().next()?;
    let (name, version) = first.split_once('/').unwrap_or((first, ""));
    let major: String = version.chars().take_while(char::is_ascii_digit).collect();
    let name: String = name.chars().take(40).collect();
    Some(if major.is_empty() {
        name
    } else {
        format!("{name} {major}")
    })
}

fn system(ua: &str) -> Option<&'static str> {
    SYSTEMS
        .iter()
        .find(|(token, _)| ua.contains(token))
        .map(|(_, name)| *name)
}

/// "Browser major on OS", as much of it as the agent tells; empty for an empty agent.
pub fn short(ua: &str) -> String {
    let ua = ua.trim();
    if ua.is_empty() {
        return String::new();
    }
    match (browser(ua), system(ua)) {
        (Some(b), Some(os)) if b != "Mozilla 5" => {
            format!("{b} on {os}")
        }
        (_, Some(os)) => format!("a browser on {os}"),
        (Some(b), None) => b,
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::short;

    #[test]
    fn desktop_browsers_are_named_with_their_major_version_and_system() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Safari/537.36",
                "Chrome 126 on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.2535.85",
                "Edge 125 on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0",
                "Firefox 127 on macOS",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
                "Safari 17 on macOS",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0",
                "Opera 111 on Windows",
            ),
        ];
        for (ua, want) in cases {
            assert_eq!(short(ua), want, "{ua}");
        }
    }

    #[test]
    fn phones_are_told_apart_from_the_systems_they_resemble() {
        assert_eq!(
            short(
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36"
            ),
            "Chrome 126 on Android"
        );
        assert_eq!(
            short(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
            ),
            "Safari 17 on iOS"
        );
    }

    #[test]
    fn tools_and_unknown_agents_show_their_first_product() {
        assert_eq!(short("curl/8.5.0"), "curl 8");
        assert_eq!(short("python-requests/2.31.0"), "python-requests 2");
        assert_eq!(short("reqwest"), "reqwest");
        assert_eq!(short("   "), "");
        assert_eq!(
            short("Mozilla/5.0 (X11; Linux x86_64)"),
            "a browser on Linux"
        );
    }
}
