//! Reads straight from the store, for what the HTTP API does not show.

use vibe_store::{SiteSession, SiteUser};

use super::TestApp;

impl TestApp {
    pub async fn count_events(&self, project_id: &str) -> i64 {
        let store = &self.state.store;
        store.count_events(project_id).await.expect("count")
    }

    /// A visitor's session as stored; it must exist.
    pub async fn stored_session(&self, project_id: &str, session_id: &str) -> SiteSession {
        let found = self.state.store.session(project_id, session_id).await;
        found.expect("store").expect("a stored session")
    }

    /// A person as stored (`uid:…` or the anonymous id); they must exist.
    pub async fn stored_user(&self, project_id: &str, site_user_id: &str) -> SiteUser {
        let found = self.state.store.site_user(project_id, site_user_id).await;
        found.expect("store").expect("a stored person")
    }
}
