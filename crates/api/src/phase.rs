//! Tells a request error (the document did not parse or validate, so nothing ran) from
//! an execution error. GraphQL over HTTP and graphql-transport-ws answer them differently.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextValidation,
};
use async_graphql::{Response, ServerError, ValidationResult};

/// Put one in a request's data; read it after the request ran.
#[derive(Clone, Default)]
pub struct Phase {
    validated: Arc<AtomicBool>,
    executed: Arc<AtomicBool>,
}

impl Phase {
    /// The document parsed and validated.
    pub fn validated(&self) -> bool {
        self.validated.load(Ordering::SeqCst)
    }

    /// A query or mutation began executing.
    pub fn executed(&self) -> bool {
        self.executed.load(Ordering::SeqCst)
    }
}

pub struct PhaseTracker;

impl ExtensionFactory for PhaseTracker {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PhaseExtension)
    }
}

struct PhaseExtension;

#[async_trait::async_trait]
impl Extension for PhaseExtension {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await;
        match (&result, ctx.data_opt::<Phase>()) {
            (Ok(_), Some(phase)) => phase.validated.store(true, Ordering::SeqCst),
            (Err(errors), _) => {
                return Err(errors
                    .iter()
                    .cloned()
                    .map(|mut e| {
                        let extensions = e.extensions.get_or_insert_with(Default::default);
                        if extensions.get("code").is_none() {
                            extensions.set("code", "GRAPHQL_VALIDATION_FAILED");
                        }
                        e
                    })
                    .collect());
            }
            _ => {}
        }
        result
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(phase) = ctx.data_opt::<Phase>() {
            phase.executed.store(true, Ordering::SeqCst);
        }
        let mut response = next.run(ctx, operation_name).await;
        for error in &mut response.errors {
            let extensions = error.extensions.get_or_insert_with(Default::default);
            if extensions.get("code").is_none() {
                // Argument values are coerced as fields resolve, so a malformed one (a date
                // that is not a date) shows up here rather than in validation.
                let code = if error.message.starts_with("Failed to parse")
                    || error.message.starts_with("Invalid value")
                {
                    "BAD_USER_INPUT"
                } else {
                    "INTERNAL"
                };
                extensions.set("code", code);
            }
        }
        response
    }
}
