//! Completion indexes of Indexed Jobs as ordered intervals, printed and parsed the way
//! upstream writes `status.completedIndexes` and `status.failedIndexes` ("1,3-5,7").

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1::Pod;

/// The annotation (and label) carrying a pod's completion index.
pub const COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";

/// One closed interval of indexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    /// The first index.
    pub first: i32,
    /// The last index (inclusive).
    pub last: i32,
}

/// Disjoint, non-adjacent intervals in increasing order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Intervals(pub Vec<Interval>);

impl Intervals {
    /// Parses upstream's format, ignoring corrupted parts and indexes at or beyond
    /// `completions` (as upstream does).
    pub fn parse(text: &str, completions: i32) -> Self {
        let mut result: Vec<Interval> = Vec::new();
        if text.is_empty() {
            return Self(result);
        }
        for part in text.split(',') {
            let limits: Vec<&str> = part.split('-').collect();
            let Ok(first) = limits[0].parse::<i32>() else {
                tracing::info!(interval = part, "corrupted indexes interval, ignoring");
                continue;
            };
            if first >= completions {
                break;
            }
            let last = if limits.len() > 1 {
                match limits[1].parse::<i32>() {
                    Ok(last) => last.min(completions - 1),
                    Err(_) => {
                        tracing::info!(interval = part, "corrupted indexes interval, ignoring");
                        continue;
                    }
                }
            } else {
                first
            };
            match result.last_mut() {
                Some(previous) if previous.last == first - 1 => previous.last = last,
                _ => result.push(Interval { first, last }),
            }
        }
        Self(result)
    }

    /// These intervals plus `indexes` (given in increasing order).
    pub fn with_indexes(&self, indexes: &[i32]) -> Self {
        let added = Self(
            indexes
                .iter()
                .map(|&index| Interval {
                    first: index,
                    last: index,
                })
                .collect(),
        );
        self.merge(&added)
    }

    /// The union of two interval lists.
    pub fn merge(&self, other: &Self) -> Self {
        let mut all: Vec<Interval> = self.0.iter().chain(other.0.iter()).copied().collect();
        all.sort_by_key(|interval| interval.first);
        let mut result: Vec<Interval> = Vec::with_capacity(all.len());
        for interval in all {
            match result.last_mut() {
                Some(previous) if interval.first <= previous.last + 1 => {
                    previous.last = previous.last.max(interval.last);
                }
                _ => result.push(interval),
            }
        }
        Self(result)
    }

    /// How many indexes the intervals hold.
    pub fn total(&self) -> i32 {
        self.0
            .iter()
            .map(|interval| interval.last - interval.first + 1)
            .sum()
    }

    /// Whether `index` is in one of the intervals.
    pub fn has(&self, index: i32) -> bool {
        let position = self.0.partition_point(|interval| interval.last < index);
        self.0
            .get(position)
            .is_some_and(|interval| interval.first <= index)
    }

    /// Whether there are no indexes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Intervals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, interval) in self.0.iter().enumerate() {
            if position > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", interval.first)?;
            if interval.last == interval.first + 1 {
                write!(f, ",{}", interval.last)?;
            } else if interval.last > interval.first {
                write!(f, "-{}", interval.last)?;
            }
        }
        Ok(())
    }
}

/// A pod's completion index from its annotation, `None` if absent or not a valid index.
pub fn completion_index(pod: &Pod) -> Option<i32> {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|annotations| annotations.get(COMPLETION_INDEX))
        .and_then(|value| value.parse::<i32>().ok())
        .filter(|index| *index >= 0)
}

/// The first `count` indexes below `completions` not in `taken`.
pub fn first_pending(taken: &Intervals, count: usize, completions: i32) -> Vec<i32> {
    let mut result = Vec::with_capacity(count);
    let mut candidate = 0;
    for interval in &taken.0 {
        while candidate < completions && result.len() < count && candidate < interval.first {
            result.push(candidate);
            candidate += 1;
        }
        if candidate < interval.last + 1 {
            candidate = interval.last + 1;
        }
    }
    while candidate < completions && result.len() < count {
        result.push(candidate);
        candidate += 1;
    }
    result
}

/// The set of indexes of `pods`, in order.
pub fn indexes_of<'a>(pods: impl IntoIterator<Item = &'a Pod>) -> Vec<i32> {
    let mut set: BTreeMap<i32, ()> = BTreeMap::new();
    for pod in pods {
        if let Some(index) = completion_index(pod) {
            set.insert(index, ());
        }
    }
    set.into_keys().collect()
}

#[cfg(test)]
mod tests {
    use super::{first_pending, Interval, Intervals};

    #[test]
    fn printed_as_upstream() {
        let intervals = Intervals::default().with_indexes(&[0, 1, 2, 4, 6, 7]);
        assert_eq!(intervals.to_string(), "0-2,4,6,7");
        assert_eq!(intervals.total(), 6);
        assert!(intervals.has(4) && !intervals.has(5) && intervals.has(7));
    }

    #[test]
    fn parsed_with_limits() {
        let parsed = Intervals::parse("0-2,4,x,6-9", 8);
        assert_eq!(
            parsed.0,
            vec![
                Interval { first: 0, last: 2 },
                Interval { first: 4, last: 4 },
                Interval { first: 6, last: 7 },
            ]
        );
        assert_eq!(Intervals::parse("3,4", 10).to_string(), "3,4");
        assert!(Intervals::parse("", 3).is_empty());
    }

    #[test]
    fn merged_and_pending() {
        let a = Intervals::parse("0,5-6", 10);
        let b = Intervals::parse("1-3,7", 10);
        assert_eq!(a.merge(&b).to_string(), "0-3,5-7");
        assert_eq!(first_pending(&a.merge(&b), 3, 10), vec![4, 8, 9]);
        assert_eq!(first_pending(&Intervals::default(), 2, 1), vec![0]);
    }
}
