//! Walks every route instead of naming them: each operation of the OpenAPI document and each
//! settings, account and admin page registered in `src/http` must refuse an unauthenticated
//! caller, and every route that names a tenant or something inside one must refuse a signed-in
//! person who is not a member. A new route that forgets to ask the policy fails here.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client, csrf_token, spawn_app};
use crate::tenancy::*;

/// Routes anyone may use.
const PUBLIC: [&str; 12] = [
    "/",
    "/healthz",
    "/livez",
    "/signin",
    "/signup",
    "/signout",
    "/forgot-password",
    "/reset-password",
    "/verify-email",
    "/static/{file}",
    "/auth/token",
    "/api/v1/docs",
];

/// `(method, path)` of every route registered in the page modules, read from their source so a
/// new one is walked without being listed here.
pub(crate) fn page_routes() -> BTreeSet<(String, String)> {
    let sources = [
        include_str!("../../src/http/mod.rs"),
        include_str!("../../src/http/pages/mod.rs"),
    ];
    let mut out = BTreeSet::new();
    for src in sources {
        let mut rest = src;
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let Some(q) = rest.find('"') else { break };
            let path: String = rest[q + 1..].split('"').next().unwrap().to_owned();
            let after = &rest[q + 1 + path.len()..];
            let method = ["get", "post", "put", "delete"]
                .into_iter()
                .filter_map(|m| after.find(&format!("web::{m}()")).map(|i| (i, m)))
                .min()
                .unwrap()
                .1;
            out.insert((method.to_uppercase(), path));
        }
    }
    assert!(out.len() > 30, "the route table was read: {out:?}");
    out
}

/// Fills a route's placeholders with ids of the tenant's things (an outsider must not reach
/// them) or, where nothing fits, a random id.
struct Ids {
    tenant: String,
    system_credential: String,
    key_id: String,
    owner_id: String,
    invitation: String,
}

fn fill(path: &str, ids: &Ids) -> String {
    let random = uuid::Uuid::new_v4().to_string();
    let mut out = path.to_owned();
    let subs: [(&str, &str); 9] = [
        ("/admin/tenants/{id}", ids.tenant.as_str()),
        (
            "/admin/system-credentials/{id}",
            ids.system_credential.as_str(),
        ),
        ("/admin/credentials/{id}", ids.key_id.as_str()),
        ("{kind}", "api_key"),
        ("{user_id}", ids.owner_id.as_str()),
        ("{invitation_id}", ids.invitation.as_str()),
        ("/account/invitations/{id}", ids.invitation.as_str()),
        ("/settings/credentials/api_key/{id}", ids.key_id.as_str()),
        ("/settings/credentials/{id}/usage", ids.key_id.as_str()),
    ];
    for (from, to) in subs {
        if from.starts_with('{') {
            out = out.replace(from, to);
        } else if out.starts_with(from) || out.contains(from) {
            out = out.replacen(from, &from.replace("{id}", to), 1);
        }
    }
    if out.contains("/api_key/{id}") {
        out = out.replace("{id}", &ids.key_id);
    }
    while let (Some(a), Some(b)) = (out.find('{'), out.find('}')) {
        out.replace_range(a..=b, &random);
    }
    out
}

