//! Watches on the embedded store. Each commit is published once as a shared batch; a
//! watcher first replays the log from its start revision, then follows the published
//! batches. A watcher that falls behind the broadcast buffer replays the log again from the
//! last revision it handled, so no event is ever skipped.

use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::reader::{self, KeyRange, ReaderPool};
use crate::storage::{Event, EventKind, KeyValue, Revision, StorageError, WatchStream};

/// Log rows read per catch-up query.
const REPLAY_PAGE: usize = 1024;
/// Events buffered per watcher before the watcher waits for its consumer.
const WATCHER_BUFFER: usize = 1024;

/// What a watcher follows.
pub(super) struct Scope<'a> {
    /// Keys under this prefix.
    pub prefix: &'a str,
    /// Changes after this revision.
    pub after: Revision,
    /// Whether to report progress past changes outside the prefix.
    pub progress: bool,
}

/// Starts a watcher task; it ends when the returned stream is dropped.
pub(super) fn spawn(
    readers: Arc<ReaderPool>,
    published: &broadcast::Sender<Arc<[Event]>>,
    scope: Scope<'_>,
) -> WatchStream {
    // Subscribe before replaying: every commit is then either in the replay or received.
    let batches = published.subscribe();
    let (sender, receiver) = mpsc::channel(WATCHER_BUFFER);
    let watcher = Watcher {
        readers,
        range: KeyRange::prefix(scope.prefix),
        last: scope.after,
        progress: scope.progress,
        sender,
    };
    tokio::spawn(watcher.run(batches));
    ReceiverStream::new(receiver).boxed()
}

struct Watcher {
    readers: Arc<ReaderPool>,
    range: KeyRange,
    /// Every change up to this revision has been handled (sent or filtered out).
    last: Revision,
    /// Report progress past changes outside the range.
    progress: bool,
    sender: mpsc::Sender<Result<Event, StorageError>>,
}

/// Why a watcher stops.
enum Stop {
    /// The consumer dropped the stream.
    Gone,
    /// An error to hand to the consumer before ending.
    Failed(StorageError),
}

impl Watcher {
    async fn run(mut self, mut batches: broadcast::Receiver<Arc<[Event]>>) {
        let stop = match self.replay().await {
            Ok(()) => self.follow(&mut batches).await,
            Err(stop) => stop,
        };
        if let Stop::Failed(error) = stop {
            let _ = self.sender.send(Err(error)).await;
        }
    }

    async fn follow(&mut self, batches: &mut broadcast::Receiver<Arc<[Event]>>) -> Stop {
        loop {
            let received = tokio::select! {
                _ = self.sender.closed() => return Stop::Gone,
                received = batches.recv() => received,
            };
            let result = match received {
                Ok(batch) => self.deliver(&batch).await,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!(
                        missed,
                        after = self.last,
                        "watcher lagged; replaying the log"
                    );
                    self.replay().await
                }
                Err(broadcast::error::RecvError::Closed) => Err(Stop::Failed(StorageError::Closed)),
            };
            if let Err(stop) = result {
                return stop;
            }
        }
    }

    async fn deliver(&mut self, batch: &[Event]) -> Result<(), Stop> {
        // The revision the consumer knows about: the last event sent or reported.
        let mut reported = self.last;
        for event in batch {
            if event.revision() <= self.last {
                continue;
            }
            self.last = event.revision();
            if self.range.contains(&event.kv.key) {
                self.send(event.clone()).await?;
                reported = self.last;
            }
        }
        if self.progress && self.last > reported {
            self.send(progress(self.last)).await?;
        }
        Ok(())
    }

    /// Sends every logged change after `last`, up to the newest committed revision.
    async fn replay(&mut self) -> Result<(), Stop> {
        loop {
            let range = self.range.clone();
            let after = self.last;
            let page = self
                .readers
                .read(move |conn| reader::history(conn, &range, after, REPLAY_PAGE))
                .await
                .map_err(Stop::Failed)?;
            let newest_sent = page.events.last().map(Event::revision);
            for event in page.events {
                self.send(event).await?;
            }
            if page.full {
                if let Some(revision) = newest_sent {
                    self.last = revision;
                }
            } else {
                self.last = self.last.max(page.revision);
                if self.progress {
                    self.send(progress(self.last)).await?;
                }
                return Ok(());
            }
        }
    }

    async fn send(&self, event: Event) -> Result<(), Stop> {
        self.sender.send(Ok(event)).await.map_err(|_| Stop::Gone)
    }
}

/// A progress event: nothing in range changed up to `revision`.
fn progress(revision: Revision) -> Event {
    Event {
        kind: EventKind::Progress,
        kv: KeyValue {
            key: String::new(),
            value: bytes::Bytes::new(),
            create_revision: 0,
            mod_revision: revision,
        },
        prev_kv: None,
    }
}
