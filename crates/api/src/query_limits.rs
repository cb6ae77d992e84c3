//! What one request may cost, checked before anything runs (docs/api-limits.md):
//!
//! - **cost**: every field costs 1 plus what it selects; a connection costs `first ×` what
//!   one item selects, a bounded list its bound × one item. Over `max_cost` →
//!   `QUERY_TOO_COMPLEX`, naming the cost and the limit.
//! - **depth**: at most `max_depth` nested fields → `QUERY_TOO_DEEP`; and introspection may
//!   nest `fields`, `inputFields`, `interfaces` or `possibleTypes` at most
//!   [`MAX_INTROSPECTION_NESTING`] deep, which refuses circular introspection queries but
//!   not the standard one that GraphiQL and code generators send.
//! - **aliases**: one field at most `max_aliases` times in one selection set →
//!   `QUERY_TOO_COMPLEX`, so a cheap field cannot be multiplied into many SQL queries.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{
    ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, ServerError, ValidationResult, Variables};

/// Items a connection returns when `first` is not given, and at most.
pub const DEFAULT_PAGE: usize = 20;
pub const MAX_PAGE: usize = 100;

/// What `priceCalendar` is counted as: the calendar has a cell per date pair found, which
/// no argument bounds, so it costs as this many cells.
pub const CALENDAR_CELLS: usize = 500;

/// graphql-js's `MaxIntrospectionDepthRule` uses the same bound.
pub const MAX_INTROSPECTION_NESTING: usize = 3;

/// The cost of a connection field: `first` (defaulted, and clamped as the resolver clamps
/// it) times one item's cost.
pub fn page(first: Option<i32>, child: usize) -> usize {
    let items = first.map_or(DEFAULT_PAGE, |n| {
        usize::try_from(n).unwrap_or(1).clamp(1, MAX_PAGE)
    });
    list(items, child)
}

/// The cost of a list of at most `bound` items.
pub fn list(bound: usize, child: usize) -> usize {
    bound.saturating_mul(child.max(1)).saturating_add(1)
}

/// The bound of a list given by an `Int` argument.
pub fn bound(n: i32) -> usize {
    usize::try_from(n).unwrap_or(0)
}

#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    pub max_cost: usize,
    pub max_depth: usize,
    pub max_aliases: usize,
    /// Whether a caller without a token may introspect; if not, a document that asks for
    /// `__schema` or `__type` is refused as UNAUTHENTICATED.
    pub anonymous_introspection: bool,
}

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
}

fn refusal(code: &str, message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

/// Fields of a selection set by name, through fragments, the way they are executed.
fn count_fields<'a>(
    set: &'a SelectionSet,
    fragments: &'a Fragments,
    counts: &mut HashMap<&'a str, usize>,
    hops: usize,
) {
    if hops > 16 {
        return;
    }
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                *counts.entry(field.node.name.node.as_str()).or_default() += 1;
            }
            Selection::InlineFragment(inline) => {
                count_fields(&inline.node.selection_set.node, fragments, counts, hops + 1);
            }
            Selection::FragmentSpread(spread) => {
                if let Some(f) = fragments.get(&spread.node.fragment_name.node) {
                    count_fields(&f.node.selection_set.node, fragments, counts, hops + 1);
                }
            }
        }
    }
}

/// The most often one field is selected in one selection set, anywhere in `set`.
fn most_aliased<'a>(
    set: &'a SelectionSet,
    fragments: &'a Fragments,
    hops: usize,
) -> Option<(&'a str, usize)> {
    if hops > 64 {
        return None;
    }
    let mut counts = HashMap::new();
    count_fields(set, fragments, &mut counts, 0);
    let mut worst = counts.into_iter().max_by_key(|(_, n)| *n);
    for item in &set.items {
        let inner = match &item.node {
            Selection::Field(field) => &field.node.selection_set.node,
            Selection::InlineFragment(inline) => &inline.node.selection_set.node,
            Selection::FragmentSpread(spread) => {
                match fragments.get(&spread.node.fragment_name.node) {
                    Some(f) => &f.node.selection_set.node,
                    None => continue,
                }
            }
        };
        if let Some(found) = most_aliased(inner, fragments, hops + 1)
            && worst.is_none_or(|(_, n)| found.1 > n)
        {
            worst = Some(found);
        }
    }
    worst
}

const INTROSPECTION_LISTS: &[&str] = &["fields", "inputFields", "interfaces", "possibleTypes"];

