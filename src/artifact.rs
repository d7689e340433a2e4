//! The in-process artifact store: what the sources pulled, kept by digest
//! for the releases that use it.
//!
//! - One entry per layer digest, however many sources point at it; each
//!   source (an "owner", e.g. `OCIRepository/ns/name`) references at most
//!   one digest at a time.
//! - Bytes are stored as pulled (already verified against their digest by
//!   `berth-oci`); a chart is unpacked lazily, on first use, and the result
//!   is kept with the entry.
//! - The total size is bounded: to make room, entries no owner references
//!   are evicted, least recently used first. An artifact that does not fit
//!   even then is refused ([`StoreError::Full`]) rather than pushing out a
//!   referenced one.
//! - Nothing is persisted: after a restart, the sources pull again by
//!   digest.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use berth_oci::Digest;

/// Default bound on the bytes kept (all entries together).
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 1024 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error(
        "failed to store {digest} ({size} bytes): the artifact store holds {used} of {limit} bytes \
         in artifacts still in use"
    )]
    Full {
        digest: String,
        size: u64,
        used: u64,
        limit: u64,
    },
}

/// One stored artifact.
#[derive(Debug)]
pub struct StoredArtifact {
    pub digest: Digest,
    pub media_type: String,
    bytes: Vec<u8>,
    chart: OnceLock<Result<Arc<berth_chart::Chart>, String>>,
}

impl StoredArtifact {
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// The chart in this artifact (a Helm chart `.tgz`), unpacked on first
    /// call; later calls share the result, error included.
    pub fn chart(&self) -> Result<Arc<berth_chart::Chart>, String> {
        self.chart
            .get_or_init(|| {
                berth_chart::load::load_archive(&self.bytes)
                    .map(Arc::new)
                    .map_err(|e| format!("failed to load the chart in {}: {e}", self.digest))
            })
            .clone()
    }
}

struct Entry {
    artifact: Arc<StoredArtifact>,
    last_used: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Digest, Entry>,
    /// Owner → the digest it references.
    owners: HashMap<String, Digest>,
    total: u64,
    clock: u64,
}

impl Inner {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    fn referenced(&self, digest: &Digest) -> bool {
        self.owners.values().any(|d| d == digest)
    }

    /// Evict unreferenced entries, oldest first, until `needed` more bytes
    /// fit under `limit` (or nothing is left to evict).
    fn make_room(&mut self, needed: u64, limit: u64) {
        while self.total.saturating_add(needed) > limit {
            let victim = self
                .entries
                .iter()
                .filter(|(d, _)| !self.referenced(d))
                .min_by_key(|(_, e)| e.last_used)
                .map(|(d, _)| d.clone());
            let Some(d) = victim else { return };
            if let Some(e) = self.entries.remove(&d) {
                self.total -= e.artifact.size();
                tracing::debug!(digest = %d, size = e.artifact.size(), "evicted an unreferenced artifact");
            }
        }
    }
}

/// The store; share it with `Arc`.
pub struct ArtifactStore {
    inner: Mutex<Inner>,
    max_total_bytes: u64,
}

impl Default for ArtifactStore {
    fn default() -> Self {
        ArtifactStore::new(DEFAULT_MAX_TOTAL_BYTES)
    }
}

