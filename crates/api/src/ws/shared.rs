//! Alike subscriptions run once per process. A `jobProgress` or `importProgress`
//! subscription is a stream of states, the same for every socket of one account that sends
//! the same document with the same variables: the first executes it, later ones join it,
//! and each response is serialised once for all of them.
//!
//! A subscriber that cannot keep up is given the newest state instead of a queue: a state
//! still waiting for its socket is replaced by a newer one with the same `status`, so every
//! status change and the final state still arrive, and the wait stays a few entries long.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use async_graphql::parser::types::{DocumentOperations, OperationType, Selection};
use futures::{Stream, StreamExt};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::auth::Viewer;
use crate::phase::Phase;
use crate::schema::ApiSchema;

/// The subscriptions that stream states and so may be shared.
const STATE_STREAMS: &[&str] = &["jobProgress", "importProgress"];

/// What makes two subscriptions alike.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key {
    viewer: Uuid,
    role: domain::Role,
    query: String,
    operation: Option<String>,
    variables: String,
}

impl Key {
    /// The key of a subscription that may be shared: one operation (or the named one), a
    /// subscription whose only root field is a state stream. `None` for anything else.
    pub fn of(
        viewer: Viewer,
        query: &str,
        operation: Option<&str>,
        variables: Option<&serde_json::Value>,
    ) -> Option<Self> {
        let document = async_graphql::parser::parse_query(query).ok()?;
        let op = match (&document.operations, operation) {
            (DocumentOperations::Single(op), _) => op,
            (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name)?,
            (DocumentOperations::Multiple(_), None) => return None,
        };
        if op.node.ty != OperationType::Subscription || !op.node.directives.is_empty() {
            return None;
        }
        let [root] = op.node.selection_set.node.items.as_slice() else {
            return None;
        };
        let Selection::Field(field) = &root.node else {
            return None;
        };
        let field = &field.node;
        if !field.directives.is_empty() || !STATE_STREAMS.contains(&field.name.node.as_str()) {
            return None;
        }
        Some(Self {
            viewer: viewer.id,
            role: viewer.role,
            query: query.to_string(),
            operation: operation.map(str::to_string),
            variables: variables.map(|v| v.to_string()).unwrap_or_default(),
        })
    }
}

/// One message of a shared stream, serialised once.
pub enum Item {
    /// A `next` payload, and the `status` it carries (if selected).
    Next {
        payload: Box<str>,
        status: Option<Box<str>>,
    },
    /// The document was refused: the `error` message's payload. The stream ends.
    Error(Box<str>),
    /// The stream ended by itself.
    Complete,
}

impl Item {
    /// Nothing follows this message.
    pub fn ends(&self) -> bool {
        !matches!(self, Item::Next { .. })
    }
}

type Table = Arc<Mutex<HashMap<Key, Weak<Shared>>>>;

/// Every shared subscription of this process.
#[derive(Default)]
pub struct SharedSubscriptions {
    running: Table,
}

impl SharedSubscriptions {
    /// Joins the running subscription alike to `key`, or starts it with `request`.
    pub fn join(
        &self,
        key: Key,
        schema: &ApiSchema,
        request: async_graphql::Request,
        phase: Phase,
        caller: crate::auth::Caller,
        ready: Arc<Notify>,
    ) -> Subscriber {
        self.join_with(key, ready, || items(schema.clone(), request, phase, caller))
    }

