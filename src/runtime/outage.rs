//! Noticing, for one request, that the database could not be reached where no error can travel
//! back to a responder. The browser-session store runs inside actix-session's middleware, which
//! answers any store failure with a bare 500 before a handler runs; the store notes the outage
//! here, and the middleware around the sessions (`http::outage`) answers 503 instead.
//!
//! The note is task-local: one request's middleware chain runs as one future, so what the store
//! notes is seen by that request alone.

use std::cell::Cell;
use std::future::Future;

tokio::task_local! {
    static NOTED: Cell<bool>;
}

/// Runs `fut` and says whether anything in it noted an outage.
pub async fn watch<F: Future>(fut: F) -> (F::Output, bool) {
    NOTED
        .scope(Cell::new(false), async move {
            let out = fut.await;
            (out, NOTED.with(Cell::get))
        })
        .await
}

/// Notes that the database could not be reached (outside `watch`, nothing happens).
pub fn note() {
    let _ = NOTED.try_with(|noted| noted.set(true));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_note_is_seen_by_its_own_watch_only() {
        let ((), noted) = watch(async { note() }).await;
        assert!(noted);
        let ((), quiet) = watch(async {}).await;
        assert!(!quiet, "a later request starts clean");
        note(); // outside any watch: nothing to tell, nothing breaks
    }
}
