//! `response_mode=form_post` (OAuth 2.0 Form Post Response Mode): codes and errors delivered as
//! a page whose form posts itself to the app, with no inline script, checked by hand and in a
//! real browser.

use crate::browser::{click, fill, wait_for_path, with_browser};
use crate::helpers::{TestApp, spawn_app};
use crate::oauth_helpers::*;
use crate::oidc::{oidc_client, payload};
use crate::oidc_prompt::{PASSWORD, assert_error, remember_consent, request, tokens};

/// Undoes HTML escaping in an attribute value.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';').unwrap() + i;
        let entity = &rest[i + 1..end];
        let c = match entity {
            "amp" => Some('&'),
            "quot" => Some('"'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => char::from_u32(u32::from_str_radix(&e[2..], 16).unwrap()),
            e => char::from_u32(e[1..].parse().unwrap()),
        }
        .unwrap();
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn attr(tag: &str, name: &str) -> String {
    let tag = format!(" {tag}");
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker).unwrap() + marker.len();
    let end = tag[start..].find('"').unwrap() + start;
    unescape(&tag[start..end])
}

/// The auto-posting form of a form_post page: its action and hidden fields.
fn form_post(html: &str) -> (String, Vec<(String, String)>) {
    let form = html.split("<form ").nth(1).expect("a form");
    let tag = &form[..form.find('>').unwrap()];
    assert_eq!(attr(tag, "method"), "post");
    let fields = form
        .split("<input ")
        .skip(1)
        .map(|t| &t[..t.find('>').unwrap()])
        .inspect(|t| assert_eq!(attr(t, "type"), "hidden"))
        .map(|t| (attr(t, "name"), attr(t, "value")))
        .collect();
    (attr(tag, "action"), fields)
}

/// No inline script: every `<script>` has a `src`, and no element has an event handler.
fn assert_no_inline_script(html: &str) {
    for (i, _) in html.match_indices("<script") {
        let tag = &html[i..i + html[i..].find('>').unwrap()];
        assert!(tag.contains(" src=\"/static/"), "inline script: {tag}");
    }
    let lower = html.to_ascii_lowercase();
    for (i, _) in lower.match_indices(" on") {
        let name: String = lower[i + 3..]
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        let after = &lower[i + 3 + name.len()..];
        assert!(
            name.is_empty() || !after.trim_start().starts_with('='),
            "event handler attribute on{name}"
        );
    }
    assert!(!lower.contains("javascript:"));
}

/// Fetches a form_post page and checks the headers every such page carries.
async fn form_post_page(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    let h = res.headers().clone();
    assert_eq!(h["cache-control"], "no-store");
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    let reference = app.get("/signin").await;
    assert_eq!(
        h["content-security-policy"],
        reference.headers()["content-security-policy"],
        "the CSP is the same as on every page"
    );
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    let html = res.text().await.unwrap();
    assert_no_inline_script(&html);
    html
}

