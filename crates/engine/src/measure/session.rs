//! What one simulated caller keeps between its steps: values captured from responses (the
//! session id, …), and how long it still has to listen to the assistant's last reply.

use super::clients::ClientFactory;
use goose::prelude::{GooseUser, TransactionError};
use std::time::Duration;
use voiceswarm_model::scenario::template::UserVars;

#[derive(Debug, Clone, Default)]
pub struct CallerState {
    pub vars: UserVars,
    /// The audio of the last reply still to be listened to (and the pause after it).
    pub listen_owed: Duration,
    /// The caller has its own HTTP client (per-user clients are built at the first request).
    pub own_client: bool,
    /// Its last call failed: it calls again no sooner than this (the redial pause).
    pub redial_at: Option<std::time::Instant>,
}

/// The caller's captured values, if it has any.
pub fn vars(user: &GooseUser) -> Option<&UserVars> {
    user.get_session_data::<CallerState>().map(|s| &s.vars)
}

/// Gives `user` its own client from `factory` before its first request; later calls do nothing.
pub fn own_client(
    user: &mut GooseUser,
    factory: &ClientFactory,
) -> Result<(), Box<TransactionError>> {
    if state(user).own_client {
        return Ok(());
    }
    user.client = factory
        .client()
        .map_err(|e| Box::new(TransactionError::from(e)))?;
    state(user).own_client = true;
    Ok(())
}

/// The caller's state, created empty on first use.
pub fn state(user: &mut GooseUser) -> &mut CallerState {
    if user.get_session_data::<CallerState>().is_none() {
        user.set_session_data(CallerState::default());
    }
    user.get_session_data_unchecked_mut::<CallerState>()
}
