//! The etcd v3 backend: for clusters that already run etcd, or need its replication.
//!
//! Every [`Store`] operation maps onto one etcd request (a transaction where a write must be
//! conditional), so etcd's own revisions are the store's revisions and its guarantees carry
//! over unchanged. Watches run on a task of their own that owns the etcd watch stream: etcd
//! cancels a watch when its stream is dropped, so the task lives exactly as long as the
//! consumer keeps the [`WatchStream`].

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use etcd_client::{
    Client, CompactionOptions, Compare, CompareOp, ConnectOptions, DeleteOptions, EventType,
    GetOptions, GetResponse, KvClient, PutOptions, ResponseHeader, Txn, TxnOp, TxnOpResponse,
    TxnResponse, WatchClient, WatchOptions, WatchResponse,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::{
    prefix_end, Deleted, Event, EventKind, KeyValue, ListPage, ListRequest, Revision, StorageError,
    Store, WatchStream,
};

/// Largest response accepted from etcd. tonic's default of 4 MiB is smaller than one list
/// page or one watch batch of large objects can be (etcd allows 1.5 MiB per value), so we
/// lift it as kube-apiserver does.
const MAX_RESPONSE_BYTES: usize = 512 * 1024 * 1024;
/// How long establishing a TCP connection to a member may take before trying another.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `connect` waits for the cluster to answer a first request.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// HTTP/2 pings keep long-lived watch streams from hanging on a dead connection. etcd
/// rejects pings more frequent than every 5 s by default, so stay above that.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(5);
/// Events a watch buffers ahead of a slow consumer before it stops reading from etcd.
const WATCH_BUFFER: usize = 256;
/// How long a failed read may spend finding out how far history was compacted.
const COMPACTION_PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// The key the compaction probe watches; its events (if any) are ignored.
const PROBE_KEY: &[u8] = b"\0ferrokube-compaction-probe";

/// The etcd backend. Cheap to share behind an `Arc`: the etcd clients are handles onto one
/// load-balanced gRPC channel, cloned per call so concurrent requests never wait on a lock.
pub struct EtcdStore {
    /// Kept for the lifetime of the store: it owns the endpoint set of the balanced channel
    /// the other clients share.
    _client: Client,
    kv: KvClient,
    watch: WatchClient,
}

impl EtcdStore {
    /// Connects to the cluster at `endpoints` (e.g. `http://127.0.0.1:2379`) and waits until
    /// it answers, so a misconfigured or unreachable cluster fails start-up instead of the
    /// first API request.
    pub async fn connect(endpoints: &[String]) -> Result<Self, StorageError> {
        let options = ConnectOptions::new()
            .with_connect_timeout(CONNECT_TIMEOUT)
            .with_keep_alive(KEEP_ALIVE_INTERVAL, KEEP_ALIVE_TIMEOUT);
        let client = Client::connect(endpoints, Some(options)).await?;
        let kv = client
            .kv_client()
            .max_decoding_message_size(MAX_RESPONSE_BYTES);
        let watch = client
            .watch_client()
            .max_decoding_message_size(MAX_RESPONSE_BYTES);
        let store = Self {
            _client: client,
            kv,
            watch,
        };
        let revision = match tokio::time::timeout(READY_TIMEOUT, store.current_revision()).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(unexpected(format!(
                    "no answer from {endpoints:?} within {READY_TIMEOUT:?}"
                )))
            }
        };
        tracing::info!(?endpoints, revision, "connected to etcd");
        Ok(store)
    }

    fn kv(&self) -> KvClient {
        self.kv.clone()
    }

    /// Turns a failed read at `requested` into the storage error callers act on: etcd only
    /// says *that* a revision is compacted or in the future, so the bounds are looked up.
    async fn read_error(&self, error: etcd_client::Error, requested: Revision) -> StorageError {
        match classify(&error) {
            Some(RevisionFault::Compacted) => StorageError::Compacted {
                requested,
                compacted: self.compacted_floor().await,
            },
            Some(RevisionFault::Future) => StorageError::FutureRevision {
                requested,
                current: self.current_revision().await.unwrap_or(0),
            },
            None => error.into(),
        }
    }

    /// The revision history was compacted to, best effort (0 when it cannot be learnt).
    ///
    /// etcd has no request that reports it, but a watch from revision 1 is refused with
    /// exactly that number, so one short-lived watch answers. Only used on error paths.
    async fn compacted_floor(&self) -> Revision {
        let mut watch = self.watch.clone();
        let probe = async move {
            let options = WatchOptions::new().with_start_revision(1);
            let mut stream = watch.watch(PROBE_KEY, Some(options)).await.ok()?;
            loop {
                let response = stream.message().await.ok()??;
                if response.compact_revision() != 0 {
                    return Some(response.compact_revision());
                }
                if response.canceled() {
                    return None;
                }
            }
        };
        match tokio::time::timeout(COMPACTION_PROBE_TIMEOUT, probe).await {
            Ok(Some(revision)) => revision,
            _ => {
                tracing::debug!("could not learn etcd's compacted revision");
                0
            }
        }
    }

    /// Reads the current value of `key` from the failure branch of a compare-and-swap, to
    /// tell a missing key (NotFound) from a changed one (Conflict).
    fn conflict(
        response: &TxnResponse,
        key: &str,
        expected: Revision,
    ) -> Result<StorageError, StorageError> {
        Ok(match single_get(response)?.into_iter().next() {
            None => StorageError::NotFound {
                key: key.to_owned(),
            },
            Some(current) => {
                tracing::debug!(
                    key,
                    expected,
                    current = current.mod_revision,
                    "compare-and-swap conflict"
                );
                StorageError::Conflict {
                    key: key.to_owned(),
                    expected,
                    current: Box::new(current),
                }
            }
        })
    }
}

