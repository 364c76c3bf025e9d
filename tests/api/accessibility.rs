//! Every page, checked by axe-core (from the npm registry) inside headless Chromium: no
//! serious or critical violation of WCAG 2.2 A/AA rules. The pages come from the route table
//! (as the route walk reads it), so a new page is checked without being listed here. Also
//! the credentials page at phone width: labelled stacked rows, screenshot saved.

use std::path::PathBuf;
use std::process::Command;

use fantoccini::{Client, Locator};
use reqwest::Method;
use serde_json::json;

use crate::browser::{artifacts_dir, screenshot, sign_in, with_browser};
use crate::helpers::{TestApp, create_tenant, spawn_app};
use crate::tenancy::call;

/// The version of axe-core the check runs.
const AXE: &str = "axe-core@4.10.3";

/// `axe.min.js`, installed once under `target/axe` with the machine's npm.
fn axe_source() -> String {
    let dir = artifacts_dir().parent().unwrap().join("axe");
    let file: PathBuf = dir.join("node_modules/axe-core/axe.min.js");
    if !file.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let status = Command::new("npm")
            .args(["install", "--no-save", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(&dir)
            .arg(AXE)
            .status()
            .expect("npm (Node.js) is needed to fetch axe-core");
        assert!(status.success(), "npm install {AXE} failed");
    }
    std::fs::read_to_string(&file).unwrap()
}

/// The serious and critical violations axe finds on the page the browser shows.
async fn violations(b: &Client, axe: &str) -> Vec<String> {
    b.execute(axe, vec![]).await.unwrap();
    let found = b
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] })
              .then((r) => done(r.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)))
              .catch((e) => done([`axe failed: ${e}`]));"#,
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap()
}

/// GET pages to check: every route without a placeholder, and the ones with ids filled in.
async fn pages(app: &TestApp, token: &str) -> Vec<String> {
    let mut out: Vec<String> = crate::route_walk::page_routes()
        .into_iter()
        .filter(|(method, path)| method == "GET" && !path.contains('{'))
        .map(|(_, path)| path)
        .filter(|p| !["/healthz", "/livez", "/signout", "/api/v1/docs", "/settings/reveal"].contains(&p.as_str()))
        .filter(|p| !p.starts_with("/admin/audit-log/export") && !p.starts_with("/.well-known"))
        .collect();
    let (key_id, _) = crate::helpers::create_api_key(app, token, "Nightly", &["read"]).await;
    out.push(format!("/settings/credentials/{key_id}/usage"));
    let apps: serde_json::Value = call(app, Method::GET, "/api/v1/auth-management/clients", token, None)
        .await
        .json()
        .await
        .unwrap();
    let _ = apps;
    out
}

#[tokio::test]
async fn every_page_passes_axe_core_without_serious_or_critical_violations() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let tenant = create_tenant(&app, "Acme").await;
    let token = app.session_token().await;
    call(
        &app,
        Method::POST,
        "/api/v1/auth-management/clients",
        &token,
        Some(json!({"name": "ETL"})),
    )
    .await;
    let register = app
        .post_form(
            "/settings/apps",
            "/settings/apps",
            &[
                ("name", "Example app"),
                ("redirect_uris", "https://app.example/cb"),
                ("scope", "read"),
                ("client_type", "confidential"),
            ],
        )
        .await;
    let reveal = app.reveal(register).await.text().await.unwrap();
    let marker = "id=\"client-id\">";
    let client_id = reveal[reveal.find(marker).unwrap() + marker.len()..]
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let mut paths = pages(&app, &token).await;
    paths.push(format!("/settings/apps/{client_id}"));
    paths.push(format!("/admin/tenants/{tenant}"));
    let visitor_paths = ["/signin", "/signup", "/forgot-password"];
    let base = app.address.clone();
    let axe = axe_source();
    with_browser("accessibility", move |b| async move {
        let mut failures = Vec::new();
        for path in visitor_paths {
            b.goto(&format!("{base}{path}")).await.unwrap();
            for v in violations(&b, &axe).await {
                failures.push(format!("{path} (visitor): {v}"));
            }
        }
        sign_in(&b, &base, &email, "correct horse battery").await;
        for path in &paths {
            b.goto(&format!("{base}{path}")).await.unwrap();
            for v in violations(&b, &axe).await {
                failures.push(format!("{path}: {v}"));
            }
        }
        // A reveal page, and a page with an error message on it.
        b.goto(&format!("{base}/settings/credentials")).await.unwrap();
        b.find(Locator::Id("create-session-token")).await.unwrap().click().await.unwrap();
        crate::browser::wait_for_path(&b, "/settings/reveal").await;
        for v in violations(&b, &axe).await {
            failures.push(format!("/settings/reveal: {v}"));
        }
        assert!(paths.len() > 20, "the pages were found: {paths:?}");
        assert!(failures.is_empty(), "accessibility violations:\n{}", failures.join("\n"));

        // Exact UTC times in tables read as relative times, exact on hover; every cell carries
        // its column's name for the phone layout.
        b.goto(&format!("{base}/admin/audit-log")).await.unwrap();
        let enhanced = b
            .execute(
                "return [document.querySelectorAll('td > time[title$=\" UTC\"]').length, \
                 document.querySelectorAll('tbody td[data-label]').length]",
                vec![],
            )
            .await
            .unwrap();
        assert!(enhanced[0].as_u64().unwrap() > 0, "relative times: {enhanced}");
        assert!(enhanced[1].as_u64().unwrap() > 0, "labelled cells: {enhanced}");

        // The phone layout: rows stack, each cell says what it is.
        b.set_window_size(390, 844).await.unwrap();
        b.goto(&format!("{base}/settings/credentials")).await.unwrap();
        let head = b
            .execute(
                "return getComputedStyle(document.querySelector('#api-keys thead')).display",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(head, "none", "column heads give way to labels");
        let label = b
            .execute(
                "return getComputedStyle(document.querySelector('#api-keys td[data-label]'), '::before').content",
                vec![],
            )
            .await
            .unwrap();
        assert!(label.as_str().unwrap().contains("Name"), "{label}");
        let wide = b
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(wide, true, "nothing scrolls sideways");
        screenshot(&b, "credentials-phone").await;
    })
    .await;
}
