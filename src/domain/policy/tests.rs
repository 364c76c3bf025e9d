//! The policy's table, without a database: every role and origin against every action.

use super::*;
use crate::domain::scope::ScopeSet;

fn caller(origin: Origin, granted: &str, role: Role) -> Principal {
    let granted = ScopeSet::parse(granted).unwrap();
    Principal {
        user_id: Some("u".into()),
        tenant_id: Some("t".into()),
        scopes: granted.intersect(&role.scopes()),
        granted,
        env: None,
        credential_id: None,
        client_id: None,
        origin,
        exchanged: false,
        expires_at: None,
        allowed_ips: Vec::new(),
        rate_key: "k".into(),
    }
}

const ALL: &str = "read write delete email:read email:send users:read admin";

#[test]
fn roles_allow_exactly_the_documented_actions() {
    use Action::*;
    let expected: [(Role, &[Action]); 3] = [
        (Role::Viewer, &[Read, ManageOwnCredentials]),
        (Role::Editor, &[Read, Write, Delete, ManageOwnCredentials]),
        (Role::Admin, &Action::ALL),
    ];
    for (role, allowed) in expected {
        let p = caller(Origin::Session, ALL, role);
        for action in Action::ALL {
            assert_eq!(
                decide(&p, role, action).is_ok(),
                allowed.contains(&action),
                "{role:?} {action:?}"
            );
        }
    }
}

#[test]
fn a_third_party_app_token_never_manages_access_whatever_its_scopes() {
    for action in Action::ALL {
        let p = caller(Origin::App { first_party: false }, ALL, Role::Admin);
        let allowed = decide(&p, Role::Admin, action).is_ok();
        assert_eq!(allowed, !action.manages_access(), "{action:?}");
    }
    let first = caller(Origin::App { first_party: true }, ALL, Role::Admin);
    assert!(decide(&first, Role::Admin, Action::ManageOwnCredentials).is_ok());
}

#[test]
fn a_credential_acts_with_at_most_its_own_scopes() {
    let read_only = caller(
        Origin::Credential(CredentialKind::ApiKey),
        "read",
        Role::Admin,
    );
    assert!(decide(&read_only, Role::Admin, Action::Read).is_ok());
    for action in [
        Action::Write,
        Action::ManageOwnCredentials,
        Action::ManageMembers,
    ] {
        assert!(
            decide(&read_only, Role::Admin, action).is_err(),
            "{action:?}"
        );
    }
}

#[test]
fn a_lowered_role_shrinks_a_strong_credential() {
    let p = caller(
        Origin::Credential(CredentialKind::ApiKey),
        ALL,
        Role::Viewer,
    );
    assert_eq!(p.scopes.to_string(), "email:read read users:read");
    assert!(decide(&p, Role::Viewer, Action::Write).is_err());
    assert!(decide(&p, Role::Viewer, Action::Read).is_ok());
}

mod attenuation {
    use super::*;
    use crate::domain::credentials::{Credential, Environment};

    fn key(perms: &str) -> Credential {
        Credential {
            id: "c".into(),
            user_id: Some("u".into()),
            tenant_id: "t".into(),
            kind: CredentialKind::ApiKey,
            name: "k".into(),
            prefix: String::new(),
            permissions: ScopeSet::parse(perms).unwrap(),
            environment: Some(Environment::Live),
            expires_at: None,
            allowed_ips: vec![],
            created_at: 0,
            last_used_at: None,
            last_used_ip: None,
            revoked_at: None,
        }
    }

    fn restricted() -> Principal {
        let mut p = caller(
            Origin::Credential(CredentialKind::ApiKey),
            "read admin",
            Role::Admin,
        );
        p.expires_at = Some(1_000);
        p.allowed_ips = vec!["10.0.0.0/8".parse().unwrap()];
        p.env = Some("test".into());
        p
    }

    #[test]
    fn nothing_stronger_than_the_creator_is_admitted() {
        let ceiling = Ceiling::of(&restricted());
        let mut ok = key("read");
        ok.environment = Some(Environment::Test);
        ok.expires_at = Some(900);
        ok.allowed_ips = vec!["10.1.0.0/16".parse().unwrap()];
        assert!(ceiling.admit(&ok).is_ok());

        let mut more = ok.clone();
        more.permissions = ScopeSet::parse("read write").unwrap();
        assert!(ceiling.admit(&more).is_err(), "more permissions");
        let mut later = ok.clone();
        later.expires_at = Some(2_000);
        assert!(ceiling.admit(&later).is_err(), "later expiry");
        let mut never = ok.clone();
        never.expires_at = None;
        assert!(ceiling.admit(&never).is_err(), "no expiry");
        let mut wider = ok.clone();
        wider.allowed_ips = vec!["0.0.0.0/0".parse().unwrap()];
        assert!(ceiling.admit(&wider).is_err(), "wider allowlist");
        let mut anywhere = ok.clone();
        anywhere.allowed_ips = vec![];
        assert!(ceiling.admit(&anywhere).is_err(), "no allowlist");
        let mut live = ok.clone();
        live.environment = Some(Environment::Live);
        assert!(ceiling.admit(&live).is_err(), "live from test");
        let mut pat = ok.clone();
        pat.kind = CredentialKind::PersonalAccessToken;
        assert!(ceiling.admit(&pat).is_err(), "acts as the person");
        assert!(ceiling.admit_unrestricted("a system credential").is_err());
    }

    #[test]
    fn the_session_of_a_viewer_creates_only_what_a_viewer_may_do() {
        let ceiling = Ceiling::of(&caller(Origin::Session, ALL, Role::Viewer));
        assert!(ceiling.admit(&key("read")).is_ok());
        assert!(ceiling.admit(&key("read write")).is_err());
        assert!(ceiling.admit(&key("admin")).is_err());
        let mut pat = key("read");
        pat.kind = CredentialKind::PersonalAccessToken;
        pat.expires_at = Some(10);
        assert!(
            ceiling.admit(&pat).is_ok(),
            "acts as the viewer, narrowed on use"
        );
    }
}