#[async_trait]
impl Store for EtcdStore {
    async fn create(&self, key: &str, value: Bytes) -> Result<KeyValue, StorageError> {
        let txn = Txn::new()
            .when([Compare::create_revision(key, CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key, value.to_vec(), None)])
            .or_else([TxnOp::get(key, None)]);
        let response = self.kv().txn(txn).await?;
        if !response.succeeded() {
            return Err(StorageError::AlreadyExists {
                key: key.to_owned(),
            });
        }
        let revision = header_revision(response.header())?;
        tracing::trace!(key, revision, "created");
        Ok(KeyValue {
            key: key.to_owned(),
            value,
            create_revision: revision,
            mod_revision: revision,
        })
    }

    async fn update(
        &self,
        key: &str,
        value: Bytes,
        expected: Revision,
    ) -> Result<KeyValue, StorageError> {
        // A missing key has mod_revision 0: the create_revision guard keeps `expected == 0`
        // from creating it.
        let txn = Txn::new()
            .when([
                Compare::create_revision(key, CompareOp::Greater, 0),
                Compare::mod_revision(key, CompareOp::Equal, expected),
            ])
            .and_then([TxnOp::put(
                key,
                value.to_vec(),
                Some(PutOptions::new().with_prev_key()),
            )])
            .or_else([TxnOp::get(key, None)]);
        let response = self.kv().txn(txn).await?;
        if !response.succeeded() {
            return Err(Self::conflict(&response, key, expected)?);
        }
        let revision = header_revision(response.header())?;
        let create_revision = match response.op_responses().into_iter().next() {
            Some(TxnOpResponse::Put(put)) => put
                .prev_key()
                .map(|prev| prev.create_revision())
                .ok_or_else(|| {
                    unexpected(format!("update of {key:?} returned no previous value"))
                })?,
            other => {
                return Err(unexpected(format!(
                    "update of {key:?} answered {other:?} instead of a put"
                )))
            }
        };
        tracing::trace!(key, expected, revision, "updated");
        Ok(KeyValue {
            key: key.to_owned(),
            value,
            create_revision,
            mod_revision: revision,
        })
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<Deleted, StorageError> {
        let compares = match expected {
            Some(expected) => vec![
                Compare::create_revision(key, CompareOp::Greater, 0),
                Compare::mod_revision(key, CompareOp::Equal, expected),
            ],
            None => Vec::new(),
        };
        let txn = Txn::new()
            .when(compares)
            .and_then([TxnOp::delete(
                key,
                Some(DeleteOptions::new().with_prev_key()),
            )])
            .or_else([TxnOp::get(key, None)]);
        let response = self.kv().txn(txn).await?;
        if !response.succeeded() {
            return Err(Self::conflict(&response, key, expected.unwrap_or(0))?);
        }
        let revision = header_revision(response.header())?;
        let prev = match response.op_responses().into_iter().next() {
            Some(TxnOpResponse::Delete(mut deleted)) => deleted.take_prev_kvs().into_iter().next(),
            other => {
                return Err(unexpected(format!(
                    "delete of {key:?} answered {other:?} instead of a delete"
                )))
            }
        };
        let Some(prev) = prev else {
            return Err(StorageError::NotFound {
                key: key.to_owned(),
            });
        };
        let prev = convert_kv(prev)?;
        tracing::trace!(key, revision, "deleted");
        Ok(Deleted { prev, revision })
    }

    async fn get(
        &self,
        key: &str,
        revision: Option<Revision>,
    ) -> Result<Option<KeyValue>, StorageError> {
        let mut options = GetOptions::new();
        if let Some(revision) = revision.filter(|r| *r > 0) {
            options = options.with_revision(revision);
        }
        let mut response = match self.kv().get(key, Some(options)).await {
            Ok(response) => response,
            Err(error) => return Err(self.read_error(error, revision.unwrap_or(0)).await),
        };
        response
            .take_kvs()
            .into_iter()
            .next()
            .map(convert_kv)
            .transpose()
    }

    async fn list(&self, request: ListRequest) -> Result<ListPage, StorageError> {
        let requested = request.revision.filter(|r| *r > 0);
        let mut options = GetOptions::new().with_range(range_end(&request.prefix));
        if let Some(revision) = requested {
            options = options.with_revision(revision);
        }
        match request.limit {
            // etcd reads a limit of 0 as "no limit"; a page of nothing still needs the count.
            Some(0) => options = options.with_count_only(),
            Some(limit) => options = options.with_limit(i64::try_from(limit).unwrap_or(i64::MAX)),
            None => {}
        }
        let start = list_start(&request.prefix, request.after_key.as_deref());
        let mut response = match self.kv().get(start, Some(options)).await {
            Ok(response) => response,
            Err(error) => return Err(self.read_error(error, requested.unwrap_or(0)).await),
        };
        let revision = match requested {
            Some(revision) => revision,
            None => header_revision(response.header())?,
        };
        let count = u64::try_from(response.count()).unwrap_or(0);
        let items = response
            .take_kvs()
            .into_iter()
            .map(convert_kv)
            .collect::<Result<Vec<_>, _>>()?;
        let remaining = count.saturating_sub(u64::try_from(items.len()).unwrap_or(u64::MAX));
        Ok(ListPage {
            items,
            revision,
            remaining,
        })
    }

    async fn count(&self, prefix: &str) -> Result<u64, StorageError> {
        let options = GetOptions::new()
            .with_range(range_end(prefix))
            .with_count_only();
        let response = self.kv().get(range_start(prefix), Some(options)).await?;
        Ok(u64::try_from(response.count()).unwrap_or(0))
    }

    async fn current_revision(&self) -> Result<Revision, StorageError> {
        // Any read carries the store revision in its header; counting one key is the cheapest.
        let options = GetOptions::new().with_count_only();
        let response = self.kv().get(PROBE_KEY, Some(options)).await?;
        header_revision(response.header())
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream, StorageError> {
        // Fail from the call when we can tell up front, as the embedded backend does; a
        // compaction racing with the set-up still arrives as the stream's first item.
        if after > 0 {
            let options = GetOptions::new().with_count_only().with_revision(after);
            if let Err(error) = self.kv().get(PROBE_KEY, Some(options)).await {
                match classify(&error) {
                    Some(RevisionFault::Compacted) => {
                        return Err(StorageError::Compacted {
                            requested: after,
                            compacted: self.compacted_floor().await,
                        })
                    }
                    // Watching from the future is allowed: the changes arrive when written.
                    Some(RevisionFault::Future) => {}
                    None => return Err(error.into()),
                }
            }
        }
        // Start at `after` itself, not `after + 1`, and drop the events at `after`: etcd then
        // refuses exactly the `after` below its compacted revision, like the embedded store
        // (etcd still serves a start revision equal to the compacted one).
        let options = WatchOptions::new()
            .with_range(range_end(prefix))
            .with_start_revision(after.max(1))
            .with_prev_key();
        let mut stream = self
            .watch
            .clone()
            .watch(range_start(prefix), Some(options))
            .await?;
        // Wait for etcd to register the watch so set-up failures surface from this call.
        match stream.message().await? {
            Some(response) => {
                if let Some(error) = watch_ended(&response, after) {
                    return Err(error);
                }
            }
            None => return Err(watch_closed()),
        }
        let (tx, rx) = mpsc::channel(WATCH_BUFFER);
        let prefix = prefix.to_owned();
        tokio::spawn(async move {
            tracing::debug!(prefix, after, "etcd watch started");
            forward(stream, tx, after).await;
            tracing::debug!(prefix, after, "etcd watch ended");
        });
        Ok(Box::pin(ReceiverStream::new(rx)))
    }

    async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        if revision <= 0 {
            return Ok(());
        }
        let options = CompactionOptions::new().with_physical();
        match self.kv().compact(revision, Some(options)).await {
            Ok(_) => {
                tracing::debug!(revision, "compacted etcd history");
                Ok(())
            }
            Err(error) => match classify(&error) {
                Some(RevisionFault::Compacted) => Ok(()),
                _ => Err(self.read_error(error, revision).await),
            },
        }
    }
}

/// Moves events from etcd's watch stream to the consumer until either side ends. Owning
/// `stream` here keeps the etcd watch alive; returning drops it, which cancels the watch.
async fn forward(
    mut stream: etcd_client::WatchStream,
    tx: mpsc::Sender<Result<Event, StorageError>>,
    after: Revision,
) {
    loop {
        let message = tokio::select! {
            () = tx.closed() => return,
            message = stream.message() => message,
        };
        let response = match message {
            Ok(Some(response)) => response,
            Ok(None) => {
                tracing::warn!(after, "etcd closed a watch stream");
                let _ = tx.send(Err(watch_closed())).await;
                return;
            }
            Err(error) => {
                tracing::warn!(after, %error, "etcd watch failed");
                let _ = tx.send(Err(error.into())).await;
                return;
            }
        };
        if let Some(error) = watch_ended(&response, after) {
            tracing::debug!(after, %error, "etcd ended a watch");
            let _ = tx.send(Err(error)).await;
            return;
        }
        for event in response.events() {
            let event = match convert_event(event) {
                Ok(event) => event,
                Err(error) => {
                    tracing::warn!(after, %error, "undecodable etcd watch event");
                    let _ = tx.send(Err(error)).await;
                    return;
                }
            };
            if event.revision() <= after {
                continue;
            }
            if tx.send(Ok(event)).await.is_err() {
                return;
            }
        }
    }
}

/// Why etcd stopped a watch, if this response says it did.
fn watch_ended(response: &WatchResponse, after: Revision) -> Option<StorageError> {
    if response.compact_revision() != 0 {
        Some(StorageError::Compacted {
            requested: after,
            compacted: response.compact_revision(),
        })
    } else if response.canceled() {
        Some(
            etcd_client::Error::WatchError(format!(
                "etcd canceled the watch: {}",
                response.cancel_reason()
            ))
            .into(),
        )
    } else {
        None
    }
}

fn watch_closed() -> StorageError {
    etcd_client::Error::WatchError("etcd closed the watch stream".to_owned()).into()
}

/// Which revision bound an etcd read ran into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RevisionFault {
    Compacted,
    Future,
}

