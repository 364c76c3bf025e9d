//! Helpers for the second-factor tests: enrolling an authenticator app through Settings →
//! Security as a person would (the seed read off the page, codes computed by the server's own
//! TOTP code at the server's clock), and answering the second step of sign-in.

#![allow(dead_code)]

use portcullis::domain::factors::totp;

use crate::helpers::{TestApp, csrf_token};

/// An enrolled authenticator app: its seed and the recovery codes shown at enrolment.
pub struct Enrolled {
    pub seed: Vec<u8>,
    pub recovery_codes: Vec<String>,
}

/// The text between `start` and the next `<` after it.
fn text_after(html: &str, start: &str) -> Option<String> {
    let at = html.find(start)? + start.len();
    Some(html[at..].split('<').next()?.trim().to_owned())
}

/// The seed an enrolment page shows.
pub fn seed_on(page: &str) -> Vec<u8> {
    let text = text_after(page, "id=\"totp-secret\" class=\"secret\">").expect("seed shown");
    totp::seed_from_text(&text).expect("a base32 seed")
}

/// The recovery codes a recovery-codes page shows.
pub fn codes_on(page: &str) -> Vec<String> {
    let list = page
        .split("id=\"recovery-codes\"")
        .nth(1)
        .expect("codes shown")
        .split("</ol>")
        .next()
        .unwrap();
    list.split("<code>")
        .skip(1)
        .map(|c| c.split('<').next().unwrap().to_owned())
        .collect()
}

/// The code the app shows now, by the server's clock.
pub fn code_now(app: &TestApp, seed: &[u8]) -> String {
    totp::code_at(seed, app.clock.now()).unwrap()
}

/// Moves the server's clock to the next time step and returns that step's code (a code is
/// accepted once: the next sign-in needs the next one).
pub fn next_code(app: &TestApp, seed: &[u8]) -> String {
    app.clock.advance(totp::STEP_SECS);
    code_now(app, seed)
}

/// Posts the enrolment form with `code`.
pub async fn confirm(app: &TestApp, code: &str, return_to: &str) -> reqwest::Response {
    app.post_form(
        "/settings/security",
        "/settings/security/totp/confirm",
        &[("code", code), ("return_to", return_to)],
    )
    .await
}

/// Enrols an authenticator app for the signed-in person.
pub async fn enrol(app: &TestApp) -> Enrolled {
    let page = app.get_html("/settings/security").await;
    let seed = seed_on(&page);
    let res = app.reveal(confirm(app, &code_now(app, &seed), "").await).await;
    let recovery_codes = codes_on(&res.text().await.unwrap());
    assert_eq!(recovery_codes.len(), 10);
    Enrolled {
        seed,
        recovery_codes,
    }
}

/// Answers the second step of a pending sign-in (or step-up) with `method` and `code`.
pub async fn second_step(app: &TestApp, method: &str, code: &str) -> reqwest::Response {
    let page = app.get("/signin/second-factor").await;
    assert_eq!(page.status(), 200, "a second step is pending");
    let csrf = csrf_token(&page.text().await.unwrap());
    app.client
        .post(app.url("/signin/second-factor"))
        .form(&[("csrf_token", csrf.as_str()), ("method", method), ("code", code)])
        .send()
        .await
        .unwrap()
}
