//! The authorization policy, over HTTP: every caller kind × every role × every action against
//! the expected decision, and the walks that make a route which forgets the policy fail.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client, spawn_app};
use crate::oauth_helpers::{self, TestClient};
use crate::tenancy::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Owner,
    Admin,
    Editor,
    Viewer,
    Removed,
    Outsider,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Read,
    Write,
    Delete,
    ManageOwnCredentials,
    ManageMemberCredentials,
    ManageMembers,
    ManageSystemCredentials,
}

const ACTIONS: [Action; 7] = [
    Action::Read,
    Action::Write,
    Action::Delete,
    Action::ManageOwnCredentials,
    Action::ManageMemberCredentials,
    Action::ManageMembers,
    Action::ManageSystemCredentials,
];

impl Action {
    fn manages_access(self) -> bool {
        !matches!(self, Action::Read | Action::Write | Action::Delete)
    }
}

/// The documented roles table.
fn role_allows(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Owner | Role::Admin => true,
        Role::Editor => matches!(action, Read | Write | Delete | ManageOwnCredentials),
        Role::Viewer => matches!(action, Read | ManageOwnCredentials),
        Role::Removed | Role::Outsider => false,
    }
}

fn expected(role: Role, kind: &str, action: Action) -> bool {
    if kind == "oauth_app" && action.manages_access() {
        return false;
    }
    role_allows(role, action)
}