/// Recognises etcd's revision errors, which arrive as gRPC statuses (OutOfRange) known only
/// by their message.
fn classify(error: &etcd_client::Error) -> Option<RevisionFault> {
    match error {
        etcd_client::Error::GRpcStatus(status) => classify_message(status.message()),
        _ => None,
    }
}

fn classify_message(message: &str) -> Option<RevisionFault> {
    if message.contains("required revision has been compacted") {
        Some(RevisionFault::Compacted)
    } else if message.contains("required revision is a future revision") {
        Some(RevisionFault::Future)
    } else {
        None
    }
}

/// An answer from etcd this backend cannot make sense of.
fn unexpected(message: String) -> StorageError {
    etcd_client::Error::Internal(message).into()
}

fn header_revision(header: Option<&ResponseHeader>) -> Result<Revision, StorageError> {
    header
        .map(ResponseHeader::revision)
        .ok_or_else(|| unexpected("etcd response without a header".to_owned()))
}

/// The keys a transaction's single get returned.
fn single_get(response: &TxnResponse) -> Result<Vec<KeyValue>, StorageError> {
    match response.op_responses().into_iter().next() {
        Some(TxnOpResponse::Get(get)) => get_kvs(get),
        other => Err(unexpected(format!(
            "transaction answered {other:?} instead of a get"
        ))),
    }
}

