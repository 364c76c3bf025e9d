//! The audit log page and its export: the type picker lists every type the server records,
//! prefix search, actors by name and public id, short user agents, pagination, and CSV / JSON
//! exports of exactly the filtered view, for administrators only.

use std::path::Path;

use serde_json::Value;

use crate::helpers::{TestApp, client, client_with_headers, spawn_app};

/// Every `"family.name"` literal recorded as an event type in `src`: the first string argument
/// of `AuditEvent::here(`/`AuditEvent::new(` and of the services' own recorders.
fn recorded_types(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            recorded_types(&path, out);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        for call in [
            "AuditEvent::here(",
            "AuditEvent::new(",
            "self.audit(",
            "self.audit_detail(",
            "ctx.record(event(",
            "record(\n        ctx,\n        access,\n",
            "record(ctx, access, ",
        ] {
            for (at, _) in src.match_indices(call) {
                let rest = src[at + call.len()..].trim_start();
                if let Some(lit) = rest.strip_prefix('"') {
                    out.push(lit.split('"').next().unwrap().to_owned());
                }
            }
        }
        // Types chosen by a condition (`if granted { "consent.granted" } else { … }`).
        for family in ["consent."] {
            for (at, _) in src.match_indices(&format!("\"{family}")) {
                let lit = &src[at + 1..];
                out.push(lit.split('"').next().unwrap().to_owned());
            }
        }
    }
}

#[test]
fn every_event_type_the_code_records_is_in_the_pickers_list() {
    let mut found = Vec::new();
    recorded_types(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
    found.retain(|t| !t.is_empty() && !t.ends_with(".html"));
    assert!(found.len() > 40, "the recorders were found: {found:?}");
    for t in &found {
        assert!(
            portcullis::domain::audit::EVENT_TYPES.contains(&t.as_str()),
            "{t} is recorded but missing from audit::EVENT_TYPES"
        );
    }
    let mut sorted = portcullis::domain::audit::EVENT_TYPES.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, portcullis::domain::audit::EVENT_TYPES, "sorted, once each");
}

/// An administrator (the first account) and another person who failed and then managed to sign
/// in from a browser whose user agent is a spreadsheet formula.
async fn setup() -> (TestApp, TestApp, String) {
    let admin = spawn_app().await;
    admin.signed_in_user().await;
    let bob = TestApp::with_client(
        &admin,
        client_with_headers(&[(
            "user-agent",
            "=HYPERLINK(\"http://evil.example\") Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Safari/537.36",
        )]),
    );
    let bob_email = bob.signed_in_user().await;
    bob.sign_out().await;
    assert_eq!(bob.sign_in(&bob_email, "wrong wrong wrong").await.status(), 401);
    assert_eq!(bob.sign_in(&bob_email, "correct horse battery").await.status(), 303);
    (admin, bob, bob_email)
}

