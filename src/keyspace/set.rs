//! The set value type. Its encodings and operations arrive with issue 3;
//! this placeholder gives the keyspace, DEBUG DIGEST and the RDB code the
//! shape they plug into.

/// A set value.
#[derive(Clone, Debug, Default)]
pub struct Set {}

impl Set {
    /// Number of elements.
    pub fn len(&self) -> usize {
        0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "intset"
    }

    /// Heap bytes owned by the value.
    pub fn heap_size(&self) -> usize {
        0
    }
}