fn get_kvs(mut response: GetResponse) -> Result<Vec<KeyValue>, StorageError> {
    response.take_kvs().into_iter().map(convert_kv).collect()
}

fn decode_key(key: &[u8]) -> Result<String, StorageError> {
    std::str::from_utf8(key)
        .map(str::to_owned)
        .map_err(|e| StorageError::Corrupt(format!("non-UTF-8 key {key:?} in etcd: {e}")))
}

fn convert_kv(kv: etcd_client::KeyValue) -> Result<KeyValue, StorageError> {
    let create_revision = kv.create_revision();
    let mod_revision = kv.mod_revision();
    let (key, value) = kv.into_key_value();
    Ok(KeyValue {
        key: decode_key(&key)?,
        value: Bytes::from(value),
        create_revision,
        mod_revision,
    })
}

fn convert_kv_ref(kv: &etcd_client::KeyValue) -> Result<KeyValue, StorageError> {
    Ok(KeyValue {
        key: decode_key(kv.key())?,
        value: Bytes::copy_from_slice(kv.value()),
        create_revision: kv.create_revision(),
        mod_revision: kv.mod_revision(),
    })
}

fn convert_event(event: &etcd_client::Event) -> Result<Event, StorageError> {
    let kv = event
        .kv()
        .ok_or_else(|| unexpected("etcd watch event without a key".to_owned()))?;
    let kv = convert_kv_ref(kv)?;
    let kind = match event.event_type() {
        EventType::Put if kv.create_revision == kv.mod_revision => EventKind::Created,
        EventType::Put => EventKind::Updated,
        EventType::Delete => EventKind::Deleted,
    };
    let prev_kv = match kind {
        // A key created again after a deletion has no previous value.
        EventKind::Created => None,
        _ => event.prev_kv().map(convert_kv_ref).transpose()?,
    };
    Ok(Event { kind, kv, prev_kv })
}

