//! The one error type of the domain and storage layers. Its `Display` text is safe to show a
//! user; the source chain of `Internal` is logged once, by the HTTP responder that renders it.
//! How each variant maps to HTTP lives in `http::error`.

/// Result alias used across the crate.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// What went wrong, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that breaks a rule; `field` names the input.
    #[error("{message}")]
    Validation {
        /// The offending input field.
        field: &'static str,
        /// What is wrong with it, in plain words.
        message: String,
    },
    /// Several inputs that break rules at once (gathered by `FieldErrors`), each with what is
    /// wrong with it, so a caller hears of every bad field in one answer.
    #[error("{}", .0.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>().join(" "))]
    Invalid(Vec<(&'static str, String)>),
    /// No or bad credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// Authenticated, but what was presented lacks this scope (RFC 6750 `insufficient_scope`).
    #[error("This credential lacks the `{0}` permission.")]
    InsufficientScope(&'static str),
    /// The thing asked for does not exist (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request clashes with existing state (a duplicate, say).
    #[error("{0}")]
    Conflict(String),
    /// The server is at capacity for this kind of work (password hashing, say) and refused
    /// rather than queue without bound: the same request may succeed after `retry_after_secs`.
    #[error("The server is busy. Try again in a moment.")]
    Busy {
        /// Seconds after which a retry is likely to be admitted.
        retry_after_secs: u64,
    },
    /// The database cannot be reached right now (refused, timed out, connection lost): the
    /// request may well be valid and succeed once it is back, so callers answer 503 with
    /// `Retry-After` rather than refuse it. The cause goes to the log, never to the caller.
    #[error("The service is temporarily unavailable. Try again in a moment.")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else: details go to the log, never to the caller.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// Seconds a caller is asked to wait (`Retry-After`) when the database cannot be reached: about
/// the time a load balancer takes to notice a failing readiness check and send it elsewhere.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

impl AppError {
    /// Shorthand for a validation error.
    pub fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation {
            field,
            message: message.into(),
        }
    }

    /// Each bad field and what is wrong with it (one for `Validation`).
    pub fn fields(&self) -> Vec<(&'static str, &str)> {
        match self {
            Self::Validation { field, message } => vec![(*field, message.as_str())],
            Self::Invalid(all) => all.iter().map(|(f, m)| (*f, m.as_str())).collect(),
            _ => Vec::new(),
        }
    }

    /// Wraps any error as internal.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }
}

/// Gathers the validation failures of several inputs, so that one answer names every bad field
/// instead of only the first.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    /// Keeps `result`'s validation failure for later and goes on (`Ok(None)`); any other error
    /// ends the operation at once.
    pub fn take<T>(&mut self, result: Result<T>) -> Result<Option<T>> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(AppError::Validation { field, message }) => {
                self.0.push((field, message));
                Ok(None)
            }
            Err(AppError::Invalid(more)) => {
                self.0.extend(more);
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    /// `Ok` when every input passed; otherwise the one failure, or all of them.
    pub fn finish(mut self) -> Result<()> {
        match self.0.len() {
            0 => Ok(()),
            1 => {
                let (field, message) = self.0.remove(0);
                Err(AppError::Validation { field, message })
            }
            _ => Err(AppError::Invalid(self.0)),
        }
    }
}

#[cfg(test)]
mod field_error_tests {
    use super::*;

    #[test]
    fn every_failure_is_kept_and_other_errors_stop_at_once() {
        let mut errors = FieldErrors::default();
        assert_eq!(errors.take(Ok::<_, AppError>(1)).unwrap(), Some(1));
        assert!(
            errors
                .take::<()>(Err(AppError::validation("name", "bad name")))
                .unwrap()
                .is_none()
        );
        assert!(
            errors
                .take::<()>(Err(AppError::validation("ips", "bad ip")))
                .unwrap()
                .is_none()
        );
        assert!(errors.take::<()>(Err(AppError::NotFound("x"))).is_err());
        let err = errors.finish().unwrap_err();
        assert_eq!(err.fields(), vec![("name", "bad name"), ("ips", "bad ip")]);
        assert!(FieldErrors::default().finish().is_ok());
    }
}
