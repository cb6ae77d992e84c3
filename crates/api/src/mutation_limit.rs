//! At most one mutation field per request: every mutation is checked and counted against
//! its account on its own, so 300 aliased `startSearch` fields in one request are refused
//! as a whole rather than run side by side.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{
    ExecutableDocument, FragmentDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, ServerError, Variables};

/// Mutation fields that may share a request. None yet: a field goes here only once its
/// docs say it is safe to batch.
const SAFE_TO_BATCH: &[&str] = &[];

pub struct OneMutationPerRequest;

impl ExtensionFactory for OneMutationPerRequest {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(OneMutationPerRequest)
    }
}

/// Root fields of a selection set, through fragments, that are not safe to batch.
fn root_fields(
    set: &SelectionSet,
    fragments: &std::collections::HashMap<Name, Positioned<FragmentDefinition>>,
    depth: usize,
) -> usize {
    if depth > 8 {
        return 0;
    }
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                let name = field.node.name.node.as_str();
                usize::from(name != "__typename" && !SAFE_TO_BATCH.contains(&name))
            }
            Selection::InlineFragment(inline) => {
                root_fields(&inline.node.selection_set.node, fragments, depth + 1)
            }
            Selection::FragmentSpread(spread) => fragments
                .get(&spread.node.fragment_name.node)
                .map_or(0, |f| {
                    root_fields(&f.node.selection_set.node, fragments, depth + 1)
                }),
        })
        .sum()
}

#[async_trait::async_trait]
impl Extension for OneMutationPerRequest {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> Result<ExecutableDocument, ServerError> {
        let document = next.run(ctx, query, variables).await?;
        for (_, operation) in document.operations.iter() {
            if operation.node.ty != OperationType::Mutation {
                continue;
            }
            if let Some(phase) = ctx.data_opt::<crate::phase::Phase>() {
                phase.note_mutation();
            }
            let n = root_fields(&operation.node.selection_set.node, &document.fragments, 0);
            if n > 1 {
                let mut error = ServerError::new(
                    format!(
                        "a request may run one mutation field, and this one has {n}: send them one per request"
                    ),
                    Some(operation.pos),
                );
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("code", "TOO_MANY_MUTATIONS");
                return Err(error);
            }
        }
        Ok(document)
    }
}