struct Member {
    role: Role,
    app: TestApp,
    callers: Vec<(&'static str, String)>,
}

struct World {
    owner: TestApp,
    tenant: String,
    system_credential: String,
    members: Vec<Member>,
}

async fn app_token(member: &TestApp, c: &TestClient) -> String {
    let (code, verifier) = oauth_helpers::obtain_code(member, c, "read write delete admin").await;
    access_token(oauth_helpers::exchange(member, c, &code, &verifier).await).await
}

/// Every credential kind of a member, minted while they administer the tenant (so each is as
/// strong as it can be), as bearer values.
async fn callers(member: &TestApp, email: &str, c: &TestClient) -> Vec<(&'static str, String)> {
    let held = mint_all(member).await;
    let pt_token = access_token(login_v0(member, &held.personal_token).await).await;
    let usk_token = access_token(auth_token(member, email, &held.secret_key).await).await;
    let exchanged = access_token(exchange_credential(member, &held.api_key, None).await).await;
    vec![
        ("api_key", held.api_key),
        ("pat", held.pat),
        ("personal_token", held.personal_token),
        ("personal_token_exchanged", pt_token),
        ("secret_key_exchanged", usk_token),
        ("session_token", held.session_token),
        ("api_key_exchanged", exchanged),
        ("oauth_app", app_token(member, c).await),
    ]
}

async fn world() -> World {
    let owner = spawn_app().await;
    let owner_email = owner.signed_in_user().await;
    let tenant = create_tenant(&owner, "Acme").await;
    switch_to(&owner, &tenant).await;
    let c = oauth_helpers::register(&owner, "read write delete admin", false, &[]).await;
    let owner_callers = callers(&owner, &owner_email, &c).await;
    let token = owner.session_token().await;
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
    let system_credential = sys["client_id"].as_str().unwrap().to_owned();
    let mut members = vec![Member {
        role: Role::Owner,
        app: TestApp::with_client(&owner, owner.client.clone()),
        callers: owner_callers,
    }];
    for role in [
        Role::Admin,
        Role::Editor,
        Role::Viewer,
        Role::Removed,
        Role::Outsider,
    ] {
        let m = TestApp::with_client(&owner, client());
        let email = m.signed_in_user().await;
        if role != Role::Outsider {
            join(&owner, &tenant, &m, &email, "admin").await;
            switch_to(&m, &tenant).await;
        }
        let held = callers(&m, &email, &c).await;
        match role {
            Role::Editor => set_role(&owner, &tenant, &m, "editor").await,
            Role::Viewer => set_role(&owner, &tenant, &m, "viewer").await,
            Role::Removed => remove(&owner, &tenant, &m).await,
            _ => {}
        }
        members.push(Member {
            role,
            app: m,
            callers: held,
        });
    }
    World {
        owner,
        tenant,
        system_credential,
        members,
    }
}

fn tomorrow() -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Whether the tenant's policy let `bearer` do `action` in the tenant; the status on the way.
async fn probe(w: &World, bearer: &str, action: Action) -> (bool, u16) {
    let t = &w.tenant;
    let app = &w.owner;
    let res = match action {
        Action::Read => {
            call(
                app,
                Method::GET,
                &format!("/api/v1/{t}/api-keys"),
                bearer,
                None,
            )
            .await
        }
        Action::Write | Action::Delete => {
            let res = call(
                app,
                Method::GET,
                &format!("/api/v1/{t}/access"),
                bearer,
                None,
            )
            .await;
            let status = res.status().as_u16();
            if status != 200 {
                return (false, status);
            }
            let body: Value = res.json().await.unwrap();
            let name = if action == Action::Write {
                "write"
            } else {
                "delete"
            };
            let listed = body["actions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == name);
            return (listed, status);
        }
        Action::ManageOwnCredentials => {
            call(
                app,
                Method::POST,
                &format!("/api/v1/{t}/api-keys"),
                bearer,
                Some(json!({"name": "probe", "permissions": ["read"], "expires_at": tomorrow()})),
            )
            .await
        }
        Action::ManageMemberCredentials => {
            call(
                app,
                Method::GET,
                &format!("/api/v1/{t}/credentials"),
                bearer,
                None,
            )
            .await
        }
        Action::ManageMembers => {
            call(
                app,
                Method::GET,
                &format!("/api/v1/{t}/invitations"),
                bearer,
                None,
            )
            .await
        }
        Action::ManageSystemCredentials => {
            let res = call(
                app,
                Method::GET,
                "/api/v1/auth-management/clients",
                bearer,
                None,
            )
            .await;
            let status = res.status().as_u16();
            // `active` is the caller's own tenant for outsiders: only seeing this tenant's
            // system credential counts.
            let body = res.text().await.unwrap();
            return (status == 200 && body.contains(&w.system_credential), status);
        }
    };
    let status = res.status().as_u16();
    (res.status().is_success(), status)
}

#[tokio::test]
async fn every_caller_kind_and_role_gets_exactly_what_the_policy_table_says() {
    let w = world().await;
    let mut wrong = Vec::new();
    for m in &w.members {
        for (kind, bearer) in &m.callers {
            for action in ACTIONS {
                let (allowed, status) = probe(&w, bearer, action).await;
                let want = expected(m.role, kind, action);
                if allowed != want {
                    wrong.push(format!(
                        "{:?} {kind} {action:?}: allowed={allowed} (status {status}), expected {want}",
                        m.role
                    ));
                }
                if !allowed {
                    assert!(
                        [401, 403, 404].contains(&status) || status == 200,
                        "{:?} {kind} {action:?}: denial answered {status}",
                        m.role
                    );
                }
                // A removed member's credentials bound to the tenant stop authenticating.
                if m.role == Role::Removed && *kind != "oauth_app" {
                    assert_eq!(status, 401, "removed {kind} {action:?}");
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "policy table mismatches:\n{}",
        wrong.join("\n")
    );
}

#[tokio::test]
async fn only_a_resource_server_introspects_and_it_sees_each_token_as_the_policy_judges_it() {
    let w = world().await;
    let rs = oauth_helpers::resource_server(&w.owner).await;
    let ordinary = oauth_helpers::confidential(&w.owner).await;
    for m in &w.members {
        for (kind, bearer) in &m.callers {
            let seen = oauth_helpers::introspect(&w.owner, &ordinary, bearer).await;
            assert_eq!(
                seen,
                json!({"active": false}),
                "{:?} {kind} by an ordinary client",
                m.role
            );
            let seen = oauth_helpers::introspect(&w.owner, &rs, bearer).await;
            // An app's token is not bound to the tenant: it outlives the membership, acting
            // only where its person still belongs.
            let alive = m.role != Role::Removed || *kind == "oauth_app";
            assert_eq!(
                seen["active"], alive,
                "{:?} {kind} by a resource server",
                m.role
            );
            if alive && *kind != "oauth_app" && m.role == Role::Viewer {
                // The key holds read, write, delete and admin; the others act fully as the
                // person: each is reported as what a viewer keeps of it.
                let want = if kind.starts_with("api_key") {
                    "read"
                } else {
                    "email:read read users:read"
                };
                assert_eq!(
                    seen["scope"], want,
                    "a viewer's {kind} is narrowed to the role"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_system_credential_acts_for_no_person_and_is_refused_every_personal_action() {
    let w = world().await;
    let token = w.owner.session_token().await;
    let created: Value = call(
        &w.owner,
        Method::POST,
        "/api/v1/auth-management/clients",
        &token,
        Some(json!({"name": "robot"})),
    )
    .await
    .json()
    .await
    .unwrap();
    let res = w
        .owner
        .client
        .post(w.owner.url("/api/v0/login"))
        .basic_auth(
            created["client_id"].as_str().unwrap(),
            created["client_secret"].as_str(),
        )
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    let sys_token = access_token(res).await;
    for action in ACTIONS {
        let (allowed, status) = probe(&w, &sys_token, action).await;
        assert!(!allowed, "system credential {action:?} allowed ({status})");
        assert_eq!(status, 403, "system credential {action:?}");
    }
}

#[tokio::test]
async fn the_browser_session_of_each_role_gets_exactly_the_management_pages_its_role_allows() {
    let w = world().await;
    for m in &w.members {
        let t = &w.tenant;
        if matches!(m.role, Role::Removed | Role::Outsider) {
            assert_eq!(
                m.app.get(&format!("/admin/tenants/{t}")).await.status(),
                404,
                "{:?}",
                m.role
            );
            let res = m
                .app
                .post_form(
                    "/settings/credentials",
                    "/settings/active-tenant",
                    &[("tenant_id", t)],
                )
                .await;
            assert_ne!(res.status(), 303, "{:?} switched into the tenant", m.role);
            continue;
        }
        let create = m
            .app
            .post_form(
                "/settings/credentials",
                "/settings/credentials/api-keys",
                &[("name", "probe"), ("permission", "read")],
            )
            .await;
        // A created key is revealed after a 303 to the reveal page; count that as success.
        let create = match create.status().as_u16() {
            303 if crate::helpers::location(&create) == "/settings/reveal" => 201,
            other => other,
        };
        let pages = [
            (Action::ManageOwnCredentials, create),
            (
                Action::ManageMemberCredentials,
                m.app.get("/admin/credentials").await.status().as_u16(),
            ),
            (
                Action::ManageSystemCredentials,
                m.app
                    .get("/admin/system-credentials")
                    .await
                    .status()
                    .as_u16(),
            ),
        ];
        for (action, status) in pages {
            let want = role_allows(m.role, action);
            assert_eq!(
                (200..300).contains(&status),
                want,
                "{:?} session {action:?} answered {status}",
                m.role
            );
            if !want {
                assert_eq!(status, 403, "{:?} session {action:?}", m.role);
            }
        }
        let members_page = m.app.get(&format!("/admin/tenants/{t}")).await.status();
        assert_eq!(
            members_page.is_success(),
            matches!(m.role, Role::Owner | Role::Admin),
            "{:?} members page {members_page}",
            m.role
        );
    }
}
