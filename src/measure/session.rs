//! What one simulated caller keeps between its steps: values captured from responses (the
//! session id, …), and how long it still has to listen to the assistant's last reply.

use crate::scenario::template::UserVars;
use goose::prelude::GooseUser;
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct CallerState {
    pub vars: UserVars,
    /// The audio of the last reply still to be listened to (and the pause after it).
    pub listen_owed: Duration,
}

/// The caller's captured values, if it has any.
pub fn vars(user: &GooseUser) -> Option<&UserVars> {
    user.get_session_data::<CallerState>().map(|s| &s.vars)
}

/// The caller's state, created empty on first use.
pub fn state(user: &mut GooseUser) -> &mut CallerState {
    if user.get_session_data::<CallerState>().is_none() {
        user.set_session_data(CallerState::default());
    }
    user.get_session_data_unchecked_mut::<CallerState>()
}