impl ArtifactStore {
    pub fn new(max_total_bytes: u64) -> ArtifactStore {
        ArtifactStore {
            inner: Mutex::new(Inner::default()),
            max_total_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The artifact of `digest`, if stored.
    pub fn get(&self, digest: &Digest) -> Option<Arc<StoredArtifact>> {
        let mut inner = self.lock();
        let now = inner.tick();
        let e = inner.entries.get_mut(digest)?;
        e.last_used = now;
        Some(e.artifact.clone())
    }

    pub fn contains(&self, digest: &Digest) -> bool {
        self.lock().entries.contains_key(digest)
    }

    /// Store `bytes` (already verified against `digest`) and make `owner`
    /// reference it, releasing what `owner` referenced before. When the
    /// digest is already stored, the stored bytes are kept.
    pub fn put(
        &self,
        owner: &str,
        digest: &Digest,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> Result<Arc<StoredArtifact>, StoreError> {
        let mut inner = self.lock();
        let now = inner.tick();
        if let Some(e) = inner.entries.get_mut(digest) {
            e.last_used = now;
            let artifact = e.artifact.clone();
            inner.owners.insert(owner.to_string(), digest.clone());
            return Ok(artifact);
        }
        let size = bytes.len() as u64;
        // What `owner` referenced before no longer needs to stay for it.
        let previous = inner.owners.remove(owner);
        // Refuse before evicting anything when even a store emptied of
        // every unreferenced entry could not hold it.
        let in_use: u64 = inner
            .entries
            .iter()
            .filter(|(d, _)| inner.referenced(d))
            .map(|(_, e)| e.artifact.size())
            .sum();
        if in_use.saturating_add(size) > self.max_total_bytes {
            if let Some(p) = previous {
                inner.owners.insert(owner.to_string(), p);
            }
            return Err(StoreError::Full {
                digest: digest.to_string(),
                size,
                used: in_use,
                limit: self.max_total_bytes,
            });
        }
        inner.make_room(size, self.max_total_bytes);
        let artifact = Arc::new(StoredArtifact {
            digest: digest.clone(),
            media_type: media_type.to_string(),
            bytes,
            chart: OnceLock::new(),
        });
        inner.total += size;
        inner.entries.insert(
            digest.clone(),
            Entry {
                artifact: artifact.clone(),
                last_used: now,
            },
        );
        inner.owners.insert(owner.to_string(), digest.clone());
        Ok(artifact)
    }

    /// Make `owner` reference the stored `digest` (releasing its previous
    /// one); false when the digest is not stored (pull it again).
    pub fn retain(&self, owner: &str, digest: &Digest) -> bool {
        let mut inner = self.lock();
        let now = inner.tick();
        match inner.entries.get_mut(digest) {
            Some(e) => {
                e.last_used = now;
                inner.owners.insert(owner.to_string(), digest.clone());
                true
            }
            None => false,
        }
    }

    /// `owner` no longer references anything (its source was deleted).
    /// The entry stays until room is needed.
    pub fn release(&self, owner: &str) {
        self.lock().owners.remove(owner);
    }

    /// Bytes stored, all entries together.
    pub fn total_bytes(&self) -> u64 {
        self.lock().total
    }

    /// Number of stored artifacts.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(n: usize, fill: u8) -> (Digest, Vec<u8>) {
        let b = vec![fill; n];
        (Digest::sha256_of(&b), b)
    }

    #[test]
    fn one_entry_per_digest() {
        let s = ArtifactStore::new(1000);
        let (d, b) = blob(100, 1);
        let a1 = s.put("r/a", &d, "m", b.clone()).unwrap();
        let a2 = s.put("r/b", &d, "m", b).unwrap();
        assert!(Arc::ptr_eq(&a1, &a2));
        assert_eq!(s.len(), 1);
        assert_eq!(s.total_bytes(), 100);
        assert_eq!(s.get(&d).unwrap().bytes().len(), 100);
    }

    #[test]
    fn evicts_unreferenced_lru_first() {
        let s = ArtifactStore::new(300);
        let (d1, b1) = blob(100, 1);
        let (d2, b2) = blob(100, 2);
        let (d3, b3) = blob(100, 3);
        let (d4, b4) = blob(100, 4);
        s.put("a", &d1, "m", b1).unwrap();
        s.put("a", &d2, "m", b2).unwrap(); // d1 unreferenced now
        s.put("b", &d3, "m", b3).unwrap();
        assert_eq!(s.len(), 3);
        s.put("c", &d4, "m", b4).unwrap(); // evicts d1, the only free one
        assert!(!s.contains(&d1));
        assert!(s.contains(&d2) && s.contains(&d3) && s.contains(&d4));
        assert_eq!(s.total_bytes(), 300);
    }

    #[test]
    fn refuses_rather_than_evict_referenced() {
        let s = ArtifactStore::new(250);
        let (d1, b1) = blob(100, 1);
        let (d2, b2) = blob(100, 2);
        let (d3, b3) = blob(100, 3);
        s.put("a", &d1, "m", b1).unwrap();
        s.put("b", &d2, "m", b2).unwrap();
        let err = s.put("c", &d3, "m", b3).unwrap_err();
        assert!(matches!(err, StoreError::Full { used: 200, .. }), "{err}");
        assert!(s.contains(&d1) && s.contains(&d2));
        // An owner replacing its own artifact frees its old one.
        let (d4, b4) = blob(150, 4);
        s.put("a", &d4, "m", b4).unwrap();
        assert!(!s.contains(&d1));
        // A failed put keeps the owner's previous reference.
        let (d5, b5) = blob(200, 5);
        assert!(s.put("b", &d5, "m", b5).is_err());
        assert!(s.contains(&d2));
        s.release("b");
        let (d6, b6) = blob(100, 6);
        s.put("c", &d6, "m", b6).unwrap();
        assert!(!s.contains(&d2));
    }

    #[test]
    fn retain_needs_the_entry() {
        let s = ArtifactStore::new(1000);
        let (d, b) = blob(10, 1);
        assert!(!s.retain("a", &d));
        s.put("x", &d, "m", b).unwrap();
        assert!(s.retain("a", &d));
    }

    #[test]
    fn chart_errors_are_kept() {
        let s = ArtifactStore::new(1000);
        let (d, b) = blob(10, 1);
        let a = s.put("x", &d, "m", b).unwrap();
        let e1 = a.chart().unwrap_err();
        assert_eq!(a.chart().unwrap_err(), e1);
        assert!(e1.contains(&d.to_string()), "{e1}");
    }
}
