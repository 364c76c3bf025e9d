//! Usage over time: requests made with a credential or an OAuth app's tokens are counted, written
//! as hourly and daily rollups, shown as SVG charts and answered by the REST API to those who may
//! see them, kept across restarts and removed by the janitor once past their retention.

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::helpers::{TestApp, client, create_api_key, spawn_app};
use crate::oauth_helpers::{client_credentials, machine_client};

/// Sends `ok` requests that succeed and `bad` that fail with the API key `key`.
async fn use_key(app: &TestApp, key: &str, ok: usize, bad: usize) {
    for _ in 0..ok {
        let res = app
            .client
            .get(app.url("/v1/users/me"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    for _ in 0..bad {
        // A tenant the key is not bound to: refused by the policy.
        let res = app
            .client
            .get(app.url("/api/v1/no-such-tenant/access"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{}", res.status());
    }
}

async fn usage_of(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/v1/credentials/{id}/usage")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// (requests, failures) summed over a series.
fn sums(series: &Value) -> (i64, i64) {
    series.as_array().unwrap().iter().fold((0, 0), |(r, f), p| {
        (
            r + p["requests"].as_i64().unwrap(),
            f + p["failures"].as_i64().unwrap(),
        )
    })
}

/// A signed-in person with an API key: (app, session token, key id, key secret).
async fn holder() -> (TestApp, String, String, String) {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let token = app.session_token().await;
    let (id, key) = create_api_key(&app, &token, "charts", &["read"]).await;
    (app, token, id, key)
}

#[tokio::test]
async fn requests_with_an_api_key_show_in_hourly_and_daily_rollups_and_survive_a_restart() {
    let (app, token, id, key) = holder().await;
    use_key(&app, &key, 3, 2).await;

    let res = usage_of(&app, &token, &id).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["hourly"].as_array().unwrap().len(), 48);
    assert_eq!(body["daily"].as_array().unwrap().len(), 30);
    assert_eq!(sums(&body["hourly"]), (5, 2), "{body}");
    assert_eq!(sums(&body["daily"]), (5, 2), "{body}");
    let today = &body["daily"][29];
    assert_eq!(
        today["start"].as_i64().unwrap() % 86_400,
        0,
        "days start at midnight UTC"
    );

    let app = app.restart().await;
    let body: Value = usage_of(&app, &token, &id).await.json().await.unwrap();
    assert_eq!(sums(&body["daily"]), (5, 2), "kept across the restart");

    // Counted by the new server, added to the same buckets.
    use_key(&app, &key, 1, 0).await;
    let body: Value = usage_of(&app, &token, &id).await.json().await.unwrap();
    assert_eq!(sums(&body["hourly"]), (6, 2));
}

#[tokio::test]
async fn a_credential_refused_for_its_address_counts_a_failure() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let token = app.session_token().await;
    let res = app
        .client
        .post(app.url("/api/v1/active/api-keys"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "fenced", "permissions": ["read"], "allowed_ips": ["192.0.2.1"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let (id, key) = (created["id"].as_str().unwrap(), created["key"].as_str().unwrap());
    let res = app
        .client
        .get(app.url("/v1/users/me"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let body: Value = usage_of(&app, &token, id).await.json().await.unwrap();
    assert_eq!(sums(&body["daily"]), (1, 1), "{body}");
}

#[tokio::test]
async fn the_usage_page_and_the_credentials_page_draw_svg_labelled_with_the_counts() {
    let (app, _, id, key) = holder().await;
    use_key(&app, &key, 4, 1).await;

    let res = app.get(&format!("/settings/credentials/{id}/usage")).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("<svg"), "{page}");
    assert!(
        page.contains("aria-label=\"Last 48 hours, hourly: 5 requests, 1 failure\""),
        "{page}"
    );
    assert!(
        page.contains("aria-label=\"Last 30 days, daily: 5 requests, 1 failure\""),
        "{page}"
    );
    assert_eq!(
        page.matches("<script").count(),
        1,
        "no script besides the layout's own file"
    );
    assert!(!page.contains("style=\""), "no inline style");

    let list = app.get_html("/settings/credentials").await;
    assert!(
        list.contains(&format!("href=\"/settings/credentials/{id}/usage\"")),
        "the row links to its usage"
    );
    assert!(
        list.contains("aria-label=\"5 requests and 1 failure in the last 30 days; per day:"),
        "{list}"
    );
}

#[tokio::test]
async fn usage_is_refused_to_visitors_and_hidden_from_other_people() {
    let (app, _, id, key) = holder().await;
    use_key(&app, &key, 1, 0).await;

    // No credential at all.
    let res = app
        .client
        .get(app.url(&format!("/api/v1/credentials/{id}/usage")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let visitor = TestApp::with_client(&app, client());
    let res = visitor
        .get(&format!("/settings/credentials/{id}/usage"))
        .await;
    assert_eq!(res.status(), 303, "a visitor is sent to sign in");

    // Someone else, signed in, with a token of their own.
    let other = TestApp::with_client(&app, client());
    other.signed_in_user().await;
    let token = other.session_token().await;
    let res = usage_of(&other, &token, &id).await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["status"], 404);
    assert_eq!(
        other
            .get(&format!("/settings/credentials/{id}/usage"))
            .await
            .status(),
        404
    );
    // An id that names nothing looks the same.
    assert_eq!(usage_of(&other, &token, "nope").await.status(), 404);
}

#[tokio::test]
async fn an_apps_tokens_and_their_requests_are_charted_for_whoever_manages_it() {
    let app = spawn_app().await;
    // The first account administers the server, and so sees every app.
    app.signed_in_user().await;
    let c = machine_client(&app).await;
    let mut failures = 0;
    for _ in 0..2 {
        let res = client_credentials(&app, &c).await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        let res = app
            .client
            .get(app.url("/v1/users/me"))
            .bearer_auth(body["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        failures += i64::from(res.status().as_u16() >= 400);
    }
    let page = app.get_html(&format!("/settings/apps/{}/usage", c.id)).await;
    assert!(
        page.contains(&format!(
            "aria-label=\"Last 30 days, daily: 2 requests, {failures} failure"
        )),
        "requests made with its tokens: {page}"
    );
    assert!(
        page.contains("aria-label=\"Last 30 days, daily: 2 requests, 0 failures\""),
        "tokens issued: {page}"
    );
    let list = app.get_html("/settings/apps").await;
    assert!(list.contains(&format!("href=\"/settings/apps/{}/usage\"", c.id)));
    assert!(list.contains("aria-label=\"2 requests and"), "{list}");

    let other = TestApp::with_client(&app, client());
    other.signed_in_user().await;
    let res = other.get(&format!("/settings/apps/{}/usage", c.id)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// Rollup rows stored, by granularity: (hour, day).
async fn stored(app: &TestApp) -> (i64, i64) {
    let rows = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT granularity, COUNT(*) AS n FROM usage_rollups GROUP BY granularity",
        ))
        .await
        .unwrap();
    let mut out = (0, 0);
    for r in rows {
        let g: String = r.try_get("", "granularity").unwrap();
        let n: i64 = r.try_get("", "n").unwrap();
        match g.as_str() {
            "hour" => out.0 = n,
            "day" => out.1 = n,
            other => panic!("granularity {other}"),
        }
    }
    out
}

/// One pass of the janitor at the app's time, with 90 days of audit events kept.
async fn purge(app: &TestApp) {
    portcullis::runtime::purge::run_once(&portcullis::storage::writer::Writer::direct(&app.db), app.clock.now(), 90)
        .await
        .unwrap();
}

#[tokio::test]
async fn old_rollups_are_removed_by_the_janitor_once_past_their_retention() {
    let (app, token, id, key) = holder().await;
    use_key(&app, &key, 2, 0).await;
    assert_eq!(usage_of(&app, &token, &id).await.status(), 200);
    let (hours, days) = stored(&app).await;
    assert!(hours >= 1 && days >= 1, "written: {hours} hourly, {days} daily");

    purge(&app).await;
    assert_eq!(stored(&app).await, (hours, days), "nothing young is removed");

    app.clock.advance(9 * 86_400);
    purge(&app).await;
    assert_eq!(stored(&app).await, (0, days), "hourly rows go after about 8 days");

    app.clock.advance(392 * 86_400);
    purge(&app).await;
    assert_eq!(stored(&app).await, (0, 0), "daily rows go after about 400 days");
}

#[tokio::test]
async fn the_usage_flush_is_counted_in_the_metrics() {
    const SCRAPE: &str = "scrape-usage-0123456789abcdef";
    let app = crate::helpers::spawn_app_with(|s| s.metrics_token = Some(SCRAPE.parse().unwrap()))
        .await;
    app.signed_in_user().await;
    let token = app.session_token().await;
    let (id, key) = create_api_key(&app, &token, "metered", &["read"]).await;
    use_key(&app, &key, 1, 0).await;
    // Reading the usage writes what was counted: an hourly and a daily row at least.
    assert_eq!(usage_of(&app, &token, &id).await.status(), 200);
    let text = client()
        .get(app.url("/metrics"))
        .bearer_auth(SCRAPE)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("portcullis_usage_rollup_rows_written_total "))
        .unwrap_or_else(|| panic!("no usage counter: {text}"));
    let n: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    // The recorder is the process's, shared by every test's server: at least this one's rows.
    assert!(n >= 2.0, "{line}");
}

#[tokio::test]
async fn a_tenants_administrators_see_a_members_usage_and_a_removed_members_key_counts_failures() {
    use crate::tenancy::{create_tenant, join, remove, switch_to};
    // No caching, so the removal is seen by the next request.
    let admin = crate::helpers::spawn_app_with(|s| s.cache_ttl_ms = 0).await;
    admin.signed_in_user().await;
    let tenant = create_tenant(&admin, "Acme").await;
    let member = TestApp::with_client(&admin, client());
    let email = member.signed_in_user().await;
    join(&admin, &tenant, &member, &email, "editor").await;
    switch_to(&member, &tenant).await;
    let member_token = member.session_token().await;
    let (id, key) = create_api_key(&member, &member_token, "ci", &["read"]).await;
    use_key(&member, &key, 2, 0).await;

    switch_to(&admin, &tenant).await;
    let admin_token = admin.session_token().await;
    let body: Value = usage_of(&admin, &admin_token, &id).await.json().await.unwrap();
    assert_eq!(sums(&body["daily"]), (2, 0), "the tenant's administrator sees it: {body}");

    remove(&admin, &tenant, &member).await;
    let res = member
        .client
        .get(member.url("/v1/users/me"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "the key died with the membership");
    let body: Value = usage_of(&admin, &admin_token, &id).await.json().await.unwrap();
    assert_eq!(sums(&body["daily"]), (3, 1), "the refused request is a failure: {body}");
}

#[tokio::test]
async fn counts_not_yet_written_are_written_when_the_server_stops() {
    let (app, _, id, key) = holder().await;
    // A second server on the same database, whose end the test awaits.
    let mut settings = app.settings.clone();
    settings.bind = "127.0.0.1:0".parse().unwrap();
    let server = portcullis::startup::Application::build(settings)
        .await
        .unwrap();
    let url = format!("http://127.0.0.1:{}/v1/users/me", server.port());
    let handle = server.handle();
    let running = tokio::spawn(server.run_until_stopped());
    for _ in 0..3 {
        let res = client().get(&url).bearer_auth(&key).send().await.unwrap();
        assert_eq!(res.status(), 200);
    }
    handle.stop(true).await;
    running.await.unwrap().unwrap();

    let rows = app
        .db
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            app.db.get_database_backend(),
            match app.db.get_database_backend() {
                sea_orm::DbBackend::Postgres => {
                    "SELECT requests FROM usage_rollups WHERE subject_id = $1 AND granularity = 'day'"
                }
                _ => "SELECT requests FROM usage_rollups WHERE subject_id = ? AND granularity = 'day'",
            },
            [id.clone().into()],
        ))
        .await
        .unwrap();
    let requests: i64 = rows
        .iter()
        .map(|r| r.try_get::<i64>("", "requests").unwrap())
        .sum();
    assert_eq!(requests, 3, "written by the stopping server");
}
