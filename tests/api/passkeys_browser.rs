//! Passkeys in a real browser: headless Chromium with a WebDriver virtual authenticator (W3C
//! WebAuthn §11, "Add Virtual Authenticator") that holds discoverable keys and verifies its
//! user. A person signs up, adds a passkey on Settings → Passkeys, signs out, signs in with the
//! passkey alone, a replayed answer is refused, and so is a copy of the key whose signature
//! counter is behind; the session records the passkey (`amr`).

use std::time::Duration;

use fantoccini::wd::WebDriverCompatibleCommand;
use portcullis::domain::auth_methods::{AuthMethod, AuthMethods};
use sea_orm::{ConnectionTrait, Statement};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use crate::browser::{click, fill, screenshot, wait_for_path, with_browser};
use crate::helpers::spawn_localhost_app_with;

/// A command of the WebAuthn WebDriver extension (W3C WebAuthn §11): `path` under
/// `/session/{id}/webauthn/`.
#[derive(Debug)]
struct Webauthn {
    method: http::Method,
    path: String,
    body: Option<Value>,
}

impl WebDriverCompatibleCommand for Webauthn {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.unwrap_or_default();
        base_url.join(&format!("session/{session}/webauthn/{}", self.path))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (self.method.clone(), self.body.as_ref().map(Value::to_string))
    }
}

/// Adds a platform authenticator that keeps resident keys and reports the user verified, as a
/// phone or laptop unlocked by its owner would; returns its id.
async fn add_virtual_authenticator(c: &Client) -> String {
    let id = c
        .issue_cmd(Webauthn {
            method: http::Method::POST,
            path: "authenticator".into(),
            body: Some(json!({
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": true,
                "hasUserVerification": true,
                "isUserVerified": true,
            })),
        })
        .await
        .unwrap();
    id.as_str().unwrap().to_owned()
}

/// Puts the authenticator's one credential back with its signature counter at zero: what a
/// copy of the key made before its uses would answer with.
async fn clone_key_from_before(c: &Client, authenticator: &str) {
    let path = format!("authenticator/{authenticator}/credentials");
    let get = Webauthn {
        method: http::Method::GET,
        path: path.clone(),
        body: None,
    };
    let credentials = c.issue_cmd(get).await.unwrap();
    let mut credential = credentials[0].clone();
    assert!(credential["signCount"].as_u64().unwrap() > 0, "{credential}");
    credential["signCount"] = json!(0);
    let clear = Webauthn {
        method: http::Method::DELETE,
        path,
        body: None,
    };
    c.issue_cmd(clear).await.unwrap();
    let add = Webauthn {
        method: http::Method::POST,
        path: format!("authenticator/{authenticator}/credential"),
        body: Some(credential),
    };
    c.issue_cmd(add).await.unwrap();
}

/// Waits until an element matches `css`, and returns its text.
async fn text_of(c: &Client, css: &str) -> String {
    for _ in 0..100 {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            return el.text().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let page = c.source().await.unwrap_or_default();
    panic!("nothing matched {css}: {page}");
}

/// Run in the sign-in page: one passkey sign-in by hand, then the same answer posted again
/// with the new session's CSRF token. Returns both statuses and the second answer's body.
const REPLAY: &str = r##"
const done = arguments[arguments.length - 1];
const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
  .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const unb64 = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
const post = (url, csrf, body) => fetch(url, {
  method: "POST",
  headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
  body: JSON.stringify(body),
});
(async () => {
  const csrf = document.querySelector("#passkey-signin input[name=csrf_token]").value;
  const options = await (await post("/signin/passkey/start", csrf, { return_to: "" })).json();
  options.publicKey.challenge = unb64(options.publicKey.challenge);
  const cred = await navigator.credentials.get({ publicKey: options.publicKey });
  const body = {
    id: cred.id, rawId: b64(cred.rawId), type: cred.type, extensions: {},
    response: {
      authenticatorData: b64(cred.response.authenticatorData),
      clientDataJSON: b64(cred.response.clientDataJSON),
      signature: b64(cred.response.signature),
      userHandle: cred.response.userHandle ? b64(cred.response.userHandle) : null,
    },
  };
  const first = await post("/signin/passkey/finish", csrf, body);
  const page = await (await fetch("/signin?again=1")).text();
  const fresh = page.match(/name="csrf_token" value="([^"]+)"/)[1];
  const second = await post("/signin/passkey/finish", fresh, body);
  done([first.status, second.status, await second.json()]);
})().catch((e) => done(String(e)));
"##;