    /// Joins the running subscription alike to `key`, or starts it with the messages of
    /// `start()` (called only then). `ready` is notified whenever a message waits.
    fn join_with<S>(&self, key: Key, ready: Arc<Notify>, start: impl FnOnce() -> S) -> Subscriber
    where
        S: Stream<Item = Item> + Send + 'static,
    {
        // The lock is let go before any `Shared` may drop: its drop takes the lock too.
        let running = lock(&self.running).get(&key).and_then(Weak::upgrade);
        if let Some(subscriber) = running.and_then(|shared| shared.subscriber(&ready)) {
            return subscriber;
        }
        let shared = Arc::new(Shared {
            key: key.clone(),
            table: Arc::clone(&self.running),
            state: Mutex::new(State::default()),
            task: OnceLock::new(),
        });
        let Some(subscriber) = shared.subscriber(&ready) else {
            unreachable!("a new subscription has not ended");
        };
        lock(&self.running).insert(key, Arc::downgrade(&shared));
        let task = tokio::spawn(forward(Arc::downgrade(&shared), start()));
        let _ = shared.task.set(task);
        subscriber
    }

    /// Subscriptions executing now, however many sockets share each.
    #[cfg(test)]
    fn running(&self) -> usize {
        lock(&self.running)
            .values()
            .filter(|w| w.strong_count() > 0)
            .count()
    }
}

struct Shared {
    key: Key,
    table: Table,
    state: Mutex<State>,
    task: OnceLock<JoinHandle<()>>,
}

#[derive(Default)]
struct State {
    /// The newest message, which a joiner starts from.
    latest: Option<Arc<Item>>,
    mailboxes: Vec<Weak<Mailbox>>,
}

impl Shared {
    /// A new subscriber, starting from the newest state; `None` once the stream has ended.
    fn subscriber(self: &Arc<Self>, ready: &Arc<Notify>) -> Option<Subscriber> {
        let mut state = lock(&self.state);
        if state.latest.as_ref().is_some_and(|item| item.ends()) {
            return None;
        }
        let mailbox = Arc::new(Mailbox::new(Arc::clone(ready)));
        if let Some(latest) = &state.latest {
            mailbox.put(Arc::clone(latest));
        }
        state.mailboxes.push(Arc::downgrade(&mailbox));
        Some(Subscriber {
            _shared: Arc::clone(self),
            mailbox,
        })
    }

    fn publish(&self, item: Item) {
        let item = Arc::new(item);
        let mut state = lock(&self.state);
        state.latest = Some(Arc::clone(&item));
        state.mailboxes.retain(|mailbox| match mailbox.upgrade() {
            Some(mailbox) => {
                mailbox.put(Arc::clone(&item));
                true
            }
            None => false,
        });
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(task) = self.task.get() {
            task.abort();
        }
        let mut table = lock(&self.table);
        // Unless a newer subscription took the key meanwhile.
        if table.get(&self.key).is_some_and(|w| w.strong_count() == 0) {
            table.remove(&self.key);
        }
    }
}

/// The messages of one execution of `request`, each serialised once.
fn items(
    schema: ApiSchema,
    request: async_graphql::Request,
    phase: Phase,
    caller: crate::auth::Caller,
) -> impl Stream<Item = Item> {
    let mut first = true;
    schema
        .execute_stream(request, phase.clone(), caller)
        .map(move |response| {
            let item = if first && !phase.validated() && response.is_err() {
                // The document did not parse or validate: an `error` message, no `complete`.
                Item::Error(json(&response.errors))
            } else {
                Item::Next {
                    status: status_of(&response.data),
                    payload: json(&response),
                }
            };
            first = false;
            item
        })
}

/// Hands each message to every subscriber, for as long as anyone follows.
async fn forward<S: Stream<Item = Item>>(shared: Weak<Shared>, items: S) {
    let mut items = std::pin::pin!(items);
    while let Some(item) = items.next().await {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let ends = item.ends();
        shared.publish(item);
        if ends {
            return;
        }
    }
    if let Some(shared) = shared.upgrade() {
        shared.publish(Item::Complete);
    }
}

fn json<T: serde::Serialize>(value: &T) -> Box<str> {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "{}".to_string())
        .into_boxed_str()
}

