//! How often mail may be asked for: a "forgot password" form or a "resend the verification
//! mail" button mails whoever an address names, so each request counts against a budget per
//! source address and one per target address (`FailureThrottle`s used as request counters:
//! bounded maps, pruned past `MAX_KEYS`). The target budget keeps a stranger from flooding
//! someone's mailbox from many addresses; the source budget keeps one address from mailing many
//! people.

use std::net::IpAddr;

use crate::runtime::throttle::{FailureThrottle, address_key};

/// Requests for mail to one address allowed in the window.
pub const PER_TARGET: u32 = 5;
/// Requests for mail from one source address allowed in the window, whatever the target.
pub const PER_SOURCE: u32 = 20;
/// The window, in seconds.
pub const WINDOW_SECS: u32 = 900;

/// The two budgets.
#[derive(Clone)]
pub struct MailThrottle {
    per_target: FailureThrottle,
    per_source: FailureThrottle,
}

impl Default for MailThrottle {
    fn default() -> Self {
        Self {
            per_target: FailureThrottle::new(PER_TARGET, WINDOW_SECS),
            per_source: FailureThrottle::new(PER_SOURCE, WINDOW_SECS),
        }
    }
}

impl MailThrottle {
    /// Counts one request for mail of `purpose` to `target` (bounded by the caller) from `ip`;
    /// `Err(seconds to wait)` when either budget is used up, and then nothing is counted.
    pub async fn take(
        &self,
        ip: Option<IpAddr>,
        purpose: &str,
        target: &str,
        now: i64,
    ) -> Result<(), i64> {
        let target = format!("{purpose}|{}", target.to_lowercase());
        let source = ip.map(|ip| format!("{purpose}|{}", address_key(ip)));
        let mut verdict = self.per_target.check(&target, now).await;
        if let (Ok(()), Some(source)) = (&verdict, &source) {
            verdict = self.per_source.check(source, now).await;
        }
        if verdict.is_err() {
            crate::runtime::metrics::throttled("mail");
            return verdict;
        }
        self.per_target.fail(&target, now).await;
        if let Some(source) = &source {
            self.per_source.fail(source, now).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_target_is_mailed_at_most_its_budget_whatever_the_source() {
        let t = MailThrottle::default();
        for i in 0..PER_TARGET {
            let ip: IpAddr = format!("10.0.0.{i}").parse().unwrap();
            assert!(t.take(Some(ip), "reset", "A@example.com", 0).await.is_ok());
        }
        let other: IpAddr = "10.0.1.1".parse().unwrap();
        assert!(
            t.take(Some(other), "reset", "a@example.com", 1)
                .await
                .is_err()
        );
        assert!(
            t.take(Some(other), "verify", "a@example.com", 1)
                .await
                .is_ok()
        );
        let later = i64::from(WINDOW_SECS) + 1;
        assert!(
            t.take(Some(other), "reset", "a@example.com", later)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_source_mails_at_most_its_budget_whatever_the_target() {
        let t = MailThrottle::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for i in 0..PER_SOURCE {
            let target = format!("p{i}@example.com");
            assert!(t.take(Some(ip), "reset", &target, 0).await.is_ok());
        }
        assert!(
            t.take(Some(ip), "reset", "new@example.com", 0)
                .await
                .is_err()
        );
    }
}
