//! Property tests of the parsers that face untrusted input: the secret format, HTTP Basic client
//! credentials, redirect URIs, scope strings and IP allow-lists. Each property runs a few hundred
//! generated cases; none of these parsers may panic on any input.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ipnet::IpNet;
use portcullis::domain::credentials::parse_networks;
use portcullis::domain::redirect_uri;
use portcullis::domain::scope::{SCOPES, ScopeSet};
use portcullis::domain::secret_format::{self, CHECKSUM_LEN, Kind, RANDOM_LEN};
use portcullis::http::oauth::client_auth::decode_basic;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::test_runner::Config as ProptestConfig;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A few hundred cases per property, and no regression files written into the source tree.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn any_kind() -> impl Strategy<Value = Kind> {
    select(Kind::ALL.to_vec())
}

/// The documented checksum, computed independently of the server: CRC32 (IEEE) of everything
/// before it, as 6 zero-padded base62 digits.
fn documented_checksum(signed: &str) -> String {
    let mut value = crc32fast::hash(signed.as_bytes());
    let mut digits = [b'0'; CHECKSUM_LEN];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(digits.to_vec()).unwrap()
}

/// A well-formed secret of `kind` with an arbitrary random part.
fn well_formed(kind: Kind, random: &str) -> String {
    let signed = format!("{}{random}", kind.prefix());
    let sum = documented_checksum(&signed);
    format!("{signed}{sum}")
}

fn random_part() -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[0-9A-Za-z]{{{RANDOM_LEN}}}")).unwrap()
}

/// Strings that look a little like secrets: a known prefix, then anything (often non-ASCII).
fn secret_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        (any_kind(), "\\PC{0,60}").prop_map(|(k, rest)| format!("{}{rest}", k.prefix())),
        (any_kind(), "[0-9A-Za-z\u{e9}\u{1F600}\\x00]{47,51}")
            .prop_map(|(k, rest)| format!("{}{rest}", k.prefix())),
    ]
}

/// Strings that look a little like URIs.
fn uri_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "(https?|ftp|javascript|HTTP)://[a-z0-9.:@\\[\\]%#?/=&\u{e9}\u{FF0F}-]{0,40}",
        "https?://(127\\.0\\.0\\.1|\\[::1\\]|localhost)(:[0-9]{0,6})?[/?#a-z%]{0,20}",
    ]
}

fn host() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,10}(\\.[a-z][a-z0-9]{0,6}){1,2}"
}

fn path() -> impl Strategy<Value = String> {
    // Segments never consist of dots only, so no two generated paths normalise to the same one.
    "(/[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,9}){0,3}/?"
        .prop_map(|p| if p.is_empty() { "/".into() } else { p })
}

fn query() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("[a-z]{1,6}=[A-Za-z0-9]{0,8}(&[a-z]{1,6}=[A-Za-z0-9]{0,8}){0,2}")
}

fn https_uri(host: &str, path: &str, query: &Option<String>) -> String {
    match query {
        Some(q) => format!("https://{host}{path}?{q}"),
        None => format!("https://{host}{path}"),
    }
}

fn loopback_host() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("127.0.0.1".to_owned()),
        Just("[::1]".to_owned()),
        Just("localhost".to_owned()),
        (any::<u8>(), any::<u8>(), 1..=254u8).prop_map(|(a, b, c)| format!("127.{a}.{b}.{c}")),
    ]
}

fn scope_names() -> Vec<&'static str> {
    SCOPES.iter().map(|(name, _)| *name).collect()
}

