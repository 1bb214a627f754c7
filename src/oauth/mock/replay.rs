//! The replay store: each client's live `jti`s until their grant's `exp`,
//! bounded at [`MAX_JTIS`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// Most live grants remembered for replay detection.
pub const MAX_JTIS: usize = 1_000_000;

/// Replay store: jti → exp, and a heap to drop them when they expire.
#[derive(Default)]
pub(super) struct JtiStore {
    pub(super) live: HashMap<String, i64>,
    by_exp: BinaryHeap<Reverse<(i64, String)>>,
}

pub(super) enum Remember {
    New,
    Seen,
    Full,
}

impl JtiStore {
    fn prune(&mut self, now: i64) {
        while let Some(Reverse((exp, _))) = self.by_exp.peek() {
            if *exp > now {
                break;
            }
            if let Some(Reverse((exp, key))) = self.by_exp.pop()
                && self.live.get(&key) == Some(&exp)
            {
                self.live.remove(&key);
            }
        }
    }

    pub(super) fn remember(&mut self, key: String, exp: i64, now: i64) -> Remember {
        self.prune(now);
        if self.live.contains_key(&key) {
            return Remember::Seen;
        }
        if self.live.len() >= MAX_JTIS {
            return Remember::Full;
        }
        self.live.insert(key.clone(), exp);
        self.by_exp.push(Reverse((exp, key)));
        Remember::New
    }
}