/// The `status` of the one root field's object, if the document selected it.
fn status_of(data: &async_graphql::Value) -> Option<Box<str>> {
    let async_graphql::Value::Object(root) = data else {
        return None;
    };
    let (_, async_graphql::Value::Object(fields)) = root.iter().next()? else {
        return None;
    };
    match fields.get("status")? {
        async_graphql::Value::Enum(name) => Some(name.as_str().into()),
        async_graphql::Value::String(s) => Some(s.as_str().into()),
        _ => None,
    }
}

/// One socket's place in a shared subscription. The socket takes its messages itself when
/// told they wait, with no task or channel of its own between the two.
pub struct Subscriber {
    _shared: Arc<Shared>,
    mailbox: Arc<Mailbox>,
}

impl Subscriber {
    /// The oldest message waiting for this socket, if any.
    pub fn take(&self) -> Option<Arc<Item>> {
        self.mailbox.take()
    }

    /// The next message for this socket; after one that ends the stream, nothing more.
    #[cfg(test)]
    async fn next(&self) -> Arc<Item> {
        loop {
            if let Some(item) = self.mailbox.take() {
                return item;
            }
            self.mailbox.ready.notified().await;
        }
    }
}

/// What waits for one subscriber's socket.
struct Mailbox {
    queue: Mutex<VecDeque<Arc<Item>>>,
    /// The socket's, shared by its subscriptions.
    ready: Arc<Notify>,
}

impl Mailbox {
    fn new(ready: Arc<Notify>) -> Self {
        Self {
            queue: Mutex::new(VecDeque::new()),
            ready,
        }
    }

    fn put(&self, item: Arc<Item>) {
        let mut queue = lock(&self.queue);
        let same_status = |waiting: &Item| match (waiting, &*item) {
            (Item::Next { status: a, .. }, Item::Next { status: b, .. }) => a == b,
            _ => false,
        };
        if queue.back().is_some_and(|waiting| same_status(waiting)) {
            queue.pop_back();
        }
        queue.push_back(item);
        drop(queue);
        self.ready.notify_one();
    }

