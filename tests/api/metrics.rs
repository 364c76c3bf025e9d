//! `GET /metrics`: absent unless `--metrics-token` is set, then only for requests bearing it, and
//! after some traffic it shows requests by route pattern, latency, tokens issued, cache use,
//! throttled requests, the database pool and the audit queue.

use crate::helpers::{TestApp, client, spawn_app, spawn_app_with};

const TOKEN: &str = "scrape-0123456789abcdef";

async fn with_metrics(adjust: impl FnOnce(&mut portcullis::config::Settings)) -> TestApp {
    spawn_app_with(|s| {
        s.metrics_token = Some(TOKEN.parse().unwrap());
        adjust(s);
    }).await
}

async fn scrape(app: &TestApp, bearer: Option<&str>) -> reqwest::Response {
    let mut req = client().get(app.url("/metrics"));
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn metrics_are_absent_when_no_metrics_token_is_set() {
    let app = spawn_app().await;
    assert_eq!(scrape(&app, None).await.status(), 404);
    assert_eq!(scrape(&app, Some(TOKEN)).await.status(), 404);
}

#[tokio::test]
async fn metrics_refuse_requests_without_the_metrics_token() {
    let app = with_metrics(|_| {}).await;
    let none = scrape(&app, None).await;
    assert_eq!(none.status(), 401);
    assert_eq!(
        none.headers()["www-authenticate"],
        "Bearer realm=\"portcullis\""
    );
    assert_eq!(
        scrape(&app, Some("scrape-0123456789abcdeX")).await.status(),
        401
    );
    assert_eq!(
        scrape(&app, Some(&TOKEN[..TOKEN.len() - 1])).await.status(),
        401
    );
    // A session token of an administrator is no metrics token.
    app.sign_up("ada@example.com", "Ada Lovelace", "correct horse battery")
        .await;
    let admin = app.session_token().await;
    let res = scrape(&app, Some(&admin)).await;
    assert_eq!(res.status(), 401);
    assert!(!res.text().await.unwrap().contains("portcullis_"));
}

#[tokio::test]
async fn metrics_show_requests_by_route_latency_tokens_caches_throttles_pool_and_audit_queue() {
    let app = with_metrics(|s| {
        s.rate_limit_per_minute = 3;
        s.database_max_connections = Some(5);
    })
    .await;
    app.sign_up("ada@example.com", "Ada Lovelace", "correct horse battery")
        .await;
    let jwt = app.session_token().await;
    let bare = client();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let res = bare
            .get(app.url("/v1/users/me"))
            .bearer_auth(&jwt)
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    let tenant = "0190f3a2-1111-7222-8333-444455556666";
    bare.get(app.url(&format!("/api/v1/{tenant}/access")))
        .send()
        .await
        .unwrap();

    let res = scrape(&app, Some(TOKEN)).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let body = res.text().await.unwrap();
    for series in [
        r#"portcullis_http_requests_total{route="/v1/users/me",method="GET",status="200"}"#,
        r#"portcullis_http_requests_total{route="/v1/users/me",method="GET",status="429"}"#,
        r#"portcullis_http_requests_total{route="/api/v1/{tenant_id}/access",method="GET",status="401"}"#,
        r#"portcullis_http_request_duration_seconds_bucket{route="/v1/users/me",le="0.005"}"#,
        r#"portcullis_http_request_duration_seconds_count{route="/v1/users/me"}"#,
        r#"portcullis_tokens_issued_total{grant="session"}"#,
        r#"portcullis_cache_lookups_total{cache="verified_tokens",result="hit"}"#,
        r#"portcullis_cache_lookups_total{cache="verified_tokens",result="miss"}"#,
        r#"portcullis_throttled_total{kind="rate_limit"}"#,
        r#"portcullis_db_pool_connections{state="in_use"}"#,
        r#"portcullis_db_pool_connections{state="idle"}"#,
        "portcullis_db_pool_max_connections 5",
        "portcullis_audit_queue_depth",
        "portcullis_audit_events_dropped_total",
    ] {
        assert!(body.contains(series), "{series} missing from:\n{body}");
    }
    assert!(!body.contains(tenant), "a path is never a label");
    assert!(!body.contains(&jwt), "nothing secret is exported");
}