/// The first key of a prefix range. etcd rejects an empty key, and "\0" starts the keyspace.
fn range_start(prefix: &str) -> Vec<u8> {
    if prefix.is_empty() {
        vec![0]
    } else {
        prefix.as_bytes().to_vec()
    }
}

/// The end (exclusive) of a prefix range; "\0" is etcd's "to the end of the keyspace".
fn range_end(prefix: &str) -> Vec<u8> {
    prefix_end(prefix.as_bytes()).unwrap_or_else(|| vec![0])
}

/// Where a page starts: just after `after_key` (its successor is the key plus a zero byte),
/// but never before the prefix, so a stray `after_key` cannot widen the range.
fn list_start(prefix: &str, after_key: Option<&str>) -> Vec<u8> {
    let start = range_start(prefix);
    match after_key {
        Some(after) => {
            let mut next = after.as_bytes().to_vec();
            next.push(0);
            next.max(start)
        }
        None => start,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_etcd_revision_errors() {
        assert_eq!(
            classify_message("etcdserver: mvcc: required revision has been compacted"),
            Some(RevisionFault::Compacted)
        );
        assert_eq!(
            classify_message("etcdserver: mvcc: required revision is a future revision"),
            Some(RevisionFault::Future)
        );
        assert_eq!(classify_message("etcdserver: request timed out"), None);
        assert_eq!(
            classify(&etcd_client::Error::WatchError(
                "required revision has been compacted".to_owned()
            )),
            None,
            "only gRPC statuses carry etcd's revision errors"
        );
    }

    #[test]
    fn ranges_follow_etcd_conventions() {
        assert_eq!(range_start(""), vec![0]);
        assert_eq!(range_end(""), vec![0]);
        assert_eq!(range_start("/a/"), b"/a/".to_vec());
        assert_eq!(range_end("/a/"), b"/a0".to_vec());
    }

    #[test]
    fn pages_start_after_the_last_key_but_inside_the_prefix() {
        assert_eq!(list_start("/a/", None), b"/a/".to_vec());
        assert_eq!(list_start("/a/", Some("/a/x")), b"/a/x\0".to_vec());
        assert_eq!(list_start("/a/", Some("/0")), b"/a/".to_vec());
    }

    #[test]
    fn non_utf8_keys_are_corrupt() {
        assert!(matches!(
            decode_key(&[0xff, 0xfe]),
            Err(StorageError::Corrupt(_))
        ));
        assert_eq!(decode_key(b"/a").ok().as_deref(), Some("/a"));
    }

    /// Against a real etcd: the bounds etcd leaves out of its errors are filled in.
    #[tokio::test]
    async fn revision_errors_carry_their_bounds() -> Result<(), Box<dyn std::error::Error>> {
        let server = tokio::task::spawn_blocking(ferrokube_testkit::EtcdServer::start).await??;
        let store = EtcdStore::connect(&[server.endpoint()]).await?;
        let mut last = 0;
        for i in 0..5 {
            last = store
                .create(&format!("/t/{i}"), Bytes::from_static(b"v"))
                .await?
                .mod_revision;
        }
        store.compact(last - 1).await?;
        store.compact(last - 2).await?; // already compacted: a no-op
        match store.get("/t/0", Some(last - 3)).await {
            Err(StorageError::Compacted {
                requested,
                compacted,
            }) => {
                assert_eq!((requested, compacted), (last - 3, last - 1));
            }
            other => panic!("expected Compacted, got {other:?}"),
        }
        match store.get("/t/0", Some(last + 10)).await {
            Err(StorageError::FutureRevision { requested, current }) => {
                assert_eq!((requested, current), (last + 10, last));
            }
            other => panic!("expected FutureRevision, got {other:?}"),
        }
        match store.watch("/t/", last - 2).await {
            Err(StorageError::Compacted { compacted, .. }) => assert_eq!(compacted, last - 1),
            Err(other) => panic!("expected Compacted, got {other}"),
            Ok(_) => panic!("expected Compacted, got a stream"),
        }
        assert!(store.watch("/t/", last - 1).await.is_ok());
        assert!(matches!(
            store.compact(last + 10).await,
            Err(StorageError::FutureRevision { .. })
        ));
        Ok(())
    }

    /// etcd's count of live watchers, from its metrics endpoint.
    async fn etcd_watchers(endpoint: &str) -> Result<u64, Box<dyn std::error::Error>> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let address = endpoint.trim_start_matches("http://");
        let mut socket = tokio::net::TcpStream::connect(address).await?;
        socket
            .write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .await?;
        let mut body = String::new();
        socket.read_to_string(&mut body).await?;
        let line = body
            .lines()
            .find(|line| line.starts_with("etcd_debugging_mvcc_watcher_total "))
            .ok_or("no watcher gauge in etcd's metrics")?;
        let value = line.rsplit(' ').next().ok_or("empty metric line")?;
        Ok(value.parse::<f64>()? as u64)
    }

    /// Against a real etcd: dropping the stream cancels the etcd watch behind it.
    #[tokio::test]
    async fn dropping_the_stream_cancels_the_watch() -> Result<(), Box<dyn std::error::Error>> {
        let server = tokio::task::spawn_blocking(ferrokube_testkit::EtcdServer::start).await??;
        let endpoint = server.endpoint();
        let store = EtcdStore::connect(std::slice::from_ref(&endpoint)).await?;
        let before = etcd_watchers(&endpoint).await?;
        let stream = store.watch("/d/", 0).await?;
        assert_eq!(etcd_watchers(&endpoint).await?, before + 1);
        drop(stream);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while etcd_watchers(&endpoint).await? != before {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the etcd watch outlived its stream"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Against a real etcd: writes, pages and a watch see the same revisions.
    #[tokio::test]
    async fn writes_pages_and_watch_agree() -> Result<(), Box<dyn std::error::Error>> {
        use futures::StreamExt;

        let server = tokio::task::spawn_blocking(ferrokube_testkit::EtcdServer::start).await??;
        let store = EtcdStore::connect(&[server.endpoint()]).await?;
        let start = store.current_revision().await?;
        let mut watch = store.watch("/w/", start).await?;

        let created = store.create("/w/a", Bytes::from_static(b"1")).await?;
        assert!(matches!(
            store.create("/w/a", Bytes::from_static(b"x")).await,
            Err(StorageError::AlreadyExists { .. })
        ));
        let updated = store
            .update("/w/a", Bytes::from_static(b"2"), created.mod_revision)
            .await?;
        assert_eq!(updated.create_revision, created.create_revision);
        match store
            .update("/w/a", Bytes::from_static(b"3"), created.mod_revision)
            .await
        {
            Err(StorageError::Conflict { current, .. }) => assert_eq!(*current, updated),
            other => panic!("expected Conflict, got {other:?}"),
        }
        assert!(matches!(
            store.update("/w/none", Bytes::from_static(b"3"), 0).await,
            Err(StorageError::NotFound { .. })
        ));
        store.create("/w/b", Bytes::from_static(b"b")).await?;
        store.create("/w/c", Bytes::from_static(b"c")).await?;
        store.create("/x", Bytes::from_static(b"outside")).await?;
        let deleted = store.delete("/w/a", Some(updated.mod_revision)).await?;
        assert_eq!(deleted.prev, updated);
        assert!(matches!(
            store.delete("/w/a", None).await,
            Err(StorageError::NotFound { .. })
        ));

        let first = store
            .list(ListRequest {
                prefix: "/w/".into(),
                limit: Some(1),
                ..ListRequest::default()
            })
            .await?;
        assert_eq!((first.items.len(), first.remaining), (1, 1));
        store.create("/w/d", Bytes::from_static(b"d")).await?;
        let second = store
            .list(ListRequest {
                prefix: "/w/".into(),
                after_key: Some(first.items[0].key.clone()),
                revision: Some(first.revision),
                limit: Some(10),
            })
            .await?;
        assert_eq!(second.revision, first.revision);
        assert_eq!(second.items.len(), 1);
        assert_eq!(second.items[0].key, "/w/c");
        assert!(!second.more());
        assert_eq!(store.count("/w/").await?, 3);
        assert_eq!(store.count("").await?, 4);

        let mut kinds = Vec::new();
        for _ in 0..6 {
            let event = tokio::time::timeout(Duration::from_secs(10), watch.next())
                .await?
                .ok_or("watch ended")??;
            kinds.push((event.kind, event.kv.key.clone(), event.prev_kv.is_some()));
            if event.kind == EventKind::Deleted {
                assert_eq!(event.kv.mod_revision, deleted.revision);
                assert_eq!(event.prev_kv.as_ref(), Some(&updated));
            }
        }
        assert_eq!(
            kinds,
            vec![
                (EventKind::Created, "/w/a".to_owned(), false),
                (EventKind::Updated, "/w/a".to_owned(), true),
                (EventKind::Created, "/w/b".to_owned(), false),
                (EventKind::Created, "/w/c".to_owned(), false),
                (EventKind::Deleted, "/w/a".to_owned(), true),
                (EventKind::Created, "/w/d".to_owned(), false),
            ]
        );
        // A watch from a past revision replays, excluding that revision itself.
        let mut replay = store.watch("/w/", created.mod_revision).await?;
        let event = tokio::time::timeout(Duration::from_secs(10), replay.next())
            .await?
            .ok_or("watch ended")??;
        assert_eq!(event.kv, updated);
        Ok(())
    }
}