fn rows(page: &str) -> Vec<String> {
    page.match_indices("data-type=\"")
        .map(|(at, m)| page[at + m.len()..].split('"').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_type_picker_lists_known_types_and_a_prefix_matches_every_type_it_starts() {
    let (admin, _, _) = setup().await;
    let page = admin.get_html("/admin/audit-log").await;
    assert!(page.contains("<datalist id=\"event-types\">"));
    for t in ["signin.failure", "token.issued", "credential.created"] {
        assert!(page.contains(&format!("<option value=\"{t}\">")), "{t}");
    }

    let exact = rows(&admin.get_html("/admin/audit-log?event_type=signin.failure").await);
    assert_eq!(exact, ["signin.failure"]);
    let prefixed = rows(&admin.get_html("/admin/audit-log?event_type=signin.").await);
    assert!(prefixed.contains(&"signin.failure".to_owned()));
    assert!(prefixed.contains(&"signin.success".to_owned()));
    assert!(prefixed.iter().all(|t| t.starts_with("signin.")), "{prefixed:?}");
    // `_` is a letter here, not LIKE's wildcard.
    let none = rows(&admin.get_html("/admin/audit-log?event_type=sign_n.").await);
    assert!(none.is_empty(), "{none:?}");
}

#[tokio::test]
async fn actors_are_shown_by_name_and_account_id_and_agents_by_browser_and_system() {
    let (admin, bob, _) = setup().await;
    let account = bob.get_html("/account").await;
    let marker = "<dt>Account id</dt><dd><code>";
    let at = account.find(marker).unwrap() + marker.len();
    let public_id = account[at..].split('<').next().unwrap().to_owned();
    assert!(public_id.starts_with("usr_"), "{public_id}");

    let page = admin.get_html("/admin/audit-log?event_type=signin.success").await;
    assert!(
        page.contains(&format!("Test User <code>{public_id}</code>")),
        "the actor by name and the id the account page shows: {page}"
    );
    assert!(page.contains(">Chrome 126 on Linux</span>"), "{page}");
    assert!(
        page.contains("title=\"=HYPERLINK(&#34;http://evil.example&#34;) Mozilla/5.0"),
        "the full agent in a title: {page}"
    );
    // The actor filter takes the same id.
    let by_bob = rows(&admin.get_html(&format!("/admin/audit-log?actor_id={public_id}")).await);
    assert!(!by_bob.is_empty() && by_bob.iter().all(|t| t != "account.created" || by_bob.len() > 1));
}

#[tokio::test]
async fn csv_and_json_exports_hold_exactly_the_filtered_events_with_formulas_neutralised() {
    let (admin, _, _) = setup().await;
    let res = admin
        .get("/admin/audit-log/export?format=json&event_type=signin.")
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"audit-log.json\""
    );
    let events: Vec<Value> = res.json().await.unwrap();
    let page = rows(&admin.get_html("/admin/audit-log?event_type=signin.").await);
    let exported: Vec<String> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(exported, page, "the same events as the page, newest first");

    let res = admin
        .get("/admin/audit-log/export?format=csv&event_type=signin.failure")
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"audit-log.csv\""
    );
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("id,at,event_type,outcome"), "{csv}");
    assert_eq!(lines.len(), 2, "one failed sign-in: {csv}");
    assert!(lines[1].contains("\"signin.failure\""), "{csv}");
    assert!(
        lines[1].contains("\"'=HYPERLINK(\"\"http://evil.example\"\")"),
        "the formula is neutralised: {csv}"
    );
    assert!(!lines[1].contains(",\"=HYPERLINK"), "{csv}");

    let res = admin.get("/admin/audit-log/export?format=xml").await;
    assert_eq!(res.status(), 422);
}

#[tokio::test]
async fn the_export_is_refused_to_people_who_are_not_administrators_and_to_visitors() {
    let (admin, bob, _) = setup().await;
    let res = bob.get("/admin/audit-log/export?format=csv").await;
    assert_eq!(res.status(), 403);
    let body = res.text().await.unwrap();
    assert!(!body.contains("signin.failure"), "{body}");
    let visitor = TestApp::with_client(&admin, client());
    let res = visitor.get("/admin/audit-log/export?format=json").await;
    assert_eq!(res.status(), 303);
    assert!(res.headers()["location"].to_str().unwrap().starts_with("/signin"));
}

#[tokio::test]
async fn older_events_are_on_the_next_page_newest_first() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let token = app.session_token().await;
    for i in 0..55 {
        crate::helpers::create_api_key(&app, &token, &format!("k{i}"), &["read"]).await;
    }
    let ids = |page: &str| -> Vec<String> {
        page.match_indices("data-id=\"")
            .map(|(at, m)| page[at + m.len()..].split('"').next().unwrap().to_owned())
            .collect()
    };
    let first = app
        .get_html("/admin/audit-log?event_type=credential.created")
        .await;
    let first_ids = ids(&first);
    assert_eq!(first_ids.len(), 50);
    let mut sorted = first_ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(first_ids, sorted, "newest first");

    let marker = "href=\"?";
    let at = first.find(marker).expect("a link to older events") + marker.len();
    let older_link = first[at..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(older_link.contains("cursor="), "{older_link}");
    let second = app.get_html(&format!("/admin/audit-log?{older_link}")).await;
    let second_ids = ids(&second);
    assert_eq!(second_ids.len(), 5, "the rest");
    assert!(
        second_ids.iter().all(|id| id < first_ids.last().unwrap()),
        "older than the first page"
    );
    assert!(second.contains("id=\"newest\""), "a way back to the newest");
    assert!(!second.contains("id=\"older\""), "nothing older");
}

#[tokio::test]
async fn the_admin_page_charts_failure_events_per_day() {
    let (admin, _, _) = setup().await;
    let page = admin.get_html("/admin/audit-log").await;
    let at = page.find("id=\"failures-chart\"").expect("the chart");
    let chart = &page[at..];
    assert!(chart.contains("<svg"), "{chart}");
    assert!(
        chart.contains("aria-label=\"Failure events per day, last 30 days: 1 failure event\""),
        "one failed sign-in: {chart}"
    );
}