    fn take(&self) -> Option<Arc<Item>> {
        lock(&self.queue).pop_front()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(status: &str, n: u32) -> Item {
        Item::Next {
            payload: format!("{{\"n\":{n}}}").into(),
            status: Some(status.into()),
        }
    }

    fn payload(item: &Item) -> String {
        match item {
            Item::Next { payload, status } => {
                format!("{}:{payload}", status.as_deref().unwrap_or("-"))
            }
            Item::Error(e) => format!("error:{e}"),
            Item::Complete => "complete".into(),
        }
    }

    #[test]
    fn a_slow_subscriber_gets_the_newest_state_and_every_status_change() {
        let mailbox = Mailbox::new(Arc::default());
        for n in 0..1000 {
            mailbox.put(Arc::new(next("RUNNING", n)));
        }
        mailbox.put(Arc::new(next("PAUSED", 1000)));
        for n in 1001..2000 {
            mailbox.put(Arc::new(next("RUNNING", n)));
        }
        mailbox.put(Arc::new(next("SUCCEEDED", 2000)));
        mailbox.put(Arc::new(Item::Complete));
        let mut got = Vec::new();
        while let Some(item) = mailbox.take() {
            got.push(payload(&item));
        }
        assert_eq!(
            got,
            [
                "RUNNING:{\"n\":999}",
                "PAUSED:{\"n\":1000}",
                "RUNNING:{\"n\":1999}",
                "SUCCEEDED:{\"n\":2000}",
                "complete"
            ]
        );
    }

    #[test]
    fn states_without_a_status_are_all_coalesced_but_the_end_is_kept() {
        let mailbox = Mailbox::new(Arc::default());
        for n in 0..10 {
            mailbox.put(Arc::new(Item::Next {
                payload: format!("{n}").into(),
                status: None,
            }));
        }
        mailbox.put(Arc::new(Item::Complete));
        let got: Vec<String> = std::iter::from_fn(|| mailbox.take())
            .map(|i| payload(&i))
            .collect();
        assert_eq!(got, ["-:9", "complete"]);
    }

    fn viewer() -> Viewer {
        Viewer {
            id: Uuid::nil(),
            role: domain::Role::User,
        }
    }

    fn key() -> Key {
        let query = "subscription { jobProgress(jobId: \"x\") { status } }";
        Key::of(viewer(), query, None, None).expect("a shared key")
    }

    #[test]
    fn only_state_streams_are_shared() {
        let progress = "subscription($id: UUID!) { jobProgress(jobId: $id) { status } }";
        assert!(Key::of(viewer(), progress, None, None).is_some());
        assert!(
            Key::of(
                viewer(),
                "subscription { importProgress(id: \"x\") { status } }",
                None,
                None
            )
            .is_some()
        );
        for other in [
            "subscription { notifications { __typename } }",
            "query { me { email } }",
            "subscription { jobProgress(jobId: \"x\") { status } b: jobProgress(jobId: \"y\") { status } }",
            "subscription { ...F } fragment F on SubscriptionRoot { jobProgress(jobId: \"x\") { status } }",
            "subscription A { jobProgress(jobId: \"x\") { status } } subscription B { jobProgress(jobId: \"y\") { status } }",
            "not graphql",
        ] {
            assert!(Key::of(viewer(), other, None, None).is_none(), "{other}");
        }
        let named =
            "subscription A { jobProgress(jobId: \"x\") { status } } query B { me { email } }";
        assert!(Key::of(viewer(), named, Some("A"), None).is_some());
        assert!(Key::of(viewer(), named, Some("B"), None).is_none());
    }

    #[tokio::test]
    async fn alike_subscriptions_share_one_execution_until_the_last_leaves() {
        let shared = SharedSubscriptions::default();
        let a = shared.join_with(key(), Arc::default(), futures::stream::pending);
        let b = shared.join_with(
            key(),
            Arc::default(),
            || -> futures::stream::Pending<Item> { unreachable!("b joins a") },
        );
        assert_eq!(shared.running(), 1);
        drop(a);
        assert_eq!(shared.running(), 1);
        drop(b);
        assert_eq!(shared.running(), 0);
        let c = shared.join_with(key(), Arc::default(), futures::stream::pending);
        assert_eq!(shared.running(), 1);
        drop(c);
    }

    #[tokio::test]
    async fn a_joiner_starts_from_the_newest_state_and_an_ended_stream_is_not_joined() {
        let shared = SharedSubscriptions::default();
        let (tx, rx) = futures::channel::mpsc::unbounded::<Item>();
        let first = shared.join_with(key(), Arc::default(), || rx);
        tx.unbounded_send(next("RUNNING", 1)).expect("send");
        assert_eq!(payload(&*first.next().await), "RUNNING:{\"n\":1}");
        tx.unbounded_send(next("RUNNING", 2)).expect("send");
        assert_eq!(payload(&*first.next().await), "RUNNING:{\"n\":2}");
        let second = shared.join_with(
            key(),
            Arc::default(),
            || -> futures::stream::Pending<Item> { unreachable!("second joins first") },
        );
        assert_eq!(payload(&*second.next().await), "RUNNING:{\"n\":2}");
        tx.unbounded_send(next("SUCCEEDED", 3)).expect("send");
        drop(tx);
        for s in [&first, &second] {
            assert_eq!(payload(&*s.next().await), "SUCCEEDED:{\"n\":3}");
            assert_eq!(payload(&*s.next().await), "complete");
        }
        // The stream ended: a new subscription runs anew, with nothing of the old one.
        let third = shared.join_with(key(), Arc::default(), futures::stream::pending);
        assert!(
            third.mailbox.take().is_none(),
            "the new subscription has nothing of the old one"
        );
        drop((first, second));
        assert_eq!(shared.running(), 1);
        drop(third);
        assert_eq!(shared.running(), 0);
    }
}
