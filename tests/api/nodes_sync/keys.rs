//! Rotating signing keys across nodes: `portcullis keys rotate` publishes the new keys on every
//! node at once, every node signs with them from the same moment, and old tokens stay valid.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{nodes, skipped};
use crate::oauth_helpers::machine_client;

/// The key id in a JWT's header.
fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn a_rotated_key_is_published_on_every_node_before_any_signs_with_it_and_all_switch_soon() {
    let Some(n) = nodes(2, "warn").await else {
        return skipped("the cross-node key rotation test");
    };
    let c = machine_client(&n.a).await;
    let bases = n.bases();
    let old_token = n.token_on(&bases[1], &c).await;
    let old_kid = kid(&old_token);

    let url = n.a.settings.database_url.expose().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
            .args(["keys", "rotate"])
            .env("PORTCULLIS_DATABASE_URL", url)
            .env("PORTCULLIS_LOG", "warn")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let rotated = Instant::now();
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(printed.contains("(in 5 s) on every node"), "{printed}");
    let new_kid = printed
        .lines()
        .find_map(|l| l.strip_prefix("new EdDSA signing key: "))
        .unwrap_or_else(|| panic!("{printed}"))
        .to_owned();

    // Each round reads every node's JWKS first, then has every node sign.
    let mut published_everywhere = None;
    let mut first_signed = None;
    let mut switched: Vec<Option<Duration>> = vec![None; bases.len()];
    for round in 0.. {
        let mut everywhere = true;
        for base in &bases {
            let jwks: Value = n
                .http
                .get(format!("{base}/.well-known/jwks.json"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let kids: Vec<&str> = jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|k| k["kid"].as_str())
                .collect();
            assert!(
                kids.contains(&old_kid.as_str()),
                "{base}: the old key stays"
            );
            everywhere &= kids.contains(&new_kid.as_str());
        }
        if everywhere {
            published_everywhere.get_or_insert(round);
        }
        for (i, base) in bases.iter().enumerate() {
            let token = n.token_on(base, &c).await;
            let signed_by = kid(&token);
            if signed_by == new_kid {
                first_signed.get_or_insert(round);
                if switched[i].is_none() {
                    switched[i] = Some(rotated.elapsed());
                    // The first node to switch is believed by every node, the others included.
                    for other in &bases {
                        let (_, body) = n.introspect(other, &c, &token).await;
                        assert_eq!(body["active"], true, "{base}'s token at {other}");
                    }
                }
            } else {
                assert_eq!(signed_by, old_kid, "{base}");
                assert!(switched[i].is_none(), "{base} went back to the old key");
            }
        }
        if switched.iter().all(Option::is_some) {
            break;
        }
        assert!(
            rotated.elapsed() < Duration::from_secs(10),
            "not every node switched within 10 s: {switched:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        published_everywhere,
        Some(0),
        "every node publishes the new key as soon as the command returns"
    );
    assert!(published_everywhere <= first_signed);
    println!("nodes signed with the new key after {switched:?}");

    // Old tokens still verify everywhere, and so do the new key's.
    let new_token = n.token_on(&bases[2], &c).await;
    for base in &bases {
        for token in [&old_token, &new_token] {
            let (status, body) = n.introspect(base, &c, token).await;
            assert_eq!((status, &body["active"]), (200, &json!(true)), "{base}");
        }
    }
}
