//! How a request runs: checked, then executed, in two passes over two schemas of the same
//! types.
//!
//! The first pass, on a schema with the checking extensions (the query limits, one mutation
//! a request, and [`Checks`] here), parses the document, validates it and stops. The
//! second runs the parsed document on a schema with no extension at all: async-graphql
//! resolves each field directly only when its schema has no extension, and otherwise
//! through a chain of boxed futures per field (BENCHMARKS.md, issue 15: a page of 50 offers
//! is some 700 fields). The passes also tell a request error (the document did not parse or
//! validate, so nothing ran) from an execution error, which GraphQL over HTTP and
//! graphql-transport-ws answer differently.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::futures_util::stream::{self, BoxStream, StreamExt};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};
use async_graphql::{Request, Response, ServerError, ValidationResult, Variables};

use crate::auth::Caller;
use crate::schema::GraphqlSchema;

/// Whether a request got through its checks and began executing; read after it ran.
#[derive(Clone, Default)]
pub struct Phase {
    validated: Arc<AtomicBool>,
    executed: Arc<AtomicBool>,
    mutation: Arc<AtomicBool>,
}

impl Phase {
    /// The document holds a mutation (noted by the checking pass).
    pub fn note_mutation(&self) {
        self.mutation.store(true, Ordering::SeqCst);
    }

    /// The request was a mutation: its caller's next reads go to the primary for a moment.
    pub fn mutation(&self) -> bool {
        self.mutation.load(Ordering::SeqCst)
    }

    /// The document parsed and validated.
    pub fn validated(&self) -> bool {
        self.validated.load(Ordering::SeqCst)
    }

    /// A query or mutation began executing.
    pub fn executed(&self) -> bool {
        self.executed.load(Ordering::SeqCst)
    }
}

/// The API's schema: the checking pass and the executing one.
#[derive(Clone)]
pub struct ApiSchema {
    checks: GraphqlSchema,
    runs: GraphqlSchema,
}

impl ApiSchema {
    /// `checks` must carry [`Checks`]; `runs` the same types, their data, and no extension.
    pub(crate) fn new(checks: GraphqlSchema, runs: GraphqlSchema) -> Self {
        Self { checks, runs }
    }

    /// Runs a query or mutation sent by `caller`.
    pub async fn execute(&self, request: Request, phase: &Phase, caller: Caller) -> Response {
        match self.check(request, phase, caller).await {
            Ok(request) => {
                phase.executed.store(true, Ordering::SeqCst);
                code_errors(self.runs.execute(request).await)
            }
            Err(refusal) => refusal,
        }
    }

    /// Runs any operation sent by `caller`, a subscription's events included.
    pub fn execute_stream(
        &self,
        request: Request,
        phase: Phase,
        caller: Caller,
    ) -> BoxStream<'static, Response> {
        let schema = self.clone();
        stream::once(async move {
            match schema.check(request, &phase, caller).await {
                Ok(request) => {
                    phase.executed.store(true, Ordering::SeqCst);
                    schema.runs.execute_stream(request).map(code_errors).boxed()
                }
                Err(refusal) => stream::once(async move { refusal }).boxed(),
            }
        })
        .flatten()
        .boxed()
    }

    /// The first pass: `request` with its parsed document if it passed, or the response
    /// that refuses it.
    async fn check(
        &self,
        mut request: Request,
        phase: &Phase,
        caller: Caller,
    ) -> Result<Request, Response> {
        let pass = Arc::new(Pass {
            operation_name: request.operation_name.clone(),
            document: Mutex::new(None),
        });
        let mut checked = Request::new(request.query.clone())
            .variables(request.variables.clone())
            .data(Arc::clone(&pass))
            .data(phase.clone())
            .data(caller);
        checked.operation_name = request.operation_name.clone();
        checked.introspection_mode = request.introspection_mode;
        let response = self.checks.execute(checked).await;
        let document = pass
            .document
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        match document {
            Some(document) if phase.validated() => {
                request.set_parsed_query(document);
                Ok(request)
            }
            _ => Err(response),
        }
    }
}

/// One request's first pass: the operation it names, and its document once parsed.
struct Pass {
    operation_name: Option<String>,
    document: Mutex<Option<ExecutableDocument>>,
}

/// The extension of the checking pass: it codes validation errors, refuses an operation
/// name the document does not have, and stops the pass once the document is valid.
pub struct Checks;

impl ExtensionFactory for Checks {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Checks)
    }
}

#[async_trait::async_trait]
impl Extension for Checks {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> Result<ExecutableDocument, ServerError> {
        let document = next.run(ctx, query, variables).await?;
        if let Some(pass) = ctx.data_opt::<Arc<Pass>>() {
            *pass
                .document
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(document.clone());
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| coded(e, "GRAPHQL_VALIDATION_FAILED"))
                .collect::<Vec<_>>()
        })?;
        // Without a pass (the limits-only schema of the tests), the request goes on here.
        let Some(pass) = ctx.data_opt::<Arc<Pass>>() else {
            return Ok(result);
        };
        let picked = pass
            .document
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_ref()
            .map(|document| pick_operation(document, pass.operation_name.as_deref()));
        if let Some(Err(e)) = picked {
            return Err(vec![coded(e, "GRAPHQL_VALIDATION_FAILED")]);
        }
        if let Some(phase) = ctx.data_opt::<Phase>() {
            phase.validated.store(true, Ordering::SeqCst);
        }
        // Checked: the executing pass takes it from here.
        Err(vec![ServerError::new("checked", None)])
    }
}

/// The operation of `document` that a request naming `name` runs, as async-graphql picks
/// it after validation (same messages).
fn pick_operation(document: &ExecutableDocument, name: Option<&str>) -> Result<(), ServerError> {
    match (name, &document.operations) {
        (Some(name), DocumentOperations::Multiple(operations))
            if operations.keys().any(|n| n.as_str() == name) =>
        {
            Ok(())
        }
        (Some(name), _) => Err(ServerError::new(
            format!(r#"Unknown operation named "{name}""#),
            None,
        )),
        (None, DocumentOperations::Single(_)) => Ok(()),
        (None, DocumentOperations::Multiple(operations)) if operations.len() == 1 => Ok(()),
        (None, DocumentOperations::Multiple(_)) => Err(ServerError::new(
            "Operation name required in request.",
            None,
        )),
    }
}

fn coded(mut error: ServerError, code: &str) -> ServerError {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
    error
}

/// Codes the errors of an execution that carry none.
fn code_errors(mut response: Response) -> Response {
    response.errors = std::mem::take(&mut response.errors)
        .into_iter()
        .map(|error| {
            // Argument values are coerced as fields resolve, so a malformed one (a date
            // that is not a date) shows up here rather than in validation.
            let code = if error.message.starts_with("Failed to parse")
                || error.message.starts_with("Invalid value")
            {
                "BAD_USER_INPUT"
            } else {
                "INTERNAL"
            };
            coded(error, code)
        })
        .collect();
    response
}