proptest! {
    #![proptest_config(config())]

    // ------------------------------------------------------------ the secret format

    #[test]
    fn every_generated_secret_checks_as_its_kind(kind in any_kind()) {
        let secret = secret_format::generate(kind);
        prop_assert_eq!(secret.len(), kind.prefix().len() + RANDOM_LEN + CHECKSUM_LEN);
        prop_assert_eq!(secret_format::check(&secret), Ok(kind));
    }

    #[test]
    fn any_random_part_with_the_documented_checksum_checks_as_its_kind(
        kind in any_kind(),
        random in random_part(),
    ) {
        prop_assert_eq!(secret_format::check(&well_formed(kind, &random)), Ok(kind));
    }

    #[test]
    fn any_single_character_change_to_a_secret_is_refused(
        kind in any_kind(),
        random in random_part(),
        at in any::<proptest::sample::Index>(),
        replacement in any::<char>(),
    ) {
        let secret = well_formed(kind, &random);
        let chars: Vec<char> = secret.chars().collect();
        let i = at.index(chars.len());
        prop_assume!(chars[i] != replacement);
        let mut changed = chars.clone();
        changed[i] = replacement;
        let changed: String = changed.into_iter().collect();
        prop_assert!(secret_format::check(&changed).is_err(), "{changed} was accepted");
    }

    #[test]
    fn any_truncation_of_a_secret_is_refused(
        kind in any_kind(),
        random in random_part(),
        at in any::<proptest::sample::Index>(),
    ) {
        let secret = well_formed(kind, &random);
        let cut = at.index(secret.len());
        prop_assert!(secret_format::check(&secret[..cut]).is_err());
        // Dropping any one character anywhere is refused too.
        let dropped = format!("{}{}", &secret[..cut], &secret[cut + 1..]);
        prop_assert!(secret_format::check(&dropped).is_err());
    }

    #[test]
    fn a_secret_with_anything_appended_is_refused(
        kind in any_kind(),
        random in random_part(),
        extra in "\\PC{1,8}",
    ) {
        let secret = format!("{}{extra}", well_formed(kind, &random));
        prop_assert!(secret_format::check(&secret).is_err());
    }

    #[test]
    fn check_never_panics_on_arbitrary_strings(s in secret_like()) {
        if let Ok(kind) = secret_format::check(&s) {
            // Whatever it accepts is really of that shape.
            prop_assert!(s.starts_with(kind.prefix()));
            prop_assert!(s.is_ascii());
        }
    }

    // ------------------------------------------------------------ HTTP Basic client credentials

    #[test]
    fn decode_basic_never_panics_on_arbitrary_input(s in any::<String>()) {
        let _ = decode_basic(&s);
    }

    #[test]
    fn decode_basic_never_panics_on_arbitrary_base64_payloads(raw in any::<Vec<u8>>()) {
        let _ = decode_basic(&STANDARD.encode(&raw));
        let _ = decode_basic(&format!("  {} ", STANDARD.encode(&raw)));
    }

    #[test]
    fn basic_credentials_encoded_as_the_rfc_says_decode_to_the_same_id_and_secret(
        id in any::<String>().prop_filter("an id", |s| !s.is_empty()),
        secret in any::<String>(),
    ) {
        let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let header = STANDARD.encode(format!("{}:{}", encode(&id), encode(&secret)));
        prop_assert_eq!(decode_basic(&header), Some((id, secret)));
    }

    #[test]
    fn basic_credentials_without_an_id_are_refused(secret in "\\PC{0,40}") {
        let header = STANDARD.encode(format!(":{secret}"));
        prop_assert_eq!(decode_basic(&header), None);
    }

    // ------------------------------------------------------------ redirect URIs

    #[test]
    fn redirect_uri_validation_never_panics(s in uri_like()) {
        if redirect_uri::validate(&s).is_ok() {
            prop_assert!(!s.contains('#'));
            prop_assert!(redirect_uri::matches(&s, &s));
        }
    }

    #[test]
    fn redirect_uri_matching_never_panics(a in uri_like(), b in uri_like()) {
        let _ = redirect_uri::matches(&a, &b);
    }

    #[test]
    fn every_valid_redirect_uri_matches_itself(
        host in host(),
        path in path(),
        query in query(),
        loopback in loopback_host(),
        port in proptest::option::of(1..=65535u16),
    ) {
        let https = https_uri(&host, &path, &query);
        prop_assert!(redirect_uri::validate(&https).is_ok(), "{https}");
        prop_assert!(redirect_uri::matches(&https, &https));
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let local = format!("http://{loopback}{port}{path}");
        prop_assert!(redirect_uri::validate(&local).is_ok(), "{local}");
        prop_assert!(redirect_uri::matches(&local, &local));
    }

    #[test]
    fn a_registered_https_uri_never_matches_another_path_host_or_query(
        (host_a, host_b) in (host(), host()),
        (path_a, path_b) in (path(), path()),
        (query_a, query_b) in (query(), query()),
        port in 1..=65535u16,
        which in 0..4u8,
    ) {
        let registered = https_uri(&host_a, &path_a, &query_a);
        let requested = match which {
            0 => https_uri(&host_b, &path_a, &query_a),
            1 => https_uri(&host_a, &path_b, &query_a),
            2 => https_uri(&host_a, &path_a, &query_b),
            _ => https_uri(&format!("{host_a}:{port}"), &path_a, &query_a),
        };
        prop_assume!(requested != registered);
        prop_assert!(!redirect_uri::matches(&registered, &requested), "{registered} ~ {requested}");
        let with_fragment = format!("{registered}#x");
        prop_assert!(!redirect_uri::matches(&registered, &with_fragment));
    }

    #[test]
    fn a_loopback_http_uri_matches_with_any_port(
        loopback in loopback_host(),
        registered_port in proptest::option::of(1..=65535u16),
        port in 1..=65535u16,
        path in path(),
        query in query(),
        other_path in path(),
    ) {
        let q = query.map(|q| format!("?{q}")).unwrap_or_default();
        let reg_port = registered_port.map(|p| format!(":{p}")).unwrap_or_default();
        let registered = format!("http://{loopback}{reg_port}{path}{q}");
        prop_assert!(redirect_uri::validate(&registered).is_ok(), "{registered}");
        let requested = format!("http://{loopback}:{port}{path}{q}");
        prop_assert!(redirect_uri::matches(&registered, &requested), "{registered} !~ {requested}");
        // The port is the only thing that may differ.
        let elsewhere = format!("http://{loopback}:{port}{other_path}{q}");
        prop_assume!(other_path != path);
        prop_assert!(!redirect_uri::matches(&registered, &elsewhere), "{registered} ~ {elsewhere}");
    }

    // ------------------------------------------------------------ scope strings

    #[test]
    fn scope_parsing_never_panics(s in prop_oneof![
        any::<String>(),
        "[a-z: \u{a0}\t]{0,40}",
    ]) {
        if let Ok(set) = ScopeSet::parse(&s) {
            prop_assert_eq!(ScopeSet::parse(&set.to_string()).unwrap(), set);
        }
    }

    #[test]
    fn any_set_of_known_scopes_survives_display_and_parse(
        picked in subsequence(scope_names(), 0..=SCOPES.len()),
    ) {
        let set = ScopeSet::parse(&picked.join(" ")).unwrap();
        prop_assert_eq!(set.iter().count(), picked.len());
        let shown = set.to_string();
        prop_assert_eq!(ScopeSet::parse(&shown).unwrap(), set);
    }

    #[test]
    fn known_scopes_in_any_order_with_any_spacing_parse_to_the_same_set(
        words in proptest::collection::vec(select(scope_names()), 0..12),
        gaps in proptest::collection::vec(1..4usize, 13),
        lead in 0..3usize,
        trail in 0..3usize,
    ) {
        let mut raw = " ".repeat(lead);
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                raw.push_str(&" ".repeat(gaps[i]));
            }
            raw.push_str(w);
        }
        raw.push_str(&" ".repeat(trail));
        let set = ScopeSet::parse(&raw).unwrap();
        let mut expected: Vec<&str> = words.clone();
        expected.sort_unstable();
        expected.dedup();
        prop_assert_eq!(set.to_string(), expected.join(" "));
        prop_assert_eq!(ScopeSet::parse(&set.to_string()).unwrap(), set.clone());
        let mut reversed = words.clone();
        reversed.reverse();
        prop_assert_eq!(ScopeSet::parse(&reversed.join(" ")).unwrap(), set);
    }

    #[test]
    fn an_unknown_scope_anywhere_is_refused(
        words in proptest::collection::vec(select(scope_names()), 0..5),
        unknown in "[a-z:]{1,12}",
        at in any::<proptest::sample::Index>(),
    ) {
        prop_assume!(!scope_names().contains(&unknown.as_str()));
        let mut words: Vec<String> = words.into_iter().map(str::to_owned).collect();
        let i = at.index(words.len() + 1);
        words.insert(i, unknown);
        prop_assert!(ScopeSet::parse(&words.join(" ")).is_err());
    }

    // ------------------------------------------------------------ IP allow-lists

    #[test]
    fn network_parsing_never_panics(list in proptest::collection::vec(prop_oneof![
        any::<String>(),
        "[0-9a-f.:/ ]{0,45}",
        "[0-9]{1,4}\\.[0-9]{1,4}\\.[0-9]{1,4}\\.[0-9]{1,4}/[0-9]{1,3}",
    ], 0..4)) {
        let _ = parse_networks(&list);
    }

    #[test]
    fn an_ipv4_network_contains_its_own_address(addr in any::<Ipv4Addr>(), len in 0..=32u8) {
        let nets = parse_networks(&[format!("{addr}/{len}")]).unwrap();
        prop_assert_eq!(nets.len(), 1);
        prop_assert!(nets[0].contains(&IpAddr::V4(addr)));
        prop_assert_eq!(nets[0].prefix_len(), len);
    }

    #[test]
    fn an_ipv6_network_contains_its_own_address(addr in any::<Ipv6Addr>(), len in 0..=128u8) {
        let nets = parse_networks(&[format!("{addr}/{len}")]).unwrap();
        prop_assert_eq!(nets.len(), 1);
        prop_assert!(nets[0].contains(&IpAddr::V6(addr)));
        prop_assert_eq!(nets[0].prefix_len(), len);
    }

    #[test]
    fn any_valid_address_parses_to_a_single_host_network(
        v4 in any::<Ipv4Addr>(),
        v6 in any::<Ipv6Addr>(),
        pad in "[ \t]{0,2}",
    ) {
        let nets = parse_networks(&[format!("{pad}{v4}{pad}"), v6.to_string()]).unwrap();
        prop_assert_eq!(nets[0], IpNet::from(IpAddr::V4(v4)));
        prop_assert_eq!(nets[0].prefix_len(), 32);
        prop_assert_eq!(nets[1], IpNet::from(IpAddr::V6(v6)));
        prop_assert_eq!(nets[1].prefix_len(), 128);
    }

    #[test]
    fn an_ipv4_prefix_longer_than_32_bits_is_refused(addr in any::<Ipv4Addr>(), len in 33..=255u8) {
        let entry = format!("{addr}/{len}");
        prop_assert!(parse_networks(&[entry]).is_err());
    }

    #[test]
    fn one_bad_entry_refuses_the_whole_list(
        good in proptest::collection::vec(any::<Ipv4Addr>().prop_map(|a| a.to_string()), 0..4),
        bad in "[g-z]{1,10}",
        at in any::<proptest::sample::Index>(),
    ) {
        let mut list = good;
        let i = at.index(list.len() + 1);
        list.insert(i, bad);
        prop_assert!(parse_networks(&list).is_err());
    }
}
