//! The set-up almost every test starts with: a server, its owner signed in, and
//! the default project.

use vibe_server::config::Config;
use vibe_store::{Project, Role};

use super::{spawn_app_with, Backend, Session, TestApp};

/// The app, its owner's session, and the default project.
pub type SignedIn = (TestApp, Session, Project);

pub async fn signed_in(backend: Backend) -> Option<SignedIn> {
    signed_in_with(backend, |_| {}).await
}

pub async fn signed_in_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<SignedIn> {
    let app = spawn_app_with(backend, tweak).await?;
    let owner = app.login_owner().await;
    let project = app.default_project(&owner).await;
    Some((app, owner, project))
}

impl TestApp {
    /// A new account of `role` (`name@example.com`), signed in; like every new
    /// account it joins the default project.
    pub async fn as_role(&self, role: Role) -> Session {
        let email = format!("{}@example.com", role.as_str());
        self.create_user(&email, role).await
    }
}
