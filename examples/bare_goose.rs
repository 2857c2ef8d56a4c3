//! The baseline for `make bench`: a bare Goose load test, one transaction making one GET (of
//! `/health`, or of `BARE_PATH`), nothing measured beyond what Goose does. voiceswarm's overhead
//! is judged against it.

use goose::prelude::*;
use std::sync::OnceLock;

fn path() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| std::env::var("BARE_PATH").unwrap_or_else(|_| "/health".into()))
}

async fn health(user: &mut GooseUser) -> TransactionResult {
    let _response = user.get(path()).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), GooseError> {
    GooseAttack::initialize()?
        .register_scenario(scenario!("Bare").register_transaction(transaction!(health)))
        .execute()
        .await?;
    Ok(())
}
