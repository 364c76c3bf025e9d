//! "Last used" times of credentials, gathered in memory on every use and written in batches by
//! a background task, never once per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Last-use times gathered in memory and written in batches.
#[derive(Clone, Default)]
pub struct LastUsed(Arc<Mutex<HashMap<String, (i64, String)>>>);

impl LastUsed {
    pub(crate) fn touch(&self, id: &str, at: i64, ip: String) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(id.to_owned(), (at, ip));
        }
    }

    pub(crate) fn pending(&self, id: &str) -> Option<i64> {
        self.0
            .lock()
            .ok()
            .and_then(|m| m.get(id).map(|(at, _)| *at))
    }

    /// What has been gathered: (credential id, time, address).
    pub(crate) fn snapshot(&self) -> Vec<(String, i64, String)> {
        match self.0.lock() {
            Ok(map) => map
                .iter()
                .map(|(id, (at, ip))| (id.clone(), *at, ip.clone()))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Forgets written times, keeping any newer use gathered meanwhile.
    pub(crate) fn forget_written(&self, batch: &[(String, i64, String)]) {
        if let Ok(mut map) = self.0.lock() {
            for (id, at, _) in batch {
                if map.get(id).is_some_and(|(now, _)| now == at) {
                    map.remove(id);
                }
            }
        }
    }
}