#[tokio::test]
async fn form_post_delivers_code_state_and_issuer_as_hidden_fields_of_a_script_free_page() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    remember_consent(&app, &c, "openid").await;
    let state = r#"s "<&'> t"#;
    let (verifier, challenge) = pkce();
    let path = format!(
        "{}&nonce=n-1&response_mode=form_post",
        authorize_path(&c.id, "openid", state, Some(&challenge))
    );
    let html = form_post_page(&app, &path).await;
    assert!(html.contains(r#"<script src="/static/form_post.js" defer></script>"#));
    assert!(
        html.contains(r#"<button type="submit""#),
        "a button without script"
    );
    let (action, fields) = form_post(&html);
    assert_eq!(action, REDIRECT);
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["code", "state", "iss"]);
    assert_eq!(q(&fields, "state"), Some(state));
    assert_eq!(q(&fields, "iss"), Some(app.address.as_str()));
    let body = tokens(&app, &c, q(&fields, "code").unwrap(), &verifier).await;
    assert_eq!(payload(body["id_token"].as_str().unwrap())["nonce"], "n-1");

    let script = app.get("/static/form_post.js").await;
    assert_eq!(script.status(), 200);
    assert!(script.text().await.unwrap().contains(".submit()"));
}

#[tokio::test]
async fn form_post_also_answers_the_consent_form() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    let (path, _) = request(&c, "openid", &[("response_mode", "form_post")]);
    let csrf = crate::helpers::csrf_token(&app.get_html(&path).await);
    for (decision, key) in [("deny", "error"), ("allow", "code")] {
        let res = app
            .client
            .post(app.url(&path))
            .form(&[("csrf_token", csrf.as_str()), ("decision", decision)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let html = res.text().await.unwrap();
        assert_no_inline_script(&html);
        let (action, fields) = form_post(&html);
        assert_eq!(action, REDIRECT);
        assert!(q(&fields, key).is_some(), "{decision}: {fields:?}");
        assert_eq!(q(&fields, "state"), Some("st"));
        assert_eq!(q(&fields, "iss"), Some(app.address.as_str()));
    }
}

#[tokio::test]
async fn form_post_delivers_errors_too() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    let cases = [
        request(&c, "openid admin", &[("response_mode", "form_post")]).0,
        request(
            &c,
            "openid",
            &[("response_mode", "form_post"), ("prompt", "none")],
        )
        .0,
        request(
            &c,
            "openid",
            &[("response_mode", "form_post"), ("request", "e30.e30.")],
        )
        .0,
    ];
    for (path, error) in
        cases
            .iter()
            .zip(["invalid_scope", "consent_required", "request_not_supported"])
    {
        let (action, fields) = form_post(&form_post_page(&app, path).await);
        assert_eq!(action, REDIRECT);
        let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["error", "error_description", "state", "iss"],
            "{path}"
        );
        assert_error(&app, &fields, error);
    }
}

// ---------------------------------------------------------------- a real browser

/// Reads one HTTP request from a connection; `None` when it closes before a whole one arrives.
async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        let Some(head_end) = text.find("\r\n\r\n") else {
            continue;
        };
        let length: usize = text[..head_end]
            .lines()
            .find_map(|l| {
                let l = l.to_ascii_lowercase();
                l.strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        if buf.len() >= head_end + 4 + length {
            return Some(text);
        }
    }
}

/// The app the answer is posted to: a loopback port that keeps the first request it gets.
async fn one_post() -> (u16, tokio::task::JoinHandle<String>) {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            if let Some(request) = read_request(&mut sock).await {
                let reply = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
                sock.write_all(reply.as_bytes()).await.unwrap();
                return request;
            }
        }
    });
    (port, task)
}

#[tokio::test]
async fn a_browser_posts_the_form_post_answer_to_the_app_by_itself() {
    let app = spawn_app().await;
    let c = register(&app, "openid", false, &[]).await;
    let (port, received) = one_post().await;
    let (_, challenge) = pkce();
    let encoded = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let path = authorize_path(&c.id, "openid", "st", Some(&challenge)).replace(
        &encoded(REDIRECT),
        &encoded(&format!("http://127.0.0.1:{port}/cb")),
    ) + "&response_mode=form_post";
    let base = app.address.clone();
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ran_in_browser = ran.clone();
    with_browser("oidc-form-post", move |b| async move {
        b.goto(&format!("{base}/signup")).await.unwrap();
        fill(&b, "name", "Ada Lovelace").await;
        fill(&b, "email", "ada@example.com").await;
        fill(&b, "password", PASSWORD).await;
        click(&b, "form[action='/signup'] button[type=submit]").await;
        wait_for_path(&b, "/account").await;
        b.goto(&format!("{base}{path}")).await.unwrap();
        click(&b, "#consent-allow").await;
        // The page posts itself: no one presses its button.
        wait_for_path(&b, "/cb").await;
        ran_in_browser.store(true, std::sync::atomic::Ordering::SeqCst);
    })
    .await;
    if !ran.load(std::sync::atomic::Ordering::SeqCst) {
        return; // no browser here (with_browser said so)
    }
    let request = tokio::time::timeout(std::time::Duration::from_secs(10), received)
        .await
        .expect("the app received the answer")
        .unwrap();
    assert!(request.starts_with("POST /cb "), "{request}");
    let body = request.split("\r\n\r\n").nth(1).unwrap();
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    assert!(q(&fields, "code").is_some());
    assert_eq!(q(&fields, "state"), Some("st"));
    assert_eq!(q(&fields, "iss"), Some(app.address.as_str()));
}