#[tokio::test]
async fn a_person_adds_a_passkey_and_signs_in_with_it_alone() {
    let app = spawn_localhost_app_with(|_| {}).await;
    // The relying party is `localhost`: the browser must use that name, not 127.0.0.1.
    let base = format!("http://localhost:{}", app.port);
    with_browser("passkeys", move |c| async move {
        let authenticator = add_virtual_authenticator(&c).await;

        c.goto(&format!("{base}/signup")).await.unwrap();
        fill(&c, "name", "Ada Lovelace").await;
        fill(&c, "email", "ada@example.com").await;
        fill(&c, "password", "a very long password").await;
        click(&c, "form[action='/signup'] button[type=submit]").await;
        wait_for_path(&c, "/account").await;

        click(&c, "details.menu summary").await;
        click(&c, "a[href='/settings/passkeys']").await;
        wait_for_path(&c, "/settings/passkeys").await;
        assert!(c.find(Locator::Id("no-passkeys")).await.is_ok());
        fill(&c, "passkey-name", "MacBook").await;
        click(&c, "#passkey-register-button").await;
        let name = text_of(&c, "#passkey-list tr[data-passkey] .passkey-name").await;
        assert_eq!(name, "MacBook");
        let last_used = text_of(&c, "#passkey-list tr[data-passkey] .last-used").await;
        assert_eq!(last_used, "never");
        screenshot(&c, "passkeys-registered").await;

        click(&c, "form[action='/signout'] button").await;
        wait_for_path(&c, "/signin").await;
        click(&c, "#passkey-signin-button").await;
        wait_for_path(&c, "/account").await;
        let email = text_of(&c, "#account-email").await;
        assert_eq!(email, "ada@example.com");
        screenshot(&c, "passkeys-signed-in").await;

        c.goto(&format!("{base}/settings/passkeys")).await.unwrap();
        let last_used = text_of(&c, "#passkey-list tr[data-passkey] .last-used").await;
        assert_ne!(last_used, "never", "the sign-in is recorded as a use");

        // Signed out again: one sign-in by hand, then its answer replayed.
        click(&c, "form[action='/signout'] button").await;
        wait_for_path(&c, "/signin").await;
        let outcome: Value = c.execute_async(REPLAY, vec![]).await.unwrap();
        assert_eq!(outcome[0], 200, "{outcome}");
        assert_eq!(outcome[1], 401, "a replayed answer signs no one in: {outcome}");
        assert_eq!(outcome[2]["error"]["code"], "authentication_failed");

        // A copy of the key whose counter is behind the server's is refused as a clone.
        clone_key_from_before(&c, &authenticator).await;
        c.goto(&format!("{base}/signin?again=1")).await.unwrap();
        click(&c, "#passkey-signin-button").await;
        let error = text_of(&c, "#passkey-signin-error:not([hidden])").await;
        assert!(error.contains("did not sign you in"), "{error}");
        screenshot(&c, "passkeys-clone-refused").await;

        // On a phone-sized screen the list and the form fit without sideways scrolling.
        c.set_window_size(390, 844).await.unwrap();
        c.goto(&format!("{base}/settings/passkeys")).await.unwrap();
        text_of(&c, "#passkey-list tr[data-passkey] .passkey-name").await;
        let fits = c
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(fits, json!(true), "the page scrolls sideways on a phone");
        screenshot(&c, "passkeys-phone").await;
    })
    .await;

    let clone_flagged = "SELECT COUNT(*) AS n FROM audit_events WHERE event_type = 'passkey.counter_regressed'";
    let mut flagged = 0;
    for _ in 0..100 {
        let row = app
            .db
            .query_one_raw(Statement::from_string(app.db.get_database_backend(), clone_flagged))
            .await
            .unwrap()
            .unwrap();
        flagged = row.try_get::<i64>("", "n").unwrap();
        if flagged > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(flagged, 1, "the possible clone is in the audit log");

    // The session the passkey signed in records it: `amr` hwk (and mfa) for its tokens.
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT state FROM sessions WHERE signed_in_at IS NOT NULL",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "only the passkey sign-in's session is left");
    let state: String = rows[0].try_get("", "state").unwrap();
    let state: Value = serde_json::from_str(&state).unwrap();
    let methods: AuthMethods = serde_json::from_str(state["amr"].as_str().unwrap()).unwrap();
    assert_eq!(methods, AuthMethods::one(AuthMethod::Passkey));
    assert_eq!(methods.amr(), ["hwk", "mfa"]);
}

#[tokio::test]
async fn a_passkey_is_the_second_step_after_a_password() {
    let app = spawn_localhost_app_with(|_| {}).await;
    let base = format!("http://localhost:{}", app.port);
    with_browser("passkeys-second-step", move |c| async move {
        add_virtual_authenticator(&c).await;
        c.goto(&format!("{base}/signup")).await.unwrap();
        fill(&c, "name", "Ada Lovelace").await;
        fill(&c, "email", "ada@example.com").await;
        fill(&c, "password", "a very long password").await;
        click(&c, "form[action='/signup'] button[type=submit]").await;
        wait_for_path(&c, "/account").await;
        c.goto(&format!("{base}/settings/passkeys")).await.unwrap();
        fill(&c, "passkey-name", "MacBook").await;
        click(&c, "#passkey-register-button").await;
        text_of(&c, "#passkey-list tr[data-passkey] .passkey-name").await;

        // With a passkey, the password alone no longer signs in: the second step asks for it.
        click(&c, "form[action='/signout'] button").await;
        wait_for_path(&c, "/signin").await;
        fill(&c, "email", "ada@example.com").await;
        fill(&c, "password", "a very long password").await;
        click(&c, "form[action='/signin'] button[type=submit]").await;
        wait_for_path(&c, "/signin/second-factor").await;
        assert!(
            c.find(Locator::Id("code")).await.is_err(),
            "no code field for a person without an authenticator app"
        );
        screenshot(&c, "passkeys-second-step").await;
        click(&c, "#passkey-second-factor-button").await;
        wait_for_path(&c, "/account").await;
        assert_eq!(text_of(&c, "#account-email").await, "ada@example.com");
    })
    .await;

    // The session used both: the password, then the passkey.
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT state FROM sessions WHERE signed_in_at IS NOT NULL",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "only the two-step sign-in's session is left");
    let state: String = rows[0].try_get("", "state").unwrap();
    let state: Value = serde_json::from_str(&state).unwrap();
    let methods: AuthMethods = serde_json::from_str(state["amr"].as_str().unwrap()).unwrap();
    assert_eq!(methods.amr(), ["pwd", "hwk", "mfa"]);
}
