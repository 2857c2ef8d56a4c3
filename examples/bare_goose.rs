//! The baseline for `make bench`: a bare Goose load test, one transaction making one GET of
//! `/health`, nothing measured beyond what Goose does. voiceswarm's overhead is judged against it.

use goose::prelude::*;

async fn health(user: &mut GooseUser) -> TransactionResult {
    let _response = user.get("/health").await?;
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
