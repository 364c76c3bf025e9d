//! Disabling an account on Admin → Users suspends it: sign-in is refused with a clear message,
//! its browser session ends at once, and every credential and app token it holds is refused
//! (bearer routes 401, introspection `active: false`, the refresh grant `invalid_grant`);
//! enabling it restores sign-in and everything it held.

use crate::credentials::get;
use crate::helpers::{TestApp, location};
use crate::oauth_helpers::{confidential, exchange, introspect, json, obtain_code, refresh, resource_server};
use crate::tenancy::{Held, login_v0, mint_all};
use crate::users_admin::{act, admin_and_person, events, row};

const PASSWORD: &str = "correct horse battery";

/// Every bearer value the person holds, with a name for messages.
fn bearers(held: &Held, app_token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api key", held.api_key.clone()),
        ("personal access token", held.pat.clone()),
        ("secret key", held.secret_key.clone()),
        ("app access token", app_token.to_owned()),
    ]
}

async fn all_answer(person: &TestApp, bearers: &[(&str, String)], status: u16) {
    for (what, bearer) in bearers {
        let res = get(person, "/v1/users/me", bearer).await;
        assert_eq!(res.status(), status, "{what}");
    }
}

#[tokio::test]
async fn a_disabled_person_is_refused_everywhere_until_enabled_again() {
    let (admin, person, email, id) = admin_and_person().await;
    let held = mint_all(&person).await;
    let c = confidential(&admin).await;
    let rs = resource_server(&admin).await;
    let (code, verifier) = obtain_code(&person, &c, "read").await;
    let tokens = json(exchange(&person, &c, &code, &verifier).await).await;
    let app_token = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let all = bearers(&held, &app_token);
    all_answer(&person, &all, 200).await;
    assert_eq!(get(&person, "/v1/users/me", &held.session_token).await.status(), 200);
    // A code approved before the account is disabled buys nothing after.
    let (late_code, late_verifier) = obtain_code(&person, &c, "read").await;

    let res = act(&admin, &id, "disable", &[]).await;
    assert_eq!(res.status(), 303);
    assert!(row(&admin.get_html("/admin/users").await, &email).contains(">disabled<"));

    // The browser session ended at once.
    let res = person.get("/account").await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("/signin"));
    // Everything held is refused, the session token for good.
    all_answer(&person, &all, 401).await;
    let res = get(&person, "/v1/users/me", &held.api_key).await;
    let body = json(res).await;
    assert_eq!(body["error"]["code"], "account_disabled", "{body}");
    assert_eq!(get(&person, "/v1/users/me", &held.session_token).await.status(), 401);
    assert_eq!(login_v0(&person, &held.personal_token).await.status(), 401);
    assert_eq!(introspect(&admin, &c, &app_token).await["active"], false);
    assert_eq!(introspect(&admin, &c, &refresh_token).await["active"], false);
    assert_eq!(introspect(&admin, &rs, &held.api_key).await["active"], false);
    let res = refresh(&person, &c, &refresh_token, None).await;
    assert_eq!(res.status(), 400);
    assert_eq!(json(res).await["error"], "invalid_grant");
    let res = exchange(&person, &c, &late_code, &late_verifier).await;
    assert_eq!(res.status(), 400);
    assert_eq!(json(res).await["error"], "invalid_grant");

    // Sign-in is refused with a clear message, even with the right password.
    let res = person.sign_in(&email, PASSWORD).await;
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("This account has been disabled"));

    // Enabling restores sign-in and what was suspended.
    let res = act(&admin, &id, "enable", &[]).await;
    assert_eq!(res.status(), 303);
    let res = person.sign_in(&email, PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(person.get("/account").await.status(), 200);
    all_answer(&person, &all, 200).await;
    assert_eq!(login_v0(&person, &held.personal_token).await.status(), 200);
    assert_eq!(introspect(&admin, &c, &app_token).await["active"], true);
    assert_eq!(refresh(&person, &c, &refresh_token, None).await.status(), 200);
    // The session token ended with its session and stays ended.
    assert_eq!(get(&person, "/v1/users/me", &held.session_token).await.status(), 401);

    let disabled = events(&admin, "user.disabled").await;
    assert_eq!(disabled.len(), 1, "{disabled:?}");
    assert_eq!(disabled[0]["subject_user_id"], id.as_str());
    assert_eq!(disabled[0]["actor_type"], "user");
    assert_eq!(events(&admin, "user.enabled").await.len(), 1);
    let refused = events(&admin, "signin.failure").await;
    assert!(
        refused
            .iter()
            .any(|e| e["detail"]["reason"] == "account_disabled"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_wrong_password_for_a_disabled_account_says_nothing_about_it() {
    let (admin, person, email, id) = admin_and_person().await;
    assert_eq!(act(&admin, &id, "disable", &[]).await.status(), 303);
    let res = person.sign_in(&email, "not the password").await;
    assert_eq!(res.status(), 401);
    let page = res.text().await.unwrap();
    assert!(!page.contains("disabled"), "only the right password learns it");
}