async fn setup() -> (TestApp, TestApp, Ids) {
    let owner = spawn_app().await;
    owner.signed_in_user().await;
    let tenant = create_tenant(&owner, "Acme").await;
    switch_to(&owner, &tenant).await;
    let token = owner.session_token().await;
    let (key_id, _) = crate::helpers::create_api_key(&owner, &token, "k", &["read"]).await;
    let sys: Value = call(
        &owner,
        Method::POST,
        "/api/v1/auth-management/clients",
        &token,
        Some(json!({"name": "ETL"})),
    )
    .await
    .json()
    .await
    .unwrap();
    let res = call(
        &owner,
        Method::POST,
        &format!("/api/v1/{tenant}/invitations"),
        &token,
        Some(json!({"email": "someone@example.com", "role": "viewer"})),
    )
    .await;
    assert_eq!(res.status(), 202);
    let pending: Value = call(
        &owner,
        Method::GET,
        &format!("/api/v1/{tenant}/invitations"),
        &token,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let ids = Ids {
        owner_id: stored_user_id(&owner).await,
        invitation: pending["data"][0]["id"].as_str().unwrap().to_owned(),
        system_credential: sys["client_id"].as_str().unwrap().to_owned(),
        key_id,
        tenant,
    };
    let outsider = TestApp::with_client(&owner, client());
    outsider.signed_in_user().await;
    (owner, outsider, ids)
}

#[tokio::test]
async fn every_page_refuses_a_visitor_who_is_not_signed_in() {
    let (owner, _, ids) = setup().await;
    let visitor = TestApp::with_client(&owner, client());
    for (method, path) in page_routes() {
        if PUBLIC.contains(&path.as_str()) {
            continue;
        }
        let url = visitor.url(&fill(&path, &ids));
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let res = visitor
            .client
            .request(method.clone(), &url)
            .form(&[("csrf_token", "x")])
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let to_signin = status == 303
            && res
                .headers()
                .get("location")
                .is_some_and(|l| l.to_str().unwrap().starts_with("/signin"));
        assert!(
            to_signin || status == 403,
            "{method} {path} answered {status} to a visitor"
        );
    }
}

#[tokio::test]
async fn every_page_naming_a_tenants_thing_refuses_a_non_member() {
    let (owner, outsider, ids) = setup().await;
    let page = outsider.get_html("/account").await;
    let csrf = csrf_token(&page);
    let mut walked = 0;
    for (method, path) in page_routes() {
        if !path.contains('{') || PUBLIC.contains(&path.as_str()) {
            continue;
        }
        walked += 1;
        let filled = fill(&path, &ids);
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let res = outsider
            .client
            .request(method.clone(), outsider.url(&filled))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("role", "admin"),
                ("email", "x@example.com"),
            ])
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        assert!(
            [403, 404].contains(&status),
            "{method} {path} ({filled}) answered {status} to a non-member"
        );
    }
    assert!(walked >= 10, "walked {walked} routes");
    // Nothing of the tenant's changed.
    let token = owner.session_token().await;
    let creds: Value = call(
        &owner,
        Method::GET,
        &format!("/api/v1/{}/credentials", ids.tenant),
        &token,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(creds.to_string().contains(&ids.key_id));
    let sys = call(
        &owner,
        Method::GET,
        "/api/v1/auth-management/clients",
        &token,
        None,
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(sys.contains(&ids.system_credential));
}

/// Every operation of the OpenAPI document: (method, path, security scheme names).
async fn operations(app: &TestApp) -> Vec<(Method, String, Vec<String>)> {
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let schemes = op["security"]
                .as_array()
                .map(|reqs| {
                    reqs.iter()
                        .flat_map(|r| r.as_object().unwrap().keys().cloned())
                        .collect()
                })
                .unwrap_or_default();
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            out.push((method, path.clone(), schemes));
        }
    }
    assert!(out.len() > 25, "the document lists the API");
    out
}

#[tokio::test]
async fn every_secured_api_operation_refuses_a_caller_without_credentials() {
    let (owner, _, ids) = setup().await;
    for (method, path, schemes) in operations(&owner).await {
        if schemes.is_empty() {
            assert!(
                PUBLIC.contains(&path.as_str()),
                "{method} {path} declares no security: add it or list it as public"
            );
            continue;
        }
        let filled = path.replace("{tenant_id}", &ids.tenant);
        let filled = fill(&filled, &ids);
        let res = owner
            .client
            .request(method.clone(), owner.url(&filled))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{method} {path} without credentials");
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            body["error"]["status"], 401,
            "{method} {path}: house error shape"
        );
    }
}

#[tokio::test]
async fn every_api_operation_naming_a_tenant_refuses_a_non_member() {
    let (owner, outsider, ids) = setup().await;
    let token = outsider.session_token().await;
    let mut walked = 0;
    for (method, path, _) in operations(&owner).await {
        if !path.contains("{tenant_id}") {
            continue;
        }
        walked += 1;
        let filled = fill(&path.replace("{tenant_id}", &ids.tenant), &ids);
        let res = call(&outsider, method.clone(), &filled, &token, Some(json!({}))).await;
        let status = res.status().as_u16();
        assert!(
            [403, 404].contains(&status),
            "{method} {path} answered {status} to a non-member"
        );
    }
    assert!(walked >= 15, "walked {walked} operations");
}