/// How deep `fields`/`inputFields`/`interfaces`/`possibleTypes` nest in `set`.
fn introspection_nesting(set: &SelectionSet, fragments: &Fragments, hops: usize) -> usize {
    if hops > 64 {
        return 0;
    }
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                let own = usize::from(INTROSPECTION_LISTS.contains(&field.node.name.node.as_str()));
                own + introspection_nesting(&field.node.selection_set.node, fragments, hops + 1)
            }
            Selection::InlineFragment(inline) => {
                introspection_nesting(&inline.node.selection_set.node, fragments, hops + 1)
            }
            Selection::FragmentSpread(spread) => fragments
                .get(&spread.node.fragment_name.node)
                .map_or(0, |f| {
                    introspection_nesting(&f.node.selection_set.node, fragments, hops + 1)
                }),
        })
        .max()
        .unwrap_or(0)
}

/// The introspection parts of `set`: `__schema` and `__type` fields at its root.
fn introspection_roots<'a>(
    set: &'a SelectionSet,
    fragments: &'a Fragments,
    hops: usize,
    out: &mut Vec<&'a SelectionSet>,
) {
    if hops > 16 {
        return;
    }
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                if matches!(field.node.name.node.as_str(), "__schema" | "__type") {
                    out.push(&field.node.selection_set.node);
                }
            }
            Selection::InlineFragment(inline) => {
                introspection_roots(&inline.node.selection_set.node, fragments, hops + 1, out);
            }
            Selection::FragmentSpread(spread) => {
                if let Some(f) = fragments.get(&spread.node.fragment_name.node) {
                    introspection_roots(&f.node.selection_set.node, fragments, hops + 1, out);
                }
            }
        }
    }
}

impl QueryLimits {
    fn check_document(
        &self,
        document: &ExecutableDocument,
        anonymous: bool,
    ) -> Result<(), ServerError> {
        for (_, operation) in document.operations.iter() {
            let root = &operation.node.selection_set.node;
            let mut roots = Vec::new();
            introspection_roots(root, &document.fragments, 0, &mut roots);
            if anonymous && !self.anonymous_introspection && !roots.is_empty() {
                return Err(refusal(
                    "UNAUTHENTICATED",
                    "introspection is for signed-in callers: send `Authorization: Bearer <token>` \
                     with a token from logIn"
                        .to_string(),
                ));
            }
            if let Some((field, n)) = most_aliased(root, &document.fragments, 0)
                && n > self.max_aliases
            {
                return Err(refusal(
                    "QUERY_TOO_COMPLEX",
                    format!(
                        "`{field}` is asked for {n} times in one selection, more than the limit of {}: \
                         ask once and page through the answer",
                        self.max_aliases
                    ),
                ));
            }
            for set in roots {
                let nesting = introspection_nesting(set, &document.fragments, 0);
                if nesting >= MAX_INTROSPECTION_NESTING {
                    return Err(refusal(
                        "QUERY_TOO_DEEP",
                        format!(
                            "this introspection query nests fields, inputFields, interfaces or possibleTypes \
                             {nesting} deep; the limit is {}: read each type by name instead",
                            MAX_INTROSPECTION_NESTING - 1
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Extension for QueryLimits {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> Result<ExecutableDocument, ServerError> {
        let document = next.run(ctx, query, variables).await?;
        let anonymous = ctx
            .data_opt::<crate::auth::Caller>()
            .is_none_or(|caller| caller.0.is_none());
        self.check_document(&document, anonymous)?;
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if result.depth > self.max_depth {
            return Err(vec![refusal(
                "QUERY_TOO_DEEP",
                format!(
                    "this query nests fields {} deep, more than the limit of {}",
                    result.depth, self.max_depth
                ),
            )]);
        }
        if result.complexity > self.max_cost {
            return Err(vec![refusal(
                "QUERY_TOO_COMPLEX",
                format!(
                    "this query costs {}, more than the limit of {}: ask for fewer items (`first`), \
                     fewer fields or fewer aliases (docs/api-limits.md says what each costs)",
                    result.complexity, self.max_cost
                ),
            )]);
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cost_first_times_an_item() {
        assert_eq!(page(None, 5), 101);
        assert_eq!(page(Some(100), 5), 501);
        assert_eq!(
            page(Some(10_000), 5),
            501,
            "clamped as the resolver clamps it"
        );
        assert_eq!(page(Some(-3), 5), 6);
        assert_eq!(list(200, 0), 201);
    }
}
