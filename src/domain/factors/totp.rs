//! Authenticator apps (RFC 6238 TOTP with HMAC-SHA-1, six digits, 30-second steps: what every
//! authenticator app reads from an `otpauth://` QR code). The seed is sealed under the server
//! key (`secret::Sealer`), bound to its person. A code is accepted for the current step or one
//! either side (clock skew, RFC 6238 §5.2) and never twice: the newest accepted step is kept
//! and it and older ones are refused (§5.2: "the verifier MUST NOT accept the second attempt
//! of the same OTP").

use totp_rs::{Algorithm, Secret, TOTP};

use crate::error::{AppError, Result};
use crate::secret::ct_eq;

/// Seconds per time step.
pub const STEP_SECS: i64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;
/// Steps accepted either side of the current one.
pub const SKEW_STEPS: i64 = 1;
/// Seed length: 160 bits, RFC 4226 §4's recommendation.
const SEED_BYTES: usize = 20;

/// A fresh random seed.
pub fn new_seed() -> Vec<u8> {
    crate::secret::random_bytes::<SEED_BYTES>().to_vec()
}

fn generator(seed: &[u8]) -> Result<TOTP> {
    // Skew is applied here, not by the crate, so that the single-use rule sees each step.
    TOTP::new(Algorithm::SHA1, DIGITS, 0, STEP_SECS as u64, seed.to_vec())
        .map_err(|e| AppError::internal(anyhow::anyhow!("TOTP seed: {e:?}")))
}

/// The seed as authenticator apps take it typed in: base32 without padding (RFC 4648 §6).
pub fn seed_text(seed: &[u8]) -> String {
    Secret::Raw(seed.to_vec()).to_encoded().to_string()
}

/// The `otpauth://` URI an authenticator app reads from the QR code (Key Uri Format): the
/// label is `issuer:account`, both percent-encoded, and the parameters name the defaults
/// explicitly so apps that ignore them compute the same codes.
pub fn otpauth_uri(seed: &[u8], issuer: &str, account: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer).replace('+', "%20"),
        enc(account).replace('+', "%20"),
        seed_text(seed),
        enc(issuer).replace('+', "%20"),
    )
}

/// The QR code of `uri` as SVG markup (no script, no external reference), to inline in a page.
pub fn qr_svg(uri: &str) -> Result<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(AppError::internal)?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline in HTML, the XML declaration the renderer starts with has no place.
    Ok(svg
        .find("<svg")
        .map_or(svg.clone(), |at| svg[at..].to_owned()))
}

/// A presented code with spaces removed, when it has the form of one.
pub fn normalize(code: &str) -> Option<String> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// The time step `code` matches at `now` (Unix seconds): the current step or one either side,
/// newer than `last_step` (the newest step accepted before). `None` for a wrong, stale or
/// replayed code. Every candidate is compared, in constant time.
pub fn matching_step(
    seed: &[u8],
    code: &str,
    now: i64,
    last_step: Option<i64>,
) -> Result<Option<i64>> {
    let Some(code) = normalize(code) else {
        return Ok(None);
    };
    let totp = generator(seed)?;
    let current = now.div_euclid(STEP_SECS);
    let mut found = None;
    for step in current - SKEW_STEPS..=current + SKEW_STEPS {
        let Ok(at) = u64::try_from(step * STEP_SECS) else {
            continue;
        };
        let fresh = last_step.is_none_or(|last| step > last);
        if ct_eq(&totp.generate(at), &code) && fresh && found.is_none() {
            found = Some(step);
        }
    }
    Ok(found)
}

/// The code for the step holding `at` (what an authenticator app shows then).
pub fn code_at(seed: &[u8], at: i64) -> Result<String> {
    Ok(generator(seed)?.generate(u64::try_from(at).unwrap_or_default()))
}

/// The sealing context of a person's seed, so a sealed seed copied to another person's row
/// does not open.
pub fn sealing_context(user_id: &str) -> String {
    format!("totp:{user_id}")
}

/// Decodes what `seed_text` made.
pub fn seed_from_text(text: &str) -> Option<Vec<u8>> {
    Secret::Encoded(text.to_owned()).to_bytes().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_rfc_6238_test_vectors() {
        // RFC 6238 Appendix B, SHA-1, last six digits of the eight-digit values.
        assert_eq!(code_at(SEED, 59).unwrap(), "287082");
        assert_eq!(code_at(SEED, 1_111_111_109).unwrap(), "081804");
        assert_eq!(code_at(SEED, 1_234_567_890).unwrap(), "005924");
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_no_further() {
        let now = 1_234_567_890;
        let step = now / STEP_SECS;
        for offset in -1..=1 {
            let code = code_at(SEED, now + offset * STEP_SECS).unwrap();
            assert_eq!(
                matching_step(SEED, &code, now, None).unwrap(),
                Some(step + offset)
            );
        }
        for offset in [-2, 2] {
            let code = code_at(SEED, now + offset * STEP_SECS).unwrap();
            assert_eq!(matching_step(SEED, &code, now, None).unwrap(), None);
        }
    }

    #[test]
    fn an_accepted_step_and_older_ones_are_refused() {
        let now = 1_234_567_890;
        let step = now / STEP_SECS;
        let code = code_at(SEED, now).unwrap();
        assert_eq!(
            matching_step(SEED, &code, now, Some(step)).unwrap(),
            None,
            "reuse"
        );
        assert_eq!(
            matching_step(SEED, &code, now, Some(step + 1)).unwrap(),
            None
        );
        assert_eq!(
            matching_step(SEED, &code, now, Some(step - 1)).unwrap(),
            Some(step)
        );
        let previous = code_at(SEED, now - STEP_SECS).unwrap();
        assert_eq!(
            matching_step(SEED, &previous, now, Some(step)).unwrap(),
            None,
            "an older step after a newer one"
        );
    }

    #[test]
    fn malformed_codes_never_match() {
        let now = 1_234_567_890;
        for bad in ["", "12345", "1234567", "abcdef", "00592４"] {
            assert_eq!(
                matching_step(SEED, bad, now, None).unwrap(),
                None,
                "{bad:?}"
            );
        }
        let spaced = code_at(SEED, now).unwrap();
        let spaced = format!("{} {}", &spaced[..3], &spaced[3..]);
        assert!(matching_step(SEED, &spaced, now, None).unwrap().is_some());
    }

    #[test]
    fn the_seed_round_trips_through_its_text_and_the_uri_names_it() {
        let seed = new_seed();
        assert_eq!(seed_from_text(&seed_text(&seed)).unwrap(), seed);
        assert_ne!(seed, new_seed());
        let uri = otpauth_uri(&seed, "Port cullis", "a@example.com");
        assert!(uri.starts_with("otpauth://totp/Port%20cullis:a%40example.com?secret="));
        assert!(uri.contains(&seed_text(&seed)));
        assert!(qr_svg(&uri).unwrap().starts_with("<svg"));
    }
}
