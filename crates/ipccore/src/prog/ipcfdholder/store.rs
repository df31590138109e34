//! The table of held fds: by identifier, and by expiry date for the timeouts.
//!
//! An fd is an `Rc<OwnedFd>`: an answer queued for a client shares it, so an fd that
//! is deleted or expires while a retrieve answer waits to be sent stays open until
//! the kernel has it (s6-fdholderd queues the bare number, which may be closed, or
//! reused, by then). The fd closes when its last holder drops it.
//! Left out: access rules and the wire (see `daemon`, `wire`).

use crate::formats::fdholder::Tain;
use rustix::fd::OwnedFd;
use std::collections::BTreeMap;
use std::rc::Rc;

/// One held fd.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The fd itself, shared with any retrieve or dump answer still waiting to be sent.
    pub fd: Rc<OwnedFd>,
    /// When the daemon closes it (TAI64N, s6-fdholder-store's `-T` from the time of
    /// storing; far in the future for no timeout).
    pub limit: Tain,
}

/// The held fds, at most `max`.
#[derive(Debug)]
pub struct Store {
    by_id: BTreeMap<Vec<u8>, Entry>,
    by_limit: BTreeMap<Tain, Vec<u8>>,
    max: usize,
}

impl Store {
    /// An empty store that holds at most `max` fds.
    pub fn new(max: usize) -> Store {
        Store {
            by_id: BTreeMap::new(),
            by_limit: BTreeMap::new(),
            max,
        }
    }

    /// How many fds are held.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no fd is held.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The most fds this store holds.
    pub fn max(&self) -> usize {
        self.max
    }

    /// The fd held under `id`, with its expiry date.
    pub fn get(&self, id: &[u8]) -> Option<&Entry> {
        self.by_id.get(id)
    }

    /// Hold `fd` under `id` until `limit`, replacing (and closing) any fd held under
    /// `id`. Two fds never share an expiry date: as s6-fdholderd, a later one is moved
    /// on by a nanosecond until it is unique.
    pub fn insert(&mut self, id: Vec<u8>, fd: Rc<OwnedFd>, limit: Tain) {
        self.remove(&id);
        let mut limit = limit;
        while self.by_limit.contains_key(&limit) {
            limit = limit.plus(Tain { sec: 0, nano: 1 });
        }
        self.by_limit.insert(limit, id.clone());
        self.by_id.insert(id, Entry { fd, limit });
    }

    /// Stop holding the fd under `id`, and hand it back.
    pub fn remove(&mut self, id: &[u8]) -> Option<Entry> {
        let e = self.by_id.remove(id)?;
        self.by_limit.remove(&e.limit);
        Some(e)
    }

    /// Drop every fd whose date is not after `now`; returns how many went.
    pub fn expire(&mut self, now: Tain) -> usize {
        let mut n = 0;
        while let Some((&t, _)) = self.by_limit.first_key_value() {
            if t > now {
                break;
            }
            if let Some((_, id)) = self.by_limit.pop_first() {
                self.by_id.remove(&id);
                n += 1;
            }
        }
        n
    }

    /// The earliest expiry date.
    pub fn next_limit(&self) -> Option<Tain> {
        self.by_limit.first_key_value().map(|(t, _)| *t)
    }

    /// Every held fd, by identifier.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Vec<u8>, &Entry)> {
        self.by_id.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_expire_replace() -> Result<(), Box<dyn std::error::Error>> {
        let mut s = Store::new(10);
        let (a, b) = rustix::pipe::pipe()?;
        let t = Tain { sec: 100, nano: 0 };
        s.insert(b"a".to_vec(), Rc::new(a), t);
        s.insert(b"b".to_vec(), Rc::new(b), t);
        assert_eq!(s.get(b"b").ok_or("b")?.limit, Tain { sec: 100, nano: 1 });
        assert_eq!(s.next_limit(), Some(t));
        assert_eq!(s.expire(Tain { sec: 99, nano: 0 }), 0);
        assert_eq!(s.expire(t), 1);
        assert_eq!(s.len(), 1);
        let (c, _d) = rustix::pipe::pipe()?;
        s.insert(b"b".to_vec(), Rc::new(c), Tain { sec: 5, nano: 0 });
        assert_eq!(s.len(), 1);
        assert_eq!(s.next_limit(), Some(Tain { sec: 5, nano: 0 }));
        assert!(s.remove(b"b").is_some());
        assert!(s.is_empty() && s.next_limit().is_none());
        Ok(())
    }
}
